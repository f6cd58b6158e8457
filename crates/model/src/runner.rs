//! [`NetRunner`]: a [`BlobNet`] on a device, as the inference server's [`BatchModel`].

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS};

use crate::net::BlobNet;
use crate::server::BatchModel;

/// Runs a network for the server. Use an inference backend (not `Autodiff`): for a training
/// network pass `net.valid()`.
pub struct NetRunner<B: Backend> {
    net: BlobNet<B>,
    device: B::Device,
}

impl<B: Backend> NetRunner<B> {
    pub fn new(net: BlobNet<B>, device: B::Device) -> NetRunner<B> {
        NetRunner { net, device }
    }

    pub fn net(&self) -> &BlobNet<B> {
        &self.net
    }

    pub fn device(&self) -> &B::Device {
        &self.device
    }

    pub fn into_net(self) -> BlobNet<B> {
        self.net
    }
}

impl<B: Backend> BatchModel for NetRunner<B> {
    fn forward(
        &mut self,
        inputs: &[f32],
        masks: &[f32],
        n: usize,
        policy: &mut Vec<f32>,
        values: &mut Vec<f32>,
    ) {
        // The server builds these from whole rows; a mismatch is a bug there, not bad input.
        assert_eq!(
            inputs.len(),
            n * ENCODING_LEN,
            "NetRunner: inputs are not n x 256"
        );
        assert_eq!(
            masks.len(),
            n * NUM_ACTIONS,
            "NetRunner: masks are not n x 52"
        );
        policy.clear();
        values.clear();
        if n == 0 {
            return;
        }
        // Burn tensors own their data, so each batch is one copy in; the output buffers are
        // reused.
        let x = Tensor::<B, 2>::from_data(
            TensorData::new(inputs.to_vec(), [n, ENCODING_LEN]),
            &self.device,
        );
        let m = Tensor::<B, 2>::from_data(
            TensorData::new(masks.to_vec(), [n, NUM_ACTIONS]),
            &self.device,
        );
        let out = self.net.forward(x, m);
        copy_out(out.log_policy, policy, n * NUM_ACTIONS);
        copy_out(out.values, values, n * MAX_PLAYERS);
    }
}

/// Appends the tensor's f32 elements to `buf`.
fn copy_out<B: Backend>(t: Tensor<B, 2>, buf: &mut Vec<f32>, len: usize) {
    let data = t.into_data();
    match data.as_slice::<f32>() {
        Ok(s) => buf.extend_from_slice(s),
        // A backend computing in another float type: convert element by element.
        Err(_) => buf.extend(data.iter::<f32>()),
    }
    assert_eq!(
        buf.len(),
        len,
        "NetRunner: the network returned the wrong number of outputs"
    );
}

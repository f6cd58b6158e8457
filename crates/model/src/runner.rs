//! [`NetRunner`]: a [`BlobNet`] on a device, as the inference server's [`BatchModel`].

use std::any::TypeId;

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS};
use mcts::value::{TRICK_CLASSES, value_from_tricks};

use crate::config::TRICK_OUTPUTS;

use crate::net::BlobNet;
use crate::plain::PlainNet;
use crate::server::BatchModel;

/// Runs a network for the server. Use an inference backend (not `Autodiff`): for a training
/// network pass `net.valid()`.
#[derive(Clone)]
pub struct NetRunner<B: Backend> {
    net: BlobNet<B>,
    device: B::Device,
    values_from_tricks: bool,
    tricks: Vec<f32>,
    /// The plain-`f32` forward pass, when this backend and network use it.
    plain: Option<PlainNet>,
}

impl<B: Backend> NetRunner<B> {
    /// A runner for `net`. When the network's config says `values_from_tricks`, the value of
    /// every seat that has bid comes from the tricks head instead of the value head
    /// (`mcts::value::value_from_tricks`; single rounds only: inside a game the value also
    /// counts the standing, which only the value head knows).
    ///
    /// On the CPU backend ([`crate::backend::Cpu`]) the forward pass runs as a
    /// [`PlainNet`], a plain-`f32` copy of the weights that computes the same outputs on the
    /// worker's own thread, out of the way of Burn's thread pool (a third more self-play
    /// rounds a minute in the benchmark, `docs/model.md`); other backends, and GELU
    /// networks, run Burn's [`BlobNet::forward`].
    pub fn new(net: BlobNet<B>, device: B::Device) -> NetRunner<B> {
        let mut runner = NetRunner::burn_only(net, device);
        if TypeId::of::<B>() == TypeId::of::<crate::backend::Cpu>() {
            runner.plain = PlainNet::new(&runner.net);
        }
        runner
    }

    /// A runner that always runs Burn's forward pass (to compare against, and to time).
    pub fn burn_only(net: BlobNet<B>, device: B::Device) -> NetRunner<B> {
        let config = net.config();
        let values_from_tricks = config.values_from_tricks && config.has_trick_head();
        NetRunner {
            net,
            device,
            values_from_tricks,
            tricks: Vec::new(),
            plain: None,
        }
    }

    /// [`NetRunner::burn_only`] when `burn`, else [`NetRunner::new`] (the benchmarks' switch).
    pub fn with_burn_forward(net: BlobNet<B>, device: B::Device, burn: bool) -> NetRunner<B> {
        if burn {
            NetRunner::burn_only(net, device)
        } else {
            NetRunner::new(net, device)
        }
    }

    /// Whether the forward pass runs as a [`PlainNet`] rather than through Burn.
    pub fn is_plain(&self) -> bool {
        self.plain.is_some()
    }

    /// The forward pass this runner uses: `plain` or `burn`.
    pub fn forward_name(&self) -> &'static str {
        if self.is_plain() { "plain" } else { "burn" }
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
        self.tricks.clear();
        if let Some(plain) = &mut self.plain {
            plain.forward(inputs, masks, n, policy, values, &mut self.tricks);
        } else {
            // Burn tensors own their data, so each batch is one copy in; the output buffers
            // are reused.
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
            if let (true, Some(logits)) = (self.values_from_tricks, out.trick_logits) {
                copy_out(logits, &mut self.tricks, n * TRICK_OUTPUTS);
            }
        }
        if self.values_from_tricks {
            for i in 0..n {
                values_from_trick_logits(
                    &inputs[i * ENCODING_LEN..(i + 1) * ENCODING_LEN],
                    &self.tricks[i * TRICK_OUTPUTS..(i + 1) * TRICK_OUTPUTS],
                    &mut values[i * MAX_PLAYERS..(i + 1) * MAX_PLAYERS],
                );
            }
        }
    }
}

/// Overwrites the values of the seats that have bid with the values their tricks
/// distributions imply (one row: the encoding, 8 x 18 trick logits, 8 values).
pub fn values_from_trick_logits(input: &[f32], logits: &[f32], values: &mut [f32]) {
    use game::encoding::offset;
    if game::encoding::is_in_game(input) {
        return;
    }
    let cards = game::encoding::cards_of(input) as f32;
    for (seat, value) in values.iter_mut().enumerate() {
        if input[offset::HAS_BID + seat] < 0.5 {
            continue;
        }
        let bid = (input[offset::BIDS + seat] * cards).round();
        let need = (input[offset::NEEDED + seat] * cards).round();
        let row = &logits[seat * TRICK_CLASSES..(seat + 1) * TRICK_CLASSES];
        let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut probs = [0.0f32; TRICK_CLASSES];
        let mut sum = 0.0;
        for (p, &l) in probs.iter_mut().zip(row) {
            *p = (l - max).exp();
            sum += *p;
        }
        probs.iter_mut().for_each(|p| *p /= sum);
        *value = value_from_tricks(
            &probs,
            bid as usize,
            (bid - need).max(0.0) as usize,
            cards as usize,
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use game::{Round, RoundConfig, encode, rng_from_seed};

    #[test]
    fn values_of_seats_that_bid_follow_their_tricks_distribution() {
        // 4 players, 3 cards, dealer 3: seats 0, 1 have bid 2 and 0; seats 2, 3 have not.
        let cfg = RoundConfig::new(4, 3, None, 3).unwrap();
        let mut round = Round::deal(cfg, &mut rng_from_seed(1));
        round.apply_bid(2).unwrap();
        round.apply_bid(0).unwrap();
        // Seat 2's view: relative seat 2 is seat 0 (bid 2), relative 3 is seat 1 (bid 0).
        let x = encode(&round.observation(2));
        let mut logits = vec![0.0f32; TRICK_OUTPUTS];
        // Seat 0 (relative 2) wins 2 more tricks with probability e^2 / (e^2 + 17).
        logits[2 * TRICK_CLASSES + 2] = 2.0;
        let mut values = vec![0.25f32; MAX_PLAYERS];
        values_from_trick_logits(&x, &logits, &mut values);
        let p2 = 2f32.exp() / (2f32.exp() + 17.0);
        let want = value_from_tricks(
            &{
                let mut d = [1.0 / (2f32.exp() + 17.0); TRICK_CLASSES];
                d[2] = p2;
                d
            },
            2,
            0,
            3,
        );
        assert!((values[2] - want).abs() < 1e-5, "{} vs {want}", values[2]);
        // Seat 1 (relative 3) bid 0: uniform logits, so P(0 more) = 1/18.
        let want0 = value_from_tricks(&[1.0 / 18.0; TRICK_CLASSES], 0, 0, 3);
        assert!((values[3] - want0).abs() < 1e-5);
        // The observer and seat 3 have not bid: their values stay the value head's.
        assert_eq!(values[0], 0.25);
        assert_eq!(values[1], 0.25);
    }
}

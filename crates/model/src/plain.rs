//! [`PlainNet`]: a [`BlobNet`]'s inference forward pass in plain `f32` on the CPU.
//!
//! Burn runs the forward pass as some twenty tensor operations, each allocating its output
//! and handing its work to a thread pool that the self-play threads also need. This copy of
//! the weights runs the same computation on the calling thread: the matrix products by `gemm`
//! (the kernels Burn's CPU backend uses, AVX2 or AVX-512 picked at run time), the three heads
//! as one product, and scratch buffers reused between batches. It computes what
//! [`BlobNet::forward`] computes, to float rounding (`tests/plain.rs`); the inference server
//! runs it on the CPU backend ([`crate::NetRunner::new`]): a third more rounds a minute in the
//! self-play benchmark, a sixth less self-play time in a training run (`docs/model.md`).

use burn::tensor::Tensor;
use burn::tensor::backend::Backend;
use game::{MAX_PLAYERS, NUM_ACTIONS};

use crate::config::Activation;
use crate::net::{BlobNet, ILLEGAL_LOGIT, LAYER_NORM_EPSILON, NormParts};

/// `y = x W + b`, `W` stored row-major as `[input, output]` (Burn's layout).
#[derive(Clone, Debug)]
struct Dense {
    weight: Vec<f32>,
    bias: Vec<f32>,
    input: usize,
    output: usize,
}

impl Dense {
    fn from_parts<B: Backend>(weight: Tensor<B, 2>, bias: Option<Tensor<B, 1>>) -> Dense {
        let [input, output] = weight.dims();
        Dense {
            weight: to_vec(weight),
            bias: bias.map(to_vec).unwrap_or_else(|| vec![0.0; output]),
            input,
            output,
        }
    }

    /// Several layers reading the same input as one: their outputs side by side.
    fn concat(parts: &[&Dense]) -> Dense {
        let input = parts[0].input;
        let output = parts.iter().map(|p| p.output).sum();
        let mut weight = Vec::with_capacity(input * output);
        for row in 0..input {
            for p in parts {
                weight.extend_from_slice(&p.weight[row * p.output..(row + 1) * p.output]);
            }
        }
        let bias = parts.iter().flat_map(|p| p.bias.iter().copied()).collect();
        Dense {
            weight,
            bias,
            input,
            output,
        }
    }

    /// `out = x W + b` for `n` rows: the product first, then the bias, as Burn's `Linear`
    /// adds them. (gemm accumulating into a prefilled `out` rounds differently for a lone
    /// row than inside a batch; this order gives every row the same bits in any batch.)
    fn apply(&self, x: &[f32], n: usize, out: &mut [f32]) {
        assert_eq!(x.len(), n * self.input, "PlainNet: input rows");
        assert_eq!(out.len(), n * self.output, "PlainNet: output rows");
        assert_eq!(
            self.weight.len(),
            self.input * self.output,
            "PlainNet: weight shape"
        );
        matmul(
            out,
            (n, self.output, self.input),
            (x, self.input, 1),
            (&self.weight, self.output, 1),
            gemm::Parallelism::None,
        );
        add_bias(out, &self.bias);
    }
}

#[derive(Clone, Debug)]
struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl Norm {
    /// LayerNorm of every row of `x` into `out` (population variance, as Burn's).
    fn apply(&self, x: &[f32], out: &mut [f32]) {
        let width = self.gamma.len();
        for (row, o) in x.chunks_exact(width).zip(out.chunks_exact_mut(width)) {
            let mean = row.iter().sum::<f32>() / width as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / width as f32;
            let inv = 1.0 / (var + LAYER_NORM_EPSILON as f32).sqrt();
            for i in 0..width {
                o[i] = (row[i] - mean) * inv * self.gamma[i] + self.beta[i];
            }
        }
    }
}

#[derive(Clone, Debug)]
struct PlainBlock {
    norm: Option<Norm>,
    up: Dense,
    down: Dense,
}

/// A [`BlobNet`]'s weights for [`PlainNet::forward`], with its scratch buffers.
#[derive(Clone, Debug)]
pub struct PlainNet {
    input: Dense,
    blocks: Vec<PlainBlock>,
    final_norm: Option<Norm>,
    /// Policy, value and (if present) tricks heads as one product, outputs in that order.
    heads: Dense,
    residual: Vec<f32>,
    normed: Vec<f32>,
    delta: Vec<f32>,
    hidden: Vec<f32>,
    head_out: Vec<f32>,
}

fn to_vec<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data().iter::<f32>().collect()
}

impl PlainNet {
    /// A copy of `net`'s weights (any backend; the copy lives in host memory), or `None`
    /// for a network this path does not cover (GELU: only the benchmarks build those).
    pub fn new<B: Backend>(net: &BlobNet<B>) -> Option<PlainNet> {
        if net.config().activation != Activation::Relu {
            return None;
        }
        let parts = net.parts();
        let norm = |n: Option<NormParts<B>>| {
            n.map(|(gamma, beta)| {
                let gamma = to_vec(gamma);
                let beta = beta.map_or_else(|| vec![0.0; gamma.len()], to_vec);
                Norm { gamma, beta }
            })
        };
        let dense = |(w, b)| Dense::from_parts::<B>(w, b);
        let policy = dense(parts.policy);
        let value = dense(parts.value);
        let tricks = parts.tricks.map(dense);
        let mut heads: Vec<&Dense> = vec![&policy, &value];
        if let Some(t) = &tricks {
            heads.push(t);
        }
        let heads = Dense::concat(&heads);
        Some(PlainNet {
            input: dense(parts.input),
            blocks: parts
                .blocks
                .into_iter()
                .map(|(n, up, down)| PlainBlock {
                    norm: norm(n),
                    up: dense(up),
                    down: dense(down),
                })
                .collect(),
            final_norm: norm(parts.final_norm),
            heads,
            residual: Vec::new(),
            normed: Vec::new(),
            delta: Vec::new(),
            hidden: Vec::new(),
            head_out: Vec::new(),
        })
    }

    /// The forward pass of `n` rows (`inputs` n x 256, `masks` n x 52, 1 legal): the
    /// log-policy `[n, 52]` and the value head's values `[n, 8]` appended to `policy` and
    /// `values`, the tricks head's logits `[n, 8 x 18]` to `tricks` when the network has it.
    pub fn forward(
        &mut self,
        inputs: &[f32],
        masks: &[f32],
        n: usize,
        policy: &mut Vec<f32>,
        values: &mut Vec<f32>,
        tricks: &mut Vec<f32>,
    ) {
        let width = self.input.output;
        // Every buffer is overwritten before it is read: only its length matters.
        self.residual.resize(n * width, 0.0);
        self.normed.resize(n * width, 0.0);
        self.delta.resize(n * width, 0.0);
        self.input.apply(inputs, n, &mut self.residual);
        for block in &self.blocks {
            let x = norm_or_identity(block.norm.as_ref(), &self.residual, &mut self.normed);
            self.hidden.resize(n * block.up.output, 0.0);
            block.up.apply(x, n, &mut self.hidden);
            self.hidden.iter_mut().for_each(|h| *h = h.max(0.0));
            block.down.apply(&self.hidden, n, &mut self.delta);
            self.residual
                .iter_mut()
                .zip(&self.delta)
                .for_each(|(r, d)| *r += d);
        }
        let x = norm_or_identity(self.final_norm.as_ref(), &self.residual, &mut self.normed);
        self.head_out.resize(n * self.heads.output, 0.0);
        self.heads.apply(x, n, &mut self.head_out);
        for (i, row) in self.head_out.chunks_exact(self.heads.output).enumerate() {
            let mask = &masks[i * NUM_ACTIONS..(i + 1) * NUM_ACTIONS];
            log_softmax_masked(&row[..NUM_ACTIONS], mask, policy);
            values.extend(
                row[NUM_ACTIONS..NUM_ACTIONS + MAX_PLAYERS]
                    .iter()
                    .map(|v| v.tanh()),
            );
            tricks.extend_from_slice(&row[NUM_ACTIONS + MAX_PLAYERS..]);
        }
    }
}

/// `norm(x)` written into `scratch`, or `x` itself when there is no norm.
fn norm_or_identity<'a>(norm: Option<&Norm>, x: &'a [f32], scratch: &'a mut [f32]) -> &'a [f32] {
    match norm {
        Some(norm) => {
            norm.apply(x, scratch);
            scratch
        }
        None => x,
    }
}

/// Appends the log-softmax of `logits` over the actions `mask` marks legal (illegal ones get
/// [`ILLEGAL_LOGIT`] first, as [`BlobNet::forward`] does).
pub(crate) fn log_softmax_masked(logits: &[f32], mask: &[f32], out: &mut Vec<f32>) {
    let masked = |i: usize| {
        if mask[i] < 0.5 {
            ILLEGAL_LOGIT
        } else {
            logits[i]
        }
    };
    let max = (0..logits.len())
        .map(masked)
        .fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = (0..logits.len()).map(|i| (masked(i) - max).exp()).sum();
    let log_sum = sum.ln();
    out.extend((0..logits.len()).map(|i| masked(i) - max - log_sum));
}

/// Adds `bias` to every row of `out`.
pub(crate) fn add_bias(out: &mut [f32], bias: &[f32]) {
    for row in out.chunks_exact_mut(bias.len()) {
        row.iter_mut().zip(bias).for_each(|(o, b)| *o += b);
    }
}

/// `dst = lhs rhs` with `(m, n, k)` = `dims`: `dst` m x n row-major; `lhs` (m x k) and `rhs`
/// (k x n) each given as (data, row stride, column stride), so either can be a transposed
/// view of a row-major matrix.
pub(crate) fn matmul(
    dst: &mut [f32],
    (m, n, k): (usize, usize, usize),
    lhs: (&[f32], usize, usize),
    rhs: (&[f32], usize, usize),
    par: gemm::Parallelism,
) {
    assert_eq!(dst.len(), m * n, "plain: product shape");
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        dst.fill(0.0);
        return;
    }
    // The last element each operand's strides reach must lie inside it.
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(last(m, k, lhs.1, lhs.2) < lhs.0.len(), "plain: lhs");
    assert!(last(k, n, rhs.1, rhs.2) < rhs.0.len(), "plain: rhs");
    // SAFETY: every index gemm forms is `row * row_stride + col * col_stride` with row and
    // col below the dimensions given, so at most the last indices checked above (and
    // `(m-1) n + n-1 < dst.len()` for `dst`): all in bounds. `dst` is a distinct `&mut`,
    // so it aliases neither operand; with `read_dst` false gemm only writes `dst`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            false,
            lhs.0.as_ptr(),
            lhs.2 as isize,
            lhs.1 as isize,
            rhs.0.as_ptr(),
            rhs.2 as isize,
            rhs.1 as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

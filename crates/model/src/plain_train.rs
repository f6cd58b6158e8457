//! [`PlainTrainer`]: the learner's training step (forward pass, loss, backward pass, AdamW)
//! for a [`BlobNet`] in plain `f32` on the CPU.
//!
//! Burn's `Autodiff<Flex>` runs a training step as a hundred-odd tensor operations, each
//! allocating its output and recording a graph node; for the small networks trained on the
//! CPU that overhead is a large part of the step. This copy of the weights does the same
//! arithmetic directly: the matrix products (forward, and both backward products of
//! every linear layer) by `gemm`, the rest in plain loops over reused buffers. It computes
//! the loss of `train::learner` (masked policy cross-entropy, masked value MSE, tricks
//! cross-entropy) and Burn's AdamW step, to float rounding (`train/tests/plain_learner.rs`).
//!
//! The parameters are kept in Burn's visiting order, one tensor per Burn parameter, each with
//! its own AdamW moments and time, so that weights and optimizer state convert to and from
//! Burn's one to one ([`PlainTrainer::write_into`], [`PlainTrainer::moments`]).
//!
//! Covered: ReLU networks without the owners head (the others keep Burn's path).

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS};
use mcts::value::TRICK_CLASSES;

use crate::config::{Activation, TRICK_OUTPUTS};
use crate::net::{BlobNet, LAYER_NORM_EPSILON};
use crate::plain::{add_bias, log_softmax_masked, matmul};

/// AdamW's first-moment decay (Burn's `AdamWConfig` default, which the learner uses).
pub const ADAM_BETA_1: f32 = 0.9;
/// AdamW's second-moment decay (Burn's default).
pub const ADAM_BETA_2: f32 = 0.999;
/// AdamW's epsilon (Burn's default).
pub const ADAM_EPSILON: f32 = 1e-5;

/// One training batch as flat rows (what `train::learner` builds from its examples).
#[derive(Clone, Copy, Debug)]
pub struct TrainBatch<'a> {
    pub rows: usize,
    /// rows x 256 encodings.
    pub inputs: &'a [f32],
    /// rows x 52, 1 where an action is legal.
    pub masks: &'a [f32],
    /// rows x 52 target distributions (all zero for a value-only row).
    pub policy: &'a [f32],
    /// rows x 8 target values.
    pub values: &'a [f32],
    /// rows x 8, 1 for a seat whose value is learnt.
    pub seat_mask: &'a [f32],
    /// The rows that have a policy target.
    pub policy_rows: usize,
    /// rows x 8 x 18 one-hot tricks targets (all zero where a seat has none); read only
    /// when the network has the tricks head.
    pub tricks: &'a [f32],
    /// The seats that have a tricks target.
    pub trick_targets: usize,
}

/// The loss terms' weights against the policy loss.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossWeights {
    pub value: f32,
    pub tricks: f32,
}

/// One batch's loss terms (tricks 0 without the head).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PlainLosses {
    pub policy: f32,
    pub value: f32,
    pub tricks: f32,
}

/// One parameter's AdamW state, as Burn keeps it: the moments and the steps taken (0: no
/// state yet, Burn's "no record").
#[derive(Clone, Copy, Debug)]
pub struct Moments<'a> {
    pub moment_1: &'a [f32],
    pub moment_2: &'a [f32],
    pub time: usize,
}

/// One Burn parameter: its shape, value, last gradient and AdamW state.
#[derive(Clone, Debug)]
struct ParamState {
    shape: Vec<usize>,
    value: Vec<f32>,
    grad: Vec<f32>,
    moment_1: Vec<f32>,
    moment_2: Vec<f32>,
    time: usize,
}

/// A linear layer: the indices of its weight (`[input, output]`) and bias.
#[derive(Clone, Copy, Debug)]
struct LinearIx {
    weight: usize,
    bias: usize,
    input: usize,
    output: usize,
}

/// A LayerNorm: the indices of its gain and bias.
#[derive(Clone, Copy, Debug)]
struct NormIx {
    gamma: usize,
    beta: usize,
}

#[derive(Clone, Copy, Debug)]
struct BlockIx {
    norm: Option<NormIx>,
    up: LinearIx,
    down: LinearIx,
}

/// What the forward pass keeps for the backward pass, and the backward pass's scratch.
/// Resized per batch; every buffer is overwritten before it is read.
#[derive(Clone, Debug, Default)]
struct Cache {
    /// The residual stream entering each block, then leaving the last: blocks + 1 of them.
    stream: Vec<Vec<f32>>,
    /// Per LayerNorm (the blocks' in order, then the final one): its output, its input
    /// normalised (before gain and bias), and each row's 1 / standard deviation.
    norm_out: Vec<Vec<f32>>,
    x_hat: Vec<Vec<f32>>,
    inv_std: Vec<Vec<f32>>,
    /// Per block: the hidden layer after the ReLU.
    hidden: Vec<Vec<f32>>,
    /// The heads' weights and biases side by side (policy, value, tricks), rebuilt from the
    /// parameters each step, and their outputs.
    heads_weight: Vec<f32>,
    heads_bias: Vec<f32>,
    heads_out: Vec<f32>,
    /// The loss's gradient by the heads' outputs, and by their weights.
    d_heads: Vec<f32>,
    d_heads_weight: Vec<f32>,
    /// Gradients by the residual stream, by a block's or norm's input, by a hidden layer.
    d_stream: Vec<f32>,
    d_x: Vec<f32>,
    d_hidden: Vec<f32>,
    log_p: Vec<f32>,
}

/// A [`BlobNet`]'s parameters and AdamW state in plain `f32`, with the training step.
#[derive(Clone, Debug)]
pub struct PlainTrainer {
    params: Vec<ParamState>,
    input: LinearIx,
    blocks: Vec<BlockIx>,
    final_norm: Option<NormIx>,
    policy: LinearIx,
    value: LinearIx,
    tricks: Option<LinearIx>,
    width: usize,
    weight_decay: f32,
    parallelism: gemm::Parallelism,
    /// Whether the gradients are those of a [`PlainTrainer::compute`] not yet applied.
    fresh_grads: bool,
    cache: Cache,
}

/// Collects every float parameter's shape and values, in visiting order.
struct Collect(Vec<(Vec<usize>, Vec<f32>)>);

impl<B: Backend> ModuleVisitor<B> for Collect {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let t = param.val();
        let shape = t.dims().to_vec();
        self.0.push((shape, t.into_data().iter::<f32>().collect()));
    }
}

/// Writes the trainer's values into a module's parameters, in visiting order, keeping each
/// parameter's id (the optimizer state's key) and whether it requires a gradient.
struct WriteBack<'a> {
    params: &'a [ParamState],
    next: usize,
}

impl<B: Backend> ModuleMapper<B> for WriteBack<'_> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, old, mapper) = param.consume();
        let p = &self.params[self.next];
        self.next += 1;
        assert_eq!(
            old.dims().as_slice(),
            p.shape,
            "PlainTrainer: parameter shape"
        );
        let mut t =
            Tensor::<B, D>::from_data(TensorData::new(p.value.clone(), old.shape()), &old.device());
        if old.is_require_grad() {
            t = t.require_grad();
        }
        Param::from_mapped_value(id, t, mapper)
    }
}

impl PlainTrainer {
    /// A copy of `net`'s weights with fresh AdamW state (weight decay `weight_decay`), or
    /// `None` for a network this path does not cover (GELU, the owners head).
    pub fn new<B: Backend>(net: &BlobNet<B>, weight_decay: f32) -> Option<PlainTrainer> {
        let config = net.config();
        if config.activation != Activation::Relu
            || config.has_owner_head()
            || config.input != ENCODING_LEN
            || config.policy_outputs != NUM_ACTIONS
            || config.value_outputs != MAX_PLAYERS
            || !(config.trick_outputs == 0 || config.trick_outputs == TRICK_OUTPUTS)
        {
            return None;
        }
        // The layout Burn's visiting order gives BlobNet (fields in declaration order:
        // Linear weight then bias, LayerNorm gamma then beta), checked against the shapes.
        let mut shapes: Vec<Vec<usize>> = Vec::new();
        let linear = |shapes: &mut Vec<Vec<usize>>, input: usize, output: usize| {
            shapes.push(vec![input, output]);
            shapes.push(vec![output]);
            LinearIx {
                weight: shapes.len() - 2,
                bias: shapes.len() - 1,
                input,
                output,
            }
        };
        let norm = |shapes: &mut Vec<Vec<usize>>| {
            config.layer_norm.then(|| {
                shapes.push(vec![config.width]);
                shapes.push(vec![config.width]);
                NormIx {
                    gamma: shapes.len() - 2,
                    beta: shapes.len() - 1,
                }
            })
        };
        let input = linear(&mut shapes, config.input, config.width);
        let blocks = (0..config.blocks)
            .map(|_| BlockIx {
                norm: norm(&mut shapes),
                up: linear(&mut shapes, config.width, config.hidden),
                down: linear(&mut shapes, config.hidden, config.width),
            })
            .collect();
        let final_norm = norm(&mut shapes);
        let policy = linear(&mut shapes, config.width, NUM_ACTIONS);
        let value = linear(&mut shapes, config.width, MAX_PLAYERS);
        let tricks = config
            .has_trick_head()
            .then(|| linear(&mut shapes, config.width, TRICK_OUTPUTS));
        let mut collect = Collect(Vec::new());
        net.visit(&mut collect);
        if collect.0.len() != shapes.len() || collect.0.iter().zip(&shapes).any(|(c, s)| &c.0 != s)
        {
            return None;
        }
        let params = collect
            .0
            .into_iter()
            .map(|(shape, value)| {
                let len = value.len();
                ParamState {
                    shape,
                    value,
                    grad: vec![0.0; len],
                    moment_1: vec![0.0; len],
                    moment_2: vec![0.0; len],
                    time: 0,
                }
            })
            .collect();
        Some(PlainTrainer {
            params,
            input,
            blocks,
            final_norm,
            policy,
            value,
            tricks,
            width: config.width,
            weight_decay,
            parallelism: gemm::Parallelism::None,
            fresh_grads: false,
            cache: Cache::default(),
        })
    }

    /// The matrix products on `threads` threads of Rayon's pool (0: all of them; 1: the
    /// calling thread only, the default). gemm splits a product by blocks of its output, each
    /// summed in the same order whatever the thread count: the results are the same bits
    /// (tested below). On the 2-core machines one thread was faster.
    pub fn with_threads(mut self, threads: usize) -> PlainTrainer {
        self.parallelism = if threads == 1 {
            gemm::Parallelism::None
        } else {
            gemm::Parallelism::Rayon(threads)
        };
        self
    }

    /// The number of parameter tensors (Burn's parameters, in its visiting order).
    pub fn param_count(&self) -> usize {
        self.params.len()
    }

    /// Parameter `i`'s shape.
    pub fn shape(&self, i: usize) -> &[usize] {
        &self.params[i].shape
    }

    /// Parameter `i`'s values (row-major, Burn's layout).
    pub fn values(&self, i: usize) -> &[f32] {
        &self.params[i].value
    }

    /// Parameter `i`'s AdamW state.
    pub fn moments(&self, i: usize) -> Moments<'_> {
        let p = &self.params[i];
        Moments {
            moment_1: &p.moment_1,
            moment_2: &p.moment_2,
            time: p.time,
        }
    }

    /// Sets parameter `i`'s AdamW state (time 0 and `None` moments: no state yet); an error
    /// when the moments do not have the parameter's size.
    pub fn set_moments(
        &mut self,
        i: usize,
        moments: Option<(Vec<f32>, Vec<f32>)>,
        time: usize,
    ) -> Result<(), String> {
        let p = &mut self.params[i];
        match moments {
            Some((m1, m2)) => {
                if m1.len() != p.value.len() || m2.len() != p.value.len() {
                    return Err(format!(
                        "optimizer moments of {} and {} values for a parameter of shape {:?}",
                        m1.len(),
                        m2.len(),
                        p.shape
                    ));
                }
                p.moment_1 = m1;
                p.moment_2 = m2;
                p.time = time;
            }
            None => {
                p.moment_1.fill(0.0);
                p.moment_2.fill(0.0);
                p.time = 0;
            }
        }
        Ok(())
    }

    /// `net` (the network this trainer was made from, or one of the same shape) with this
    /// trainer's weights, parameter ids kept.
    pub fn write_into<B: Backend>(&self, net: BlobNet<B>) -> BlobNet<B> {
        net.map(&mut WriteBack {
            params: &self.params,
            next: 0,
        })
    }

    /// The forward pass, the loss and the backward pass of one batch: its loss terms, and
    /// the gradients kept for [`PlainTrainer::update`]. The weights do not change.
    pub fn compute(&mut self, batch: &TrainBatch, weights: LossWeights) -> PlainLosses {
        check_batch(batch, self.tricks.is_some());
        self.forward(batch);
        let losses = self.loss(batch, weights);
        self.backward(batch);
        self.fresh_grads = true;
        losses
    }

    /// Burn's AdamW step at learning rate `lr` with the gradients of the last
    /// [`PlainTrainer::compute`] (nothing when they were already applied).
    pub fn update(&mut self, lr: f64) {
        if !std::mem::take(&mut self.fresh_grads) {
            return;
        }
        // The order of Burn's operations (burn-optim's adamw.rs), so the rounding matches.
        let (b1, b2, eps) = (ADAM_BETA_1, ADAM_BETA_2, ADAM_EPSILON);
        let (f1, f2) = (1.0 - b1, 1.0 - b2);
        let decay = lr * self.weight_decay as f64;
        let keep = (1.0 - decay) as f32;
        let lr32 = lr as f32;
        for p in &mut self.params {
            p.time += 1;
            let t = p.time as i32;
            let (c1, c2) = (1f32 - b1.powi(t), 1f32 - b2.powi(t));
            for (((x, g), m), v) in p
                .value
                .iter_mut()
                .zip(&p.grad)
                .zip(&mut p.moment_1)
                .zip(&mut p.moment_2)
            {
                *m = *m * b1 + g * f1;
                *v = *v * b2 + (g * g) * f2;
                let delta = (*m / c1) / ((*v / c2).sqrt() + eps);
                if decay != 0.0 {
                    *x *= keep;
                }
                *x -= delta * lr32;
            }
        }
    }

    fn heads_width(&self) -> usize {
        NUM_ACTIONS + MAX_PLAYERS + self.tricks.map_or(0, |t| t.output)
    }

    /// The heads (policy, value, tricks if present), side by side in that order.
    fn heads(&self) -> impl Iterator<Item = LinearIx> + use<> {
        [Some(self.policy), Some(self.value), self.tricks]
            .into_iter()
            .flatten()
    }

    fn forward(&mut self, batch: &TrainBatch) {
        let n = batch.rows;
        let (width, par, h) = (self.width, self.parallelism, self.heads_width());
        let (input, final_norm) = (self.input, self.final_norm);
        let heads: Vec<LinearIx> = self.heads().collect();
        let Self {
            params,
            cache: c,
            blocks,
            ..
        } = self;
        let nb = blocks.len();
        c.stream.resize_with(nb + 1, Vec::new);
        c.hidden.resize_with(nb, Vec::new);
        for buf in [&mut c.norm_out, &mut c.x_hat, &mut c.inv_std] {
            buf.resize_with(nb + 1, Vec::new);
        }
        c.stream[0].resize(n * width, 0.0);
        linear_forward(params, input, batch.inputs, n, &mut c.stream[0], par);
        for (i, block) in blocks.iter().enumerate() {
            if let Some(norm) = block.norm {
                let (out, x_hat, inv) = (&mut c.norm_out[i], &mut c.x_hat[i], &mut c.inv_std[i]);
                norm_forward(params, norm, &c.stream[i], width, out, x_hat, inv);
            }
            let h_in = if block.norm.is_some() {
                &c.norm_out[i]
            } else {
                &c.stream[i]
            };
            let hidden = &mut c.hidden[i];
            hidden.resize(n * block.up.output, 0.0);
            linear_forward(params, block.up, h_in, n, hidden, par);
            hidden.iter_mut().for_each(|h| *h = h.max(0.0));
            let (before, after) = c.stream.split_at_mut(i + 1);
            let next = &mut after[0];
            next.resize(n * width, 0.0);
            linear_forward(params, block.down, &c.hidden[i], n, next, par);
            next.iter_mut().zip(&before[i]).for_each(|(y, x)| *y += x);
        }
        if let Some(norm) = final_norm {
            let (out, x_hat, inv) = (&mut c.norm_out[nb], &mut c.x_hat[nb], &mut c.inv_std[nb]);
            norm_forward(params, norm, &c.stream[nb], width, out, x_hat, inv);
        }
        // The three heads read the same input: one product into their outputs side by side.
        c.heads_weight.clear();
        for row in 0..width {
            for l in &heads {
                let w = &params[l.weight].value;
                c.heads_weight
                    .extend_from_slice(&w[row * l.output..(row + 1) * l.output]);
            }
        }
        c.heads_bias.clear();
        for l in &heads {
            c.heads_bias.extend_from_slice(&params[l.bias].value);
        }
        let z = if final_norm.is_some() {
            &c.norm_out[nb]
        } else {
            &c.stream[nb]
        };
        c.heads_out.resize(n * h, 0.0);
        matmul(
            &mut c.heads_out,
            (n, h, width),
            (z, width, 1),
            (&c.heads_weight, h, 1),
            par,
        );
        add_bias(&mut c.heads_out, &c.heads_bias);
    }

    /// The loss terms, and their gradient by the heads' outputs into `d_heads`.
    fn loss(&mut self, batch: &TrainBatch, weights: LossWeights) -> PlainLosses {
        let n = batch.rows;
        let h = self.heads_width();
        let has_tricks = self.tricks.is_some();
        let c = &mut self.cache;
        c.d_heads.resize(n * h, 0.0);
        let policy_rows = batch.policy_rows.max(1) as f32;
        // As Burn: the sum of the mask (0 seats gives NaN, a diverged loss).
        let seats: f32 = batch.seat_mask.iter().sum();
        let trick_targets = batch.trick_targets.max(1) as f32;
        let (mut policy, mut value, mut tricks) = (0f64, 0f64, 0f64);
        for r in 0..n {
            let out = &c.heads_out[r * h..(r + 1) * h];
            let d = &mut c.d_heads[r * h..(r + 1) * h];
            // Policy: cross-entropy of the masked log-softmax against the target. Burn's
            // mask_fill passes no gradient to an illegal action's logit.
            let mask = &batch.masks[r * NUM_ACTIONS..(r + 1) * NUM_ACTIONS];
            let target = &batch.policy[r * NUM_ACTIONS..(r + 1) * NUM_ACTIONS];
            c.log_p.clear();
            log_softmax_masked(&out[..NUM_ACTIONS], mask, &mut c.log_p);
            let total: f32 = target.iter().sum();
            for j in 0..NUM_ACTIONS {
                policy -= (target[j] * c.log_p[j]) as f64;
                d[j] = if mask[j] < 0.5 {
                    0.0
                } else {
                    (c.log_p[j].exp() * total - target[j]) / policy_rows
                };
            }
            // Value: squared error of tanh outputs over the seats in play.
            for s in 0..MAX_PLAYERS {
                let i = r * MAX_PLAYERS + s;
                let v = out[NUM_ACTIONS + s].tanh();
                let diff = v - batch.values[i];
                let m = batch.seat_mask[i];
                value += (diff * diff * m) as f64;
                d[NUM_ACTIONS + s] = weights.value * (2.0 * diff * m / seats) * (1.0 - v * v);
            }
            // Tricks: each seat's cross-entropy over its 18 classes.
            if has_tricks {
                let base = NUM_ACTIONS + MAX_PLAYERS;
                for s in 0..MAX_PLAYERS {
                    let at = base + s * TRICK_CLASSES;
                    let logits = &out[at..at + TRICK_CLASSES];
                    let t0 = (r * MAX_PLAYERS + s) * TRICK_CLASSES;
                    let target = &batch.tricks[t0..t0 + TRICK_CLASSES];
                    c.log_p.clear();
                    log_softmax_masked(logits, &[1.0; TRICK_CLASSES], &mut c.log_p);
                    let total: f32 = target.iter().sum();
                    for k in 0..TRICK_CLASSES {
                        tricks -= (target[k] * c.log_p[k]) as f64;
                        d[at + k] =
                            weights.tricks * (c.log_p[k].exp() * total - target[k]) / trick_targets;
                    }
                }
            }
        }
        PlainLosses {
            policy: (policy / policy_rows as f64) as f32,
            value: (value / seats as f64) as f32,
            tricks: if has_tricks {
                (tricks / trick_targets as f64) as f32
            } else {
                0.0
            },
        }
    }

    fn backward(&mut self, batch: &TrainBatch) {
        let n = batch.rows;
        let (width, par, h) = (self.width, self.parallelism, self.heads_width());
        let (input, final_norm) = (self.input, self.final_norm);
        let heads: Vec<LinearIx> = self.heads().collect();
        let Self {
            params,
            cache: c,
            blocks,
            ..
        } = self;
        let nb = blocks.len();
        // Heads: the weight gradient side by side, then split back to each head.
        let z = if final_norm.is_some() {
            &c.norm_out[nb]
        } else {
            &c.stream[nb]
        };
        c.d_heads_weight.resize(width * h, 0.0);
        matmul(
            &mut c.d_heads_weight,
            (width, h, n),
            (z, 1, width),
            (&c.d_heads, h, 1),
            par,
        );
        let mut col = 0;
        for l in &heads {
            let grad = &mut params[l.weight].grad;
            for row in 0..width {
                grad[row * l.output..(row + 1) * l.output]
                    .copy_from_slice(&c.d_heads_weight[row * h + col..row * h + col + l.output]);
            }
            let bias = &mut params[l.bias].grad;
            bias.fill(0.0);
            for r in 0..n {
                let d = &c.d_heads[r * h + col..r * h + col + l.output];
                bias.iter_mut().zip(d).for_each(|(b, d)| *b += d);
            }
            col += l.output;
        }
        // By the heads' input: d_heads x W^T.
        c.d_x.resize(n * width, 0.0);
        matmul(
            &mut c.d_x,
            (n, width, h),
            (&c.d_heads, h, 1),
            (&c.heads_weight, 1, h),
            par,
        );
        // The final norm, into the gradient by the residual stream.
        c.d_stream.resize(n * width, 0.0);
        match final_norm {
            Some(norm) => {
                c.d_stream.fill(0.0);
                norm_backward(
                    params,
                    norm,
                    &c.x_hat[nb],
                    &c.inv_std[nb],
                    &c.d_x,
                    &mut c.d_stream,
                );
            }
            None => c.d_stream.copy_from_slice(&c.d_x),
        }
        for (i, block) in blocks.iter().enumerate().rev() {
            // down: the stream's gradient passes to the block's output unchanged.
            linear_backward(
                params,
                block.down,
                &c.hidden[i],
                &c.d_stream,
                n,
                Some(&mut c.d_hidden),
                par,
            );
            // ReLU: no gradient where the output is 0 (Burn's relu backward).
            // (A select rather than a branch, so that the loop vectorises.)
            c.d_hidden
                .iter_mut()
                .zip(&c.hidden[i])
                .for_each(|(d, &a)| *d = if a > 0.0 { *d } else { 0.0 });
            let h_in = match block.norm {
                Some(_) => &c.norm_out[i],
                None => &c.stream[i],
            };
            linear_backward(
                params,
                block.up,
                h_in,
                &c.d_hidden,
                n,
                Some(&mut c.d_x),
                par,
            );
            match block.norm {
                Some(norm) => norm_backward(
                    params,
                    norm,
                    &c.x_hat[i],
                    &c.inv_std[i],
                    &c.d_x,
                    &mut c.d_stream,
                ),
                None => c.d_stream.iter_mut().zip(&c.d_x).for_each(|(g, d)| *g += d),
            }
        }
        linear_backward(params, input, batch.inputs, &c.d_stream, n, None, par);
    }
}

/// Checks that the batch's slices have its row count's sizes (the learner builds them; a
/// mismatch is a bug there).
fn check_batch(b: &TrainBatch, tricks: bool) {
    let n = b.rows;
    assert_eq!(b.inputs.len(), n * ENCODING_LEN, "TrainBatch: inputs");
    assert_eq!(b.masks.len(), n * NUM_ACTIONS, "TrainBatch: masks");
    assert_eq!(b.policy.len(), n * NUM_ACTIONS, "TrainBatch: policy");
    assert_eq!(b.values.len(), n * MAX_PLAYERS, "TrainBatch: values");
    assert_eq!(b.seat_mask.len(), n * MAX_PLAYERS, "TrainBatch: seat mask");
    if tricks {
        assert_eq!(b.tricks.len(), n * TRICK_OUTPUTS, "TrainBatch: tricks");
    }
}

/// `out = x W + b` for `n` rows: the product, then the bias (Burn's order).
fn linear_forward(
    params: &[ParamState],
    l: LinearIx,
    x: &[f32],
    n: usize,
    out: &mut [f32],
    par: gemm::Parallelism,
) {
    let w = &params[l.weight].value;
    matmul(
        out,
        (n, l.output, l.input),
        (x, l.input, 1),
        (w, l.output, 1),
        par,
    );
    add_bias(out, &params[l.bias].value);
}

/// The gradients of a linear layer given its input `x` and the gradient by its output `dy`:
/// by the weight (`x^T dy`) and bias (the column sums of `dy`) into the parameters, and by
/// the input (`dy W^T`) into `dx` when asked.
fn linear_backward(
    params: &mut [ParamState],
    l: LinearIx,
    x: &[f32],
    dy: &[f32],
    n: usize,
    dx: Option<&mut Vec<f32>>,
    par: gemm::Parallelism,
) {
    matmul(
        &mut params[l.weight].grad,
        (l.input, l.output, n),
        (x, 1, l.input),
        (dy, l.output, 1),
        par,
    );
    let bias = &mut params[l.bias].grad;
    bias.fill(0.0);
    for row in dy.chunks_exact(l.output) {
        bias.iter_mut().zip(row).for_each(|(b, d)| *b += d);
    }
    if let Some(dx) = dx {
        dx.resize(n * l.input, 0.0);
        let w = &params[l.weight].value;
        matmul(
            dx,
            (n, l.input, l.output),
            (dy, l.output, 1),
            (w, 1, l.output),
            par,
        );
    }
}

/// LayerNorm of every row of `x` into `out` (population variance, as Burn's), keeping the
/// normalised input and each row's 1 / standard deviation for the backward pass.
fn norm_forward(
    params: &[ParamState],
    norm: NormIx,
    x: &[f32],
    width: usize,
    out: &mut Vec<f32>,
    x_hat: &mut Vec<f32>,
    inv_std: &mut Vec<f32>,
) {
    let (gamma, beta) = (&params[norm.gamma].value, &params[norm.beta].value);
    let n = x.len() / width;
    out.resize(x.len(), 0.0);
    x_hat.resize(x.len(), 0.0);
    inv_std.resize(n, 0.0);
    let rows = x
        .chunks_exact(width)
        .zip(x_hat.chunks_exact_mut(width))
        .zip(out.chunks_exact_mut(width))
        .zip(inv_std.iter_mut());
    for (((row, xh), o), inv_out) in rows {
        let mean = lane_sum(row, |v| v) / width as f32;
        let var = lane_sum(row, |v| (v - mean) * (v - mean)) / width as f32;
        let inv = 1.0 / (var + LAYER_NORM_EPSILON as f32).sqrt();
        *inv_out = inv;
        for ((xh, o), (&x, (&g, &b))) in xh
            .iter_mut()
            .zip(o.iter_mut())
            .zip(row.iter().zip(gamma.iter().zip(beta)))
        {
            *xh = (x - mean) * inv;
            *o = *xh * g + b;
        }
    }
}

/// A LayerNorm's backward pass: gain and bias gradients into the parameters, the gradient by
/// its input added to `dx`.
fn norm_backward(
    params: &mut [ParamState],
    norm: NormIx,
    x_hat: &[f32],
    inv_std: &[f32],
    dy: &[f32],
    dx: &mut [f32],
) {
    let width = params[norm.gamma].value.len();
    let mut d_gamma = std::mem::take(&mut params[norm.gamma].grad);
    let mut d_beta = std::mem::take(&mut params[norm.beta].grad);
    d_gamma.fill(0.0);
    d_beta.fill(0.0);
    let gamma = &params[norm.gamma].value;
    let rows = x_hat
        .chunks_exact(width)
        .zip(dy.chunks_exact(width))
        .zip(dx.chunks_exact_mut(width))
        .zip(inv_std);
    for (((xh, dy), out), &inv) in rows {
        for (((&g, &xh), dg), db) in dy
            .iter()
            .zip(xh)
            .zip(d_gamma.iter_mut())
            .zip(d_beta.iter_mut())
        {
            *dg += g * xh;
            *db += g;
        }
        let s1 = lane_sum2(dy, gamma, |g, gamma| g * gamma);
        let s2 = lane_sum3(dy, gamma, xh, |g, gamma, xh| g * gamma * xh);
        let (m1, m2) = (s1 / width as f32, s2 / width as f32);
        for ((o, &g), (&xh, &gamma)) in out.iter_mut().zip(dy).zip(xh.iter().zip(gamma)) {
            *o += inv * (g * gamma - m1 - xh * m2);
        }
    }
    params[norm.gamma].grad = d_gamma;
    params[norm.beta].grad = d_beta;
}

/// The sum of `f` over `xs` in 8 interleaved partial sums: a serial f32 sum cannot be
/// vectorised (its order is fixed), and the LayerNorms' row sums were a tenth of the step.
fn lane_sum(xs: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = xs.chunks_exact(8);
    let tail: f32 = chunks.remainder().iter().map(|&x| f(x)).sum();
    for c in chunks {
        for (a, &x) in acc.iter_mut().zip(c) {
            *a += f(x);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// [`lane_sum`] of `f` over two slices side by side.
fn lane_sum2(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = (ca.remainder().iter().zip(cb.remainder()))
        .map(|(&x, &y)| f(x, y))
        .sum();
    for (x8, y8) in ca.zip(cb) {
        for ((s, &x), &y) in acc.iter_mut().zip(x8).zip(y8) {
            *s += f(x, y);
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// [`lane_sum`] of `f` over three slices side by side.
fn lane_sum3(a: &[f32], b: &[f32], c: &[f32], f: impl Fn(f32, f32, f32) -> f32) -> f32 {
    let mut acc = [0f32; 8];
    let (ca, cb, cc) = (a.chunks_exact(8), b.chunks_exact(8), c.chunks_exact(8));
    let tail: f32 = (ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .zip(cc.remainder()))
    .map(|((&x, &y), &z)| f(x, y, z))
    .sum();
    for ((x8, y8), z8) in ca.zip(cb).zip(cc) {
        for (((s, &x), &y), &z) in acc.iter_mut().zip(x8).zip(y8).zip(z8) {
            *s += f(x, y, z);
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::{Cpu, CpuDevice};
    use crate::config::NetConfig;

    /// A small batch with every kind of row: value-only rows, seats masked, rows without
    /// tricks targets.
    struct Owned {
        rows: usize,
        inputs: Vec<f32>,
        masks: Vec<f32>,
        policy: Vec<f32>,
        values: Vec<f32>,
        seat_mask: Vec<f32>,
        policy_rows: usize,
        tricks: Vec<f32>,
        trick_targets: usize,
    }

    impl Owned {
        fn new(rows: usize) -> Owned {
            // A fixed pseudo-random sequence (no rand in this crate's dependencies).
            let mut state = 0x2545_f491_4f6c_dd1du64;
            let mut next = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 40) as f32 / (1u64 << 24) as f32
            };
            let mut b = Owned {
                rows,
                inputs: (0..rows * ENCODING_LEN)
                    .map(|_| next() * 2.0 - 1.0)
                    .collect(),
                masks: vec![0.0; rows * NUM_ACTIONS],
                policy: vec![0.0; rows * NUM_ACTIONS],
                values: (0..rows * MAX_PLAYERS)
                    .map(|_| next() * 2.0 - 1.0)
                    .collect(),
                seat_mask: vec![0.0; rows * MAX_PLAYERS],
                policy_rows: 0,
                tricks: vec![0.0; rows * MAX_PLAYERS * TRICK_CLASSES],
                trick_targets: 0,
            };
            for r in 0..rows {
                let legal: Vec<usize> = (0..NUM_ACTIONS).filter(|_| next() < 0.3).collect();
                let legal = if legal.is_empty() {
                    vec![r % NUM_ACTIONS]
                } else {
                    legal
                };
                for &a in &legal {
                    b.masks[r * NUM_ACTIONS + a] = 1.0;
                }
                if r % 3 != 0 {
                    b.policy_rows += 1;
                    let w: Vec<f32> = legal.iter().map(|_| next() + 0.1).collect();
                    let sum: f32 = w.iter().sum();
                    for (&a, w) in legal.iter().zip(w) {
                        b.policy[r * NUM_ACTIONS + a] = w / sum;
                    }
                }
                let players = 3 + r % 4;
                for s in 0..players {
                    b.seat_mask[r * MAX_PLAYERS + s] = 1.0;
                    if r % 2 == 0 {
                        let t = (next() * 6.0) as usize;
                        b.tricks[(r * MAX_PLAYERS + s) * TRICK_CLASSES + t] = 1.0;
                        b.trick_targets += 1;
                    }
                }
            }
            b
        }

        fn view(&self) -> TrainBatch<'_> {
            TrainBatch {
                rows: self.rows,
                inputs: &self.inputs,
                masks: &self.masks,
                policy: &self.policy,
                values: &self.values,
                seat_mask: &self.seat_mask,
                policy_rows: self.policy_rows,
                tricks: &self.tricks,
                trick_targets: self.trick_targets,
            }
        }
    }

    fn total(l: PlainLosses, w: LossWeights) -> f64 {
        l.policy as f64 + w.value as f64 * l.value as f64 + w.tricks as f64 * l.tricks as f64
    }

    /// Every parameter kind's gradient against central differences of the loss (f32, so
    /// loose, but a wrong formula is off by far more).
    #[test]
    fn gradients_match_finite_differences() {
        let device = CpuDevice::default();
        let w = LossWeights {
            value: 1.5,
            tricks: 0.7,
        };
        for config in [
            NetConfig::mlp(8, 2, 12).with_trick_head(true),
            NetConfig {
                layer_norm: false,
                ..NetConfig::mlp(8, 1, 12)
            },
        ] {
            <Cpu as Backend>::seed(&device, 3);
            let net = BlobNet::<Cpu>::new(&config, &device).unwrap();
            let mut t = PlainTrainer::new(&net, 0.0).unwrap();
            // LayerNorm gains and biases off their initial 1 and 0.
            for p in &mut t.params {
                if p.shape.len() == 1 {
                    for (i, v) in p.value.iter_mut().enumerate() {
                        *v += 0.1 * ((i % 5) as f32 - 2.0);
                    }
                }
            }
            let owned = Owned::new(9);
            let batch = owned.view();
            t.compute(&batch, w);
            let grads: Vec<Vec<f32>> = t.params.iter().map(|p| p.grad.clone()).collect();
            let eps = 1e-3f32;
            for (pi, g) in grads.iter().enumerate() {
                // The largest gradients of each parameter, skipping any element whose
                // one-sided differences disagree (a ReLU kink within eps of it).
                let mut idx: Vec<usize> = (0..g.len()).collect();
                idx.sort_by(|&a, &b| g[b].abs().total_cmp(&g[a].abs()));
                let mut checked = 0;
                for &i in &idx {
                    let old = t.params[pi].value[i];
                    let base = total(t.compute(&batch, w), w);
                    t.params[pi].value[i] = old + eps;
                    let up = total(t.compute(&batch, w), w);
                    t.params[pi].value[i] = old - eps;
                    let down = total(t.compute(&batch, w), w);
                    t.params[pi].value[i] = old;
                    let (right, left) = ((up - base) / eps as f64, (base - down) / eps as f64);
                    if (right - left).abs() > 0.1 * right.abs().max(left.abs()) + 1e-3 {
                        continue;
                    }
                    let numeric = ((up - down) / (2.0 * eps as f64)) as f32;
                    let err = (numeric - g[i]).abs();
                    assert!(
                        err <= 1e-3 + 0.02 * g[i].abs(),
                        "{config}: parameter {pi} {:?} element {i}: analytic {} numeric {numeric}",
                        t.params[pi].shape,
                        g[i]
                    );
                    checked += 1;
                    if checked == 3 {
                        break;
                    }
                }
                assert!(checked > 0, "parameter {pi}: no element checked");
            }
        }
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        // Big enough (compact, 256 rows) that gemm splits the products between threads.
        let device = CpuDevice::default();
        let net =
            BlobNet::<Cpu>::new(&NetConfig::compact().with_trick_head(true), &device).unwrap();
        let owned = Owned::new(256);
        let w = LossWeights {
            value: 1.0,
            tricks: 1.0,
        };
        let run = |threads: usize| {
            let mut t = PlainTrainer::new(&net, 1e-4).unwrap().with_threads(threads);
            let mut losses = Vec::new();
            for _ in 0..3 {
                let l = t.compute(&owned.view(), w);
                losses.push([l.policy, l.value, l.tricks].map(f32::to_bits));
                t.update(1e-3);
            }
            let bits: Vec<Vec<u32>> = t
                .params
                .iter()
                .map(|p| p.value.iter().map(|v| v.to_bits()).collect())
                .collect();
            (losses, bits)
        };
        let one = run(1);
        for threads in [0, 2, 3, 0] {
            assert!(run(threads) == one, "{threads} threads");
        }
    }

    #[test]
    fn uncovered_networks_are_refused() {
        let device = CpuDevice::default();
        let gelu = NetConfig {
            activation: Activation::Gelu,
            ..NetConfig::tiny()
        };
        let owners = NetConfig::tiny().with_owner_head(true);
        for config in [gelu, owners] {
            let net = BlobNet::<Cpu>::new(&config, &device).unwrap();
            assert!(PlainTrainer::new(&net, 0.0).is_none(), "{config}");
        }
        let net = BlobNet::<Cpu>::new(&NetConfig::tiny(), &device).unwrap();
        assert!(PlainTrainer::new(&net, 0.0).is_some());
    }

    #[test]
    fn an_update_without_new_gradients_changes_nothing() {
        let device = CpuDevice::default();
        let net = BlobNet::<Cpu>::new(&NetConfig::tiny(), &device).unwrap();
        let mut t = PlainTrainer::new(&net, 1e-4).unwrap();
        let owned = Owned::new(4);
        let w = LossWeights {
            value: 1.0,
            tricks: 1.0,
        };
        t.compute(&owned.view(), w);
        t.update(1e-3);
        let after_one: Vec<Vec<f32>> = t.params.iter().map(|p| p.value.clone()).collect();
        assert!(t.params.iter().all(|p| p.time == 1));
        t.update(1e-3);
        assert!(t.params.iter().zip(&after_one).all(|(p, v)| &p.value == v));
        assert!(t.params.iter().all(|p| p.time == 1));
    }
}

//! BlobNet: a residual MLP with a masked policy head and a per-seat value head.
//!
//! ```text
//! x = Linear(256 -> width)(input)
//! repeat blocks: x = x + Linear(hidden -> width)(act(Linear(width -> hidden)(norm(x))))
//! x = norm(x)
//! log_policy = log_softmax over legal actions of Linear(width -> 52)(x)
//! values     = tanh(Linear(width -> 8)(x))
//! tricks     = Linear(width -> 8 x 18)(x)   (optional: per seat, logits over tricks still won)
//! owners     = Linear(width -> 52 x 8)(x)   (optional, training only: per card, who holds it)
//! ```
//! `norm` is a LayerNorm when the config enables it, the identity otherwise.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::{LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::tensor::Tensor;
use burn::tensor::activation::{gelu, log_softmax, relu, tanh};
use burn::tensor::backend::Backend;

use crate::config::{Activation, ConfigError, NetConfig};

/// What an illegal action's logit becomes before the softmax. Large enough that exp() of it
/// relative to any real logit is exactly 0 in f32, finite so that no NaN can appear even
/// when a row has no legal action (that row then comes out uniform).
pub const ILLEGAL_LOGIT: f32 = -1.0e9;

/// The LayerNorms' epsilon (Burn's default, named so that [`crate::plain`] uses the same).
pub const LAYER_NORM_EPSILON: f64 = 1e-5;

/// A linear layer's weight `[input, output]` and bias.
pub(crate) type LinearParts<B> = (Tensor<B, 2>, Option<Tensor<B, 1>>);
/// A LayerNorm's gain and bias.
pub(crate) type NormParts<B> = (Tensor<B, 1>, Option<Tensor<B, 1>>);
/// A residual block's norm, up and down layers.
pub(crate) type BlockParts<B> = (Option<NormParts<B>>, LinearParts<B>, LinearParts<B>);

/// Every weight the inference forward pass reads, for [`crate::plain::PlainNet`].
pub(crate) struct NetParts<B: Backend> {
    pub input: LinearParts<B>,
    pub blocks: Vec<BlockParts<B>>,
    pub final_norm: Option<NormParts<B>>,
    pub policy: LinearParts<B>,
    pub value: LinearParts<B>,
    pub tricks: Option<LinearParts<B>>,
}

fn linear_parts<B: Backend>(l: &Linear<B>) -> LinearParts<B> {
    (l.weight.val(), l.bias.as_ref().map(|b| b.val()))
}

fn norm_parts<B: Backend>(n: &LayerNorm<B>) -> NormParts<B> {
    (n.gamma.val(), n.beta.as_ref().map(|b| b.val()))
}

/// One pre-norm residual block.
#[derive(Module, Debug)]
pub struct Block<B: Backend> {
    norm: Option<LayerNorm<B>>,
    up: Linear<B>,
    down: Linear<B>,
}

/// The network. It carries its own [`NetConfig`] so that a checkpoint can record it.
#[derive(Module, Debug)]
pub struct BlobNet<B: Backend> {
    input: Linear<B>,
    blocks: Vec<Block<B>>,
    final_norm: Option<LayerNorm<B>>,
    policy: Linear<B>,
    /// `[N, 8]`, never `[N, 1]`: Burn issue #5122 (CUDA with fusion) gave wrong rows after
    /// the first for a batched MLP ending in a `[N, 1]` tanh. Keep this head 8 wide.
    value: Linear<B>,
    /// The auxiliary tricks head (`NetConfig::trick_outputs`), if configured.
    tricks: Option<Linear<B>>,
    /// The auxiliary owners head (`NetConfig::owner_outputs`), if configured. Only the
    /// learner computes it ([`BlobNet::forward_with_owners`]).
    owners: Option<Linear<B>>,
    /// Not a parameter: kept through `clone`, `valid`, optimizer steps and record loads.
    #[module(skip)]
    config: NetConfig,
}

/// Forces each parameter's lazy initialisation (see [`BlobNet::new`]).
struct Materialize;

impl<B: Backend> ModuleVisitor<B> for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let _ = param.val();
    }
}

/// The network's answer for a batch of N positions.
#[derive(Debug, Clone)]
pub struct NetOutput<B: Backend> {
    /// `[N, 52]` raw policy logits, before masking (for diagnostics; the loss should use
    /// `log_policy`, which respects the mask).
    pub logits: Tensor<B, 2>,
    /// `[N, 52]` log-probabilities over the legal actions; illegal ones are about -1e9.
    pub log_policy: Tensor<B, 2>,
    /// `[N, 8]` values in (-1, 1), seats relative to the mover.
    pub values: Tensor<B, 2>,
    /// `[N, 8 x 18]` logits of the tricks each seat (relative to the mover) still wins, seat
    /// by seat, when the network has the tricks head.
    pub trick_logits: Option<Tensor<B, 2>>,
}

impl<B: Backend> BlobNet<B> {
    /// A freshly initialised network (Burn's default init: Kaiming-uniform linears, unit
    /// LayerNorm gains). Seed with `B::seed(device, seed)` first for a repeatable init.
    ///
    /// Every parameter is initialised here, eagerly: Burn 0.21 initialises parameters lazily,
    /// and a clone of a not-yet-initialised parameter draws its own, different, random
    /// values, so `net.clone()` (or saving a clone) would silently not be `net`.
    pub fn new(config: &NetConfig, device: &B::Device) -> Result<BlobNet<B>, ConfigError> {
        config.validate()?;
        let linear = |a, b| LinearConfig::new(a, b).init(device);
        let norm = || {
            config.layer_norm.then(|| {
                LayerNormConfig::new(config.width)
                    .with_epsilon(LAYER_NORM_EPSILON)
                    .init(device)
            })
        };
        let net = BlobNet {
            input: linear(config.input, config.width),
            blocks: (0..config.blocks)
                .map(|_| Block {
                    norm: norm(),
                    up: linear(config.width, config.hidden),
                    down: linear(config.hidden, config.width),
                })
                .collect(),
            final_norm: norm(),
            policy: linear(config.width, config.policy_outputs),
            value: linear(config.width, config.value_outputs),
            tricks: config
                .has_trick_head()
                .then(|| linear(config.width, config.trick_outputs)),
            owners: config
                .has_owner_head()
                .then(|| linear(config.width, config.owner_outputs)),
            config: config.clone(),
        };
        net.visit(&mut Materialize);
        Ok(net)
    }

    pub fn config(&self) -> &NetConfig {
        &self.config
    }

    /// The weights the inference forward pass reads (not the owners head).
    pub(crate) fn parts(&self) -> NetParts<B> {
        NetParts {
            input: linear_parts(&self.input),
            blocks: self
                .blocks
                .iter()
                .map(|b| {
                    (
                        b.norm.as_ref().map(norm_parts),
                        linear_parts(&b.up),
                        linear_parts(&b.down),
                    )
                })
                .collect(),
            final_norm: self.final_norm.as_ref().map(norm_parts),
            policy: linear_parts(&self.policy),
            value: linear_parts(&self.value),
            tricks: self.tricks.as_ref().map(linear_parts),
        }
    }

    /// `input` `[N, 256]`, `mask` `[N, 52]` (1 legal, 0 illegal).
    pub fn forward(&self, input: Tensor<B, 2>, mask: Tensor<B, 2>) -> NetOutput<B> {
        self.heads(self.body(input), mask)
    }

    /// [`BlobNet::forward`] plus the owners head's logits, `[N, 52 x 8]` card by card, when
    /// the network has that head (a training target only: inference skips its cost).
    pub fn forward_with_owners(
        &self,
        input: Tensor<B, 2>,
        mask: Tensor<B, 2>,
    ) -> (NetOutput<B>, Option<Tensor<B, 2>>) {
        let x = self.body(input);
        let owners = self.owners.as_ref().map(|head| head.forward(x.clone()));
        (self.heads(x, mask), owners)
    }

    fn heads(&self, x: Tensor<B, 2>, mask: Tensor<B, 2>) -> NetOutput<B> {
        let logits = self.policy.forward(x.clone());
        let log_policy = log_softmax(
            logits
                .clone()
                .mask_fill(mask.lower_elem(0.5), ILLEGAL_LOGIT),
            1,
        );
        let trick_logits = self.tricks.as_ref().map(|head| head.forward(x.clone()));
        let values = tanh(self.value.forward(x));
        NetOutput {
            logits,
            log_policy,
            values,
            trick_logits,
        }
    }

    /// The residual stream after the final norm, `[N, width]`.
    fn body(&self, input: Tensor<B, 2>) -> Tensor<B, 2> {
        let mut x = self.input.forward(input);
        for block in &self.blocks {
            let h = match &block.norm {
                Some(norm) => norm.forward(x.clone()),
                None => x.clone(),
            };
            let h = block.up.forward(h);
            let h = match self.config.activation {
                Activation::Relu => relu(h),
                Activation::Gelu => gelu(h),
            };
            x = x + block.down.forward(h);
        }
        match &self.final_norm {
            Some(norm) => norm.forward(x),
            None => x,
        }
    }

    /// The shape of every parameter, in visiting order: two networks with equal lists can
    /// load each other's records.
    pub fn parameter_shapes(&self) -> Vec<Vec<usize>> {
        struct Shapes(Vec<Vec<usize>>);
        impl<B: Backend> ModuleVisitor<B> for Shapes {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
                self.0.push(param.lazy_shape().to_vec());
            }
        }
        let mut v = Shapes(Vec::new());
        self.visit(&mut v);
        v.0
    }
}

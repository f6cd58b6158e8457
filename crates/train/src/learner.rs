//! The learner: masked policy cross-entropy plus value MSE (plus the auxiliary heads'
//! cross-entropies), AdamW, a cosine learning-rate schedule.
//!
//! Two implementations of the same step: Burn's autodiff on the chosen backend, and on the
//! CPU backend, for the networks it covers (ReLU, no owners head), a plain-`f32` copy of the
//! weights and optimizer state ([`model::plain_train::PlainTrainer`]) that computes the same
//! loss, gradients and AdamW step, to float rounding, without Burn's per-operation overhead
//! (`tests/plain_learner.rs`). Either way the weights ([`Learner::net`]) and the optimizer
//! file ([`Learner::optimizer_bytes`], Burn's AdamW record) are the same, so a run saved by
//! one resumes on the other.

use crate::buffer::ReplayBuffer;
use crate::example::Example;
use burn::module::{AutodiffModule, Module, ModuleVisitor, Param, ParamId};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::record::{AdaptorRecord, AdaptorRecordV1};
use burn::optim::{
    AdamW, AdamWConfig, AdamWState, AdaptiveMomentumState, GradientsParams, Optimizer,
};
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::activation::log_softmax;
use burn::tensor::backend::AutodiffBackend;
use burn::tensor::{Tensor, TensorData};
use game::encoding::offset;
use game::symmetry::SuitPermutation;
use game::{Card, ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS, Suit};
use mcts::value::TRICK_CLASSES;
use model::config::{NetConfig, OWNER_CLASSES};
use model::net::BlobNet;
use model::plain_train::{LossWeights, PlainTrainer, TrainBatch};
use rand::Rng;
use serde::{Deserialize, Serialize};
use std::any::TypeId;
use std::sync::OnceLock;

/// The learner's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LearnerConfig {
    /// Peak learning rate, reached at the first iteration; cosine decay to `lr_final`.
    pub lr: f64,
    pub lr_final: f64,
    pub weight_decay: f32,
    pub batch_size: usize,
    /// Weight of the value loss against the policy loss.
    pub value_weight: f32,
    /// Weight of the tricks head's loss (cross-entropy of each seat's tricks still won),
    /// when the network has that head.
    pub tricks_weight: f32,
    /// Weight of the owners head's loss (cross-entropy of who holds each card the mover
    /// cannot see), when the network has that head.
    #[serde(default = "default_owners_weight")]
    pub owners_weight: f32,
    /// At most this many samples trained per new sample (KataGo uses at most 4).
    pub samples_per_new: f32,
    /// No training until the buffer holds this many examples.
    pub min_buffer: usize,
    /// Show each sampled example under a random renaming of the suits other than trump
    /// (`game::symmetry`): the rules treat them alike, so this multiplies the data.
    pub augment_suits: bool,
}

/// `[learner]` of configs/default.toml, the one source of defaults.
impl Default for LearnerConfig {
    fn default() -> Self {
        crate::config::TrainConfig::default().learner
    }
}

/// What a config saved before the owners head existed reads as its weight.
fn default_owners_weight() -> f32 {
    1.0
}

impl LearnerConfig {
    pub fn validate(&self) -> Result<(), String> {
        let positive = |name: &str, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(format!("learner.{name} must be a positive number, not {v}"))
            }
        };
        positive("lr", self.lr)?;
        positive("lr_final", self.lr_final)?;
        positive("value_weight", self.value_weight as f64)?;
        for (name, w) in [
            ("tricks_weight", self.tricks_weight),
            ("owners_weight", self.owners_weight),
        ] {
            if !(w.is_finite() && w >= 0.0) {
                return Err(format!("learner.{name} must be >= 0, not {w}"));
            }
        }
        positive("samples_per_new", self.samples_per_new as f64)?;
        if self.samples_per_new > 1000.0 {
            return Err(format!(
                "learner.samples_per_new must be at most 1000, not {}",
                self.samples_per_new
            ));
        }
        if self.lr > 10.0 || self.lr_final > 10.0 {
            return Err("learner.lr and learner.lr_final must be at most 10".into());
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return Err(format!(
                "learner.weight_decay must be >= 0, not {}",
                self.weight_decay
            ));
        }
        if !(1..=65_536).contains(&self.batch_size) {
            return Err(format!(
                "learner.batch_size must be 1 to 65536, not {}",
                self.batch_size
            ));
        }
        Ok(())
    }

    /// Learning rate at `iteration` of `iterations` (cosine from `lr` to `lr_final`).
    pub fn lr_at(&self, iteration: u64, iterations: u64) -> f64 {
        let t = iteration as f64 / iterations.max(1) as f64;
        self.lr_final
            + 0.5 * (self.lr - self.lr_final) * (1.0 + (std::f64::consts::PI * t.min(1.0)).cos())
    }

    /// Steps to train after `new` new examples, under the samples-per-new-sample cap.
    pub fn steps_for(&self, new: usize, buffered: usize) -> usize {
        if buffered < self.min_buffer.max(self.batch_size) {
            return 0;
        }
        (new as f64 * self.samples_per_new as f64 / self.batch_size as f64).floor() as usize
    }
}

/// Mean losses over the steps of one training phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Losses {
    pub policy: f32,
    pub value: f32,
    /// The tricks head's loss (0 without the head).
    #[serde(default)]
    pub tricks: f32,
    /// The owners head's loss (0 without the head).
    #[serde(default)]
    pub owners: f32,
    pub steps: u64,
}

/// A loss that is NaN or infinite: training stops, the last good checkpoint stays.
#[derive(Debug, thiserror::Error)]
#[error(
    "training diverged at step {step}: {what} loss is {value} (not finite); the last good checkpoint is kept"
)]
pub struct Diverged {
    pub step: u64,
    pub what: &'static str,
    pub value: f32,
}

/// The network being trained and its optimizer.
pub struct Learner<B: AutodiffBackend> {
    /// The network (Burn's path); with `plain`, only the parameters' ids and shapes count
    /// (its values stay those of the start).
    net: BlobNet<B>,
    /// The optimizer (Burn's path; unused with `plain`).
    optim: OptimizerAdaptor<AdamW, BlobNet<B>, B>,
    /// The plain-`f32` weights and optimizer state, when this learner trains that way.
    plain: Option<PlainTrainer>,
    /// With `plain`: `net` holding the plain weights, built when first asked for after a
    /// step (most steps are not followed by a read of the weights).
    synced: OnceLock<BlobNet<B>>,
    device: B::Device,
    config: LearnerConfig,
    steps: u64,
}

// NamedMpk returns errors on damaged bytes (BinBytesRecorder panics on them).
type StateRecorder = NamedMpkBytesRecorder<FullPrecisionSettings>;

/// Burn's AdamW state for a whole network: one record per parameter id.
type OptimRecord<B> = <OptimizerAdaptor<AdamW, BlobNet<B>, B> as Optimizer<BlobNet<B>, B>>::Record;

/// Every parameter's id, in visiting order (the order of [`PlainTrainer`]'s parameters).
fn param_ids<B: burn::tensor::backend::Backend>(net: &BlobNet<B>) -> Vec<ParamId> {
    struct Ids(Vec<ParamId>);
    impl<B: burn::tensor::backend::Backend> ModuleVisitor<B> for Ids {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0.push(param.id);
        }
    }
    let mut ids = Ids(Vec::new());
    net.visit(&mut ids);
    ids.0
}

impl<B: AutodiffBackend> Learner<B> {
    /// A learner for `net`. On the CPU backend ([`model::backend::Cpu`]), for a network
    /// [`PlainTrainer`] covers (ReLU, no owners head), the steps run in plain `f32`; other
    /// backends and networks run Burn's autodiff. Both compute the same step.
    pub fn new(net: BlobNet<B>, config: LearnerConfig, device: B::Device) -> Learner<B> {
        let mut learner = Learner::burn_only(net, config, device);
        if TypeId::of::<B::InnerBackend>() == TypeId::of::<model::backend::Cpu>() {
            // On the calling thread: on the 2-core machines splitting the products over
            // Rayon's threads was slower (`PlainTrainer::with_threads`).
            learner.plain = PlainTrainer::new(&learner.net, learner.config.weight_decay);
        }
        learner
    }

    /// A learner that always trains through Burn's autodiff (to compare against, and to
    /// time).
    pub fn burn_only(net: BlobNet<B>, config: LearnerConfig, device: B::Device) -> Learner<B> {
        let optim = AdamWConfig::new()
            .with_weight_decay(config.weight_decay)
            .init::<B, BlobNet<B>>();
        Learner {
            net,
            optim,
            plain: None,
            synced: OnceLock::new(),
            device,
            config,
            steps: 0,
        }
    }

    /// [`Learner::burn_only`] when `burn`, else [`Learner::new`] (the benchmarks' switch).
    pub fn with_burn_learner(
        net: BlobNet<B>,
        config: LearnerConfig,
        device: B::Device,
        burn: bool,
    ) -> Learner<B> {
        if burn {
            Learner::burn_only(net, config, device)
        } else {
            Learner::new(net, config, device)
        }
    }

    /// Whether the steps run in plain `f32` rather than through Burn's autodiff.
    pub fn is_plain(&self) -> bool {
        self.plain.is_some()
    }

    /// The training step this learner uses: `plain` or `burn`.
    pub fn learner_name(&self) -> &'static str {
        if self.is_plain() { "plain" } else { "burn" }
    }

    /// The network with its current weights.
    pub fn net(&self) -> &BlobNet<B> {
        match &self.plain {
            Some(plain) => self
                .synced
                .get_or_init(|| plain.write_into(self.net.clone())),
            None => &self.net,
        }
    }

    pub fn net_config(&self) -> &NetConfig {
        self.net.config()
    }

    /// The weights without autodiff, for inference.
    pub fn inference_net(&self) -> BlobNet<B::InnerBackend> {
        self.net().valid()
    }

    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// Trains `steps` batches sampled uniformly from `buffer` at learning rate `lr`.
    /// `go_on` is asked before each step; `Ok(None)` when it said no (a stop request).
    pub fn train<R: Rng + ?Sized>(
        &mut self,
        buffer: &ReplayBuffer,
        steps: usize,
        lr: f64,
        rng: &mut R,
        mut go_on: impl FnMut() -> bool,
    ) -> Result<Option<Losses>, Diverged> {
        let mut sum = Losses::default();
        for _ in 0..steps {
            if !go_on() {
                return Ok(None);
            }
            let batch = buffer.sample(self.config.batch_size, rng);
            let b = Batch::of(
                &batch,
                self.net.config().has_owner_head(),
                self.config.augment_suits.then_some(&mut *rng),
            );
            let step = self.step_batch(b, lr)?;
            sum.policy += step.policy;
            sum.value += step.value;
            sum.tricks += step.tricks;
            sum.owners += step.owners;
            sum.steps += 1;
        }
        if sum.steps > 0 {
            let n = sum.steps as f32;
            sum.policy /= n;
            sum.value /= n;
            sum.tricks /= n;
            sum.owners /= n;
        }
        Ok(Some(sum))
    }

    /// One optimiser step on `batch` (as stored, no augmentation); returns (policy loss,
    /// value loss).
    pub fn step(&mut self, batch: &[&Example], lr: f64) -> Result<(f32, f32), Diverged> {
        let owners = self.net.config().has_owner_head();
        let step = self.step_batch(Batch::of::<rand::rngs::ThreadRng>(batch, owners, None), lr)?;
        Ok((step.policy, step.value))
    }

    /// One optimiser step; returns its losses (0 for a head the network lacks). A loss that
    /// is not finite returns [`Diverged`] before the weights change.
    fn step_batch(&mut self, b: Batch, lr: f64) -> Result<Losses, Diverged> {
        if self.plain.is_some() {
            return self.plain_step(b, lr);
        }
        let terms = loss_terms(&self.net, b, &self.device);
        let mut loss =
            terms.policy.clone() + terms.value.clone().mul_scalar(self.config.value_weight);
        if let Some(tricks) = &terms.tricks {
            loss = loss + tricks.clone().mul_scalar(self.config.tricks_weight);
        }
        if let Some(owners) = &terms.owners {
            loss = loss + owners.clone().mul_scalar(self.config.owners_weight);
        }
        // One read of the device a step (a GPU would otherwise sync once per loss); a
        // missing head reads as 0.
        let zero = || Tensor::<B, 1>::zeros([1], &self.device);
        let parts = vec![
            terms.policy.reshape([1]),
            terms.value.reshape([1]),
            terms.tricks.map_or_else(zero, |t| t.reshape([1])),
            terms.owners.map_or_else(zero, |t| t.reshape([1])),
        ];
        let read = Tensor::cat(parts, 0).detach().into_data().convert::<f32>();
        // Unreadable reads as NaN, which the check below reports as a diverged loss.
        let losses = read.to_vec::<f32>().unwrap_or_else(|_| vec![f32::NAN; 4]);
        let step = Losses {
            policy: losses[0],
            value: losses[1],
            tricks: losses[2],
            owners: losses[3],
            steps: 1,
        };
        self.count_step(&step)?;
        let grads = GradientsParams::from_grads(loss.backward(), &self.net);
        self.net = self.optim.step(lr, self.net.clone(), grads);
        Ok(step)
    }

    /// [`Learner::step_batch`] in plain `f32`.
    fn plain_step(&mut self, b: Batch, lr: f64) -> Result<Losses, Diverged> {
        let weights = LossWeights {
            value: self.config.value_weight,
            tricks: self.config.tricks_weight,
        };
        let plain = self.plain.as_mut().expect("the plain path");
        let l = plain.compute(&b.view(), weights);
        let step = Losses {
            policy: l.policy,
            value: l.value,
            tricks: l.tricks,
            owners: 0.0,
            steps: 1,
        };
        self.count_step(&step)?;
        self.plain.as_mut().expect("the plain path").update(lr);
        self.synced = OnceLock::new();
        Ok(step)
    }

    /// Counts a step; [`Diverged`] when one of its losses is not finite.
    fn count_step(&mut self, step: &Losses) -> Result<(), Diverged> {
        self.steps += 1;
        for (what, value) in [
            ("policy", step.policy),
            ("value", step.value),
            ("tricks", step.tricks),
            ("owners", step.owners),
        ] {
            if !value.is_finite() {
                return Err(Diverged {
                    step: self.steps,
                    what,
                    value,
                });
            }
        }
        Ok(())
    }

    /// The optimizer's state as bytes (saved beside the checkpoint for an exact resume):
    /// Burn's AdamW record on both paths.
    pub fn optimizer_bytes(&self) -> Result<Vec<u8>, String> {
        let record = match &self.plain {
            Some(plain) => self.plain_record(plain),
            None => self.optim.to_record(),
        };
        StateRecorder::default()
            .record(record, ())
            .map_err(|e| format!("cannot encode the optimizer state: {e}"))
    }

    /// Restores the optimizer's state from [`Learner::optimizer_bytes`].
    pub fn load_optimizer_bytes(&mut self, bytes: Vec<u8>, steps: u64) -> Result<(), String> {
        let record: OptimRecord<B> = StateRecorder::default()
            .load(bytes, &self.device)
            .map_err(|e| format!("cannot read the optimizer state: {e}"))?;
        match &mut self.plain {
            Some(plain) => {
                // Into a copy, so that an error leaves the state as it was.
                let mut loaded = plain.clone();
                load_plain_record(&mut loaded, &param_ids(&self.net), record)?;
                *plain = loaded;
            }
            None => self.optim = self.optim.clone().load_record(record),
        }
        self.steps = steps;
        Ok(())
    }

    /// The plain optimizer state as Burn's record: each parameter's moments and time under
    /// its id, none for a parameter not yet stepped (as Burn).
    fn plain_record(&self, plain: &PlainTrainer) -> OptimRecord<B> {
        let mut record = OptimRecord::<B>::default();
        for (i, id) in param_ids(&self.net).into_iter().enumerate() {
            let m = plain.moments(i);
            if m.time == 0 {
                continue;
            }
            let shape = plain.shape(i).to_vec();
            let entry = match shape.len() {
                1 => adaptor_record::<B, 1>(&m, shape, &self.device),
                2 => adaptor_record::<B, 2>(&m, shape, &self.device),
                rank => unreachable!("BlobNet has no rank-{rank} parameter"),
            };
            record.insert(id, entry);
        }
        record
    }
}

/// One parameter's plain AdamW state as Burn's record.
fn adaptor_record<B: AutodiffBackend, const D: usize>(
    m: &model::plain_train::Moments,
    shape: Vec<usize>,
    device: &B::Device,
) -> AdaptorRecord<AdamW, B> {
    let tensor = |values: &[f32]| {
        Tensor::<B::InnerBackend, D>::from_data(
            TensorData::new(values.to_vec(), shape.clone()),
            device,
        )
    };
    AdaptorRecord::from_state(AdamWState::new(AdaptiveMomentumState::new(
        m.time,
        tensor(m.moment_1),
        tensor(m.moment_2),
    )))
}

/// Burn's AdamW record into the plain trainer: each parameter's state by its id (`ids`, in
/// visiting order); a parameter without one starts afresh, as in Burn.
fn load_plain_record<B: AutodiffBackend>(
    plain: &mut PlainTrainer,
    ids: &[ParamId],
    mut record: OptimRecord<B>,
) -> Result<(), String> {
    fn values<B: burn::tensor::backend::Backend, const D: usize>(
        state: AdamWState<B, D>,
    ) -> Result<(usize, Vec<f32>, Vec<f32>), String> {
        let m = state.momentum;
        let read = |t: Tensor<B, D>| {
            t.into_data()
                .convert::<f32>()
                .to_vec::<f32>()
                .map_err(|e| format!("unreadable optimizer moments: {e:?}"))
        };
        Ok((m.time, read(m.moment_1)?, read(m.moment_2)?))
    }
    for (i, id) in ids.iter().enumerate() {
        let rank = plain.shape(i).len();
        let state = match (record.remove(id), rank) {
            (None, _) => None,
            (Some(AdaptorRecord::V1(AdaptorRecordV1::Rank1(s))), 1) => Some(values(s)?),
            (Some(AdaptorRecord::V1(AdaptorRecordV1::Rank2(s))), 2) => Some(values(s)?),
            (Some(_), _) => {
                return Err(format!(
                    "the state of parameter {i} does not have its rank {rank}: not this network's optimizer"
                ));
            }
        };
        match state {
            Some((time, m1, m2)) => plain
                .set_moments(i, Some((m1, m2)), time)
                .map_err(|e| format!("parameter {i}: {e}: not this network's optimizer"))?,
            None => plain.set_moments(i, None, 0)?,
        }
    }
    Ok(())
}

/// The loss terms of one batch, as tensors (scalars).
struct LossTerms<B: burn::tensor::backend::Backend> {
    policy: Tensor<B, 1>,
    value: Tensor<B, 1>,
    tricks: Option<Tensor<B, 1>>,
    owners: Option<Tensor<B, 1>>,
}

fn loss_terms<B: burn::tensor::backend::Backend>(
    net: &BlobNet<B>,
    b: Batch,
    device: &B::Device,
) -> LossTerms<B> {
    let n = b.rows;
    let t = |data: Vec<f32>, width: usize| {
        Tensor::<B, 2>::from_data(TensorData::new(data, [n, width]), device)
    };
    let (out, owner_logits) =
        net.forward_with_owners(t(b.inputs, ENCODING_LEN), t(b.masks, NUM_ACTIONS));
    let target_policy = t(b.policy, NUM_ACTIONS);
    // Cross-entropy against the search's visit distribution, averaged over the rows that
    // have one (value-only rows have an all-zero target). Illegal actions have target 0 and
    // a very negative (finite) log-probability, so they add exactly 0.
    let policy_rows = b.policy_rows.max(1) as f32;
    let policy = (target_policy * out.log_policy)
        .sum()
        .neg()
        .div_scalar(policy_rows);
    let seat_mask = t(b.seat_mask, MAX_PLAYERS);
    let seats = seat_mask.clone().sum();
    let diff = out.values - t(b.values, MAX_PLAYERS);
    let value = (diff.clone() * diff * seat_mask).sum() / seats;
    // Cross-entropy of each seat's tricks distribution, averaged over the seats that have a
    // target (rows and seats without one have an all-zero target).
    let tricks = out.trick_logits.map(|logits| {
        let targets = b.trick_targets.max(1) as f32;
        let log_p = log_softmax(logits.reshape([n, MAX_PLAYERS, TRICK_CLASSES]), 2);
        let target = Tensor::<B, 3>::from_data(
            TensorData::new(b.tricks, [n, MAX_PLAYERS, TRICK_CLASSES]),
            device,
        );
        (log_p * target).sum().neg().div_scalar(targets)
    });
    // Cross-entropy of who holds each card the mover cannot see, averaged over those cards.
    let owners = owner_logits.map(|logits| {
        let targets = b.owner_targets.max(1) as f32;
        let log_p = log_softmax(logits.reshape([n, Card::COUNT, OWNER_CLASSES]), 2);
        let target = Tensor::<B, 3>::from_data(
            TensorData::new(b.owners, [n, Card::COUNT, OWNER_CLASSES]),
            device,
        );
        (log_p * target).sum().neg().div_scalar(targets)
    });
    LossTerms {
        policy,
        value,
        tricks,
        owners,
    }
}

/// A batch as flat rows.
struct Batch {
    rows: usize,
    inputs: Vec<f32>,
    masks: Vec<f32>,
    policy: Vec<f32>,
    values: Vec<f32>,
    seat_mask: Vec<f32>,
    policy_rows: usize,
    /// One-hot tricks targets, n x 8 x 18 (all zero where a seat has none), and their count.
    tricks: Vec<f32>,
    trick_targets: usize,
    /// One-hot owners targets, n x 52 x 8 (all zero for a card without one), and their
    /// count; empty when the network has no owners head.
    owners: Vec<f32>,
    owner_targets: usize,
}

impl Batch {
    /// The batch as the plain trainer reads it.
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

    /// The rows of `examples`, each under a random renaming of its non-trump suits when
    /// `augment` holds a generator; with the owners targets when `owners` says so.
    fn of<R: Rng + ?Sized>(
        examples: &[&Example],
        owners: bool,
        mut augment: Option<&mut R>,
    ) -> Batch {
        let n = examples.len();
        let mut b = Batch {
            rows: n,
            inputs: vec![0.0; n * ENCODING_LEN],
            masks: vec![0.0; n * NUM_ACTIONS],
            policy: Vec::with_capacity(n * NUM_ACTIONS),
            values: Vec::with_capacity(n * MAX_PLAYERS),
            seat_mask: Vec::with_capacity(n * MAX_PLAYERS),
            policy_rows: examples.iter().filter(|e| e.has_policy()).count(),
            tricks: vec![0.0; n * MAX_PLAYERS * TRICK_CLASSES],
            trick_targets: 0,
            owners: if owners {
                vec![0.0; n * Card::COUNT * OWNER_CLASSES]
            } else {
                Vec::new()
            },
            owner_targets: 0,
        };
        for (i, e) in examples.iter().enumerate() {
            let row = &mut b.inputs[i * ENCODING_LEN..(i + 1) * ENCODING_LEN];
            e.encoding_f32(row);
            // Seats beyond the player count have no value to learn.
            let players = game::encoding::players_of(row);
            let mask = &mut b.masks[i * NUM_ACTIONS..(i + 1) * NUM_ACTIONS];
            e.mask_f32(mask);
            let mut policy = e.policy;
            let mut perm = None;
            if let Some(rng) = augment.as_deref_mut() {
                let row: &mut [f32; ENCODING_LEN] = row.try_into().expect("one encoding");
                let trump = (0..4)
                    .find(|&s| row[offset::TRUMP + s] > 0.5)
                    .map(Suit::from_index);
                let p = SuitPermutation::random(trump, rng);
                p.apply_to_encoding(row);
                // During bidding the actions are bids, which no renaming touches.
                if game::encoding::is_play_phase(row) {
                    let mask: &mut [f32; NUM_ACTIONS] = mask.try_into().expect("one mask");
                    p.apply_to_card_actions(mask);
                    p.apply_to_card_actions(&mut policy);
                }
                perm = Some(p);
            }
            if owners {
                for (c, &class) in e.owners.iter().enumerate() {
                    if (class as usize) < OWNER_CLASSES {
                        let c = perm.as_ref().map_or(c, |p| p.card(c));
                        b.owners[(i * Card::COUNT + c) * OWNER_CLASSES + class as usize] = 1.0;
                        b.owner_targets += 1;
                    }
                }
            }
            b.policy.extend_from_slice(&policy);
            b.values.extend_from_slice(&e.value);
            for (seat, &t) in e.tricks.iter().enumerate() {
                if (t as usize) < TRICK_CLASSES {
                    b.tricks[(i * MAX_PLAYERS + seat) * TRICK_CLASSES + t as usize] = 1.0;
                    b.trick_targets += 1;
                }
            }
            b.seat_mask
                .extend((0..MAX_PLAYERS).map(|s| if s < players { 1.0 } else { 0.0 }));
        }
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::example::NO_OWNER;
    use model::backend::{CpuAutodiff, CpuDevice};
    use rand::SeedableRng;

    /// A play-phase example: the mover holds `held` and the owners head learns that `hidden`
    /// lies with the seat one place to its left.
    fn example(held: Card, hidden: Card) -> Example {
        let mut x = [0.0f32; ENCODING_LEN];
        x[offset::HAND + held.index()] = 1.0;
        x[offset::PLAYERS] = 3.0 / 8.0;
        x[offset::HAS_BID] = 1.0;
        x[offset::TO_ACT] = 1.0;
        x[offset::TRUMP + 4] = 1.0;
        let mut owners = [NO_OWNER; Card::COUNT];
        owners[hidden.index()] = 1;
        Example::new(
            &x,
            1 << held.index(),
            [0.0; NUM_ACTIONS],
            [0.0; MAX_PLAYERS],
        )
        .with_owners(owners)
    }

    #[test]
    fn suit_renaming_moves_the_owners_targets_with_the_cards() {
        // The held card and the hidden one share a suit; under every renaming they still do,
        // and each keeps its rank.
        let (held, hidden) = ("KH".parse().unwrap(), "3H".parse().unwrap());
        let e = example(held, hidden);
        let mut rng = game::GameRng::seed_from_u64(5);
        let mut suits_seen = [false; 4];
        for _ in 0..40 {
            let b = Batch::of(&[&e], true, Some(&mut rng));
            let held_at = (0..52)
                .find(|&c| b.inputs[offset::HAND + c] == 1.0)
                .expect("one held card");
            let targets: Vec<usize> = (0..52 * OWNER_CLASSES)
                .filter(|&i| b.owners[i] == 1.0)
                .collect();
            assert_eq!(targets.len(), 1);
            assert_eq!(b.owner_targets, 1);
            let (card, class) = (targets[0] / OWNER_CLASSES, targets[0] % OWNER_CLASSES);
            assert_eq!(class, 1);
            assert_eq!(card / 13, held_at / 13, "the two cards stay in one suit");
            assert_eq!(
                (card % 13, held_at % 13),
                (hidden.rank() as usize, held.rank() as usize)
            );
            suits_seen[card / 13] = true;
        }
        assert!(
            suits_seen.iter().all(|&s| s),
            "every suit appears: {suits_seen:?}"
        );
        // Without the head, no targets are built.
        let b = Batch::of::<game::GameRng>(&[&e], false, None);
        assert!(b.owners.is_empty() && b.owner_targets == 0);
    }

    #[test]
    fn the_owners_head_learns_its_targets() {
        let device = CpuDevice::default();
        let config = NetConfig::tiny().with_owner_head(true);
        let net = BlobNet::<CpuAutodiff>::new(&config, &device).unwrap();
        let mut learner = Learner::new(net, LearnerConfig::default(), device);
        let batch: Vec<Example> = (0..13)
            .map(|r| example(Card::of(Suit::Spades, r), Card::of(Suit::Clubs, r)))
            .collect();
        let refs: Vec<&Example> = batch.iter().collect();
        let owners_loss = |l: &mut Learner<CpuAutodiff>| {
            let b = Batch::of::<game::GameRng>(&refs, true, None);
            let terms = loss_terms(&l.net.valid(), b, &l.device);
            terms.owners.expect("the head").into_scalar()
        };
        let before = owners_loss(&mut learner);
        for _ in 0..60 {
            learner.step(&refs, 1e-2).unwrap();
        }
        let after = owners_loss(&mut learner);
        assert!(before > 1.5 && after < 0.3 * before, "{before} -> {after}");
    }
}

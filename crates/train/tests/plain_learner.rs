//! The plain-`f32` learner (`model::plain_train`, what `Learner::new` runs on the CPU) against
//! Burn's autodiff learner: the same losses, gradients (AdamW's moments) and weights, to
//! float rounding, for every shape of network it covers; optimizer files that move between
//! the two; runs that repeat bit for bit.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::record::{AdaptorRecord, AdaptorRecordV1};
use burn::optim::{AdamW, Optimizer};
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor};
use game::{MAX_PLAYERS, NUM_ACTIONS, Round, RoundConfig, encode, rng_from_seed};
use model::backend::{Cpu, CpuAutodiff, CpuDevice};
use model::checkpoint::{self, Metadata};
use model::{Activation, BlobNet, NetConfig};
use rand::RngExt;
use train::example::{Example, NO_TRICKS};
use train::learner::{Learner, LearnerConfig};

type AD = CpuAutodiff;

/// The tolerance of a weight or loss: absolute and relative. The two paths differ only in
/// the order of float operations; from the same weights and AdamW state, one step at lr 1e-2
/// (each weight moves about 1e-2) leaves them some 1e-6 apart; a wrong gradient's sign or a
/// wrong step shows at 1e-3.
const TOL: f32 = 1e-4;

fn close(a: f32, b: f32, tol: f32) -> bool {
    (a - b).abs() <= tol * (1.0 + b.abs())
}

/// Adds noise to every parameter, so that LayerNorm gains and biases (1 and 0 when fresh)
/// and the linear biases are not at their initial values and a mix-up would show.
struct Perturb;

impl ModuleMapper<Cpu> for Perturb {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<Cpu, D>>) -> Param<Tensor<Cpu, D>> {
        param.map(|t| {
            let noise = t.random_like(Distribution::Uniform(-0.2, 0.2));
            t + noise
        })
    }
}

/// A perturbed network for training, loaded as a run loads its checkpoint.
fn start_net(config: &NetConfig, seed: u64) -> BlobNet<AD> {
    let device = CpuDevice::default();
    Cpu::seed(&device, seed);
    let net = BlobNet::<Cpu>::new(config, &device)
        .unwrap()
        .map(&mut Perturb);
    let meta = Metadata {
        iteration: 0,
        extra: Default::default(),
    };
    let bytes = checkpoint::to_bytes(&net, &meta).unwrap();
    checkpoint::from_bytes::<AD>(&bytes, config, &device)
        .unwrap()
        .0
}

/// `n` examples from random rounds of 3 to 8 players (seats beyond the player count are
/// masked): a third value-only (no legal action, an all-zero policy target), half with
/// tricks targets for the seats in play.
fn examples(n: usize, seed: u64) -> Vec<Example> {
    let mut rng = rng_from_seed(seed);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let players = rng.random_range(3..=8usize);
        let cards = rng.random_range(1..=5usize);
        let cfg = RoundConfig::new(players as u64, cards as u64, None, 0).unwrap();
        let mut round = Round::deal(cfg, &mut rng);
        let steps = rng.random_range(0..players + players * cards);
        for _ in 0..steps {
            if round.is_over() {
                break;
            }
            let legal = round.legal_actions();
            let pick = legal.nth(rng.random_range(0..legal.len())).unwrap();
            round.apply_index(pick).unwrap();
        }
        if round.is_over() {
            continue;
        }
        let obs = round.observation(round.to_act());
        let legal = round.legal_actions();
        let value_only = out.len() % 3 == 0;
        let mut policy = [0.0f32; NUM_ACTIONS];
        let mut bits = 0u64;
        if !value_only {
            let mut sum = 0.0;
            for a in legal.iter() {
                policy[a] = rng.random_range(0.05f32..1.0);
                sum += policy[a];
                bits |= 1 << a;
            }
            policy.iter_mut().for_each(|p| *p /= sum);
        }
        let value: [f32; MAX_PLAYERS] = std::array::from_fn(|_| rng.random_range(-1.0..1.0));
        let mut e = Example::new(&encode(&obs), bits, policy, value);
        if out.len() % 2 == 0 {
            let tricks: [u8; MAX_PLAYERS] = std::array::from_fn(|s| {
                if s < players {
                    rng.random_range(0..=cards as u8)
                } else {
                    NO_TRICKS
                }
            });
            e = e.with_tricks(tricks);
        }
        out.push(e);
    }
    out
}

fn learner_config() -> LearnerConfig {
    LearnerConfig {
        value_weight: 1.5,
        tricks_weight: 0.7,
        // Large enough that a missing or wrong decay shows within 5 steps.
        weight_decay: 0.1,
        ..LearnerConfig::default()
    }
}

/// Every parameter's values, in visiting order.
fn weights<B: Backend>(net: &BlobNet<B>) -> Vec<Vec<f32>> {
    struct Values(Vec<Vec<f32>>);
    impl<B: Backend> ModuleVisitor<B> for Values {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0
                .push(param.val().into_data().to_vec::<f32>().unwrap());
        }
    }
    let mut v = Values(Vec::new());
    net.visit(&mut v);
    v.0
}

fn param_ids<B: Backend>(net: &BlobNet<B>) -> Vec<ParamId> {
    struct Ids(Vec<ParamId>);
    impl<B: Backend> ModuleVisitor<B> for Ids {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0.push(param.id);
        }
    }
    let mut v = Ids(Vec::new());
    net.visit(&mut v);
    v.0
}

/// The largest difference between two weight lists relative to `1 + |b|`, and where.
fn worst(a: &[Vec<f32>], b: &[Vec<f32>]) -> (f32, usize) {
    assert_eq!(a.len(), b.len());
    let mut w = (0.0f32, 0);
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert_eq!(x.len(), y.len());
        for (p, q) in x.iter().zip(y) {
            let d = (p - q).abs() / (1.0 + q.abs());
            // A NaN counts as the worst.
            if d.is_nan() || d > w.0 {
                w = (d, i);
            }
        }
    }
    w
}

type Record = <OptimizerAdaptor<AdamW, BlobNet<AD>, AD> as Optimizer<BlobNet<AD>, AD>>::Record;

/// A learner's AdamW state by parameter, in visiting order: (time, moment 1, moment 2).
fn moments(l: &Learner<AD>) -> Vec<(usize, Vec<f32>, Vec<f32>)> {
    let bytes = l.optimizer_bytes().unwrap();
    let mut record: Record = NamedMpkBytesRecorder::<FullPrecisionSettings>::default()
        .load(bytes, &CpuDevice::default())
        .unwrap();
    let flat = |t: Tensor<Cpu, 1>| t.into_data().to_vec::<f32>().unwrap();
    param_ids(l.net())
        .iter()
        .map(
            |id| match record.remove(id).expect("a state for every parameter") {
                AdaptorRecord::V1(AdaptorRecordV1::Rank1(s)) => (
                    s.momentum.time,
                    flat(s.momentum.moment_1),
                    flat(s.momentum.moment_2),
                ),
                AdaptorRecord::V1(AdaptorRecordV1::Rank2(s)) => (
                    s.momentum.time,
                    flat(s.momentum.moment_1.flatten(0, 1)),
                    flat(s.momentum.moment_2.flatten(0, 1)),
                ),
                _ => panic!("BlobNet has rank-1 and rank-2 parameters only"),
            },
        )
        .collect()
}

/// The network shapes the plain path covers.
fn covered_configs() -> Vec<(&'static str, NetConfig)> {
    let tiny = NetConfig::tiny();
    vec![
        ("tiny + tricks", tiny.clone().with_trick_head(true)),
        ("tiny", tiny.clone()),
        (
            "compact-like + tricks",
            NetConfig::mlp(64, 2, 128).with_trick_head(true),
        ),
        (
            "no LayerNorm, 2 blocks",
            NetConfig {
                layer_norm: false,
                blocks: 2,
                ..tiny.clone().with_trick_head(true)
            },
        ),
        (
            "0 blocks",
            NetConfig {
                blocks: 0,
                ..tiny.clone().with_trick_head(true)
            },
        ),
        (
            "0 blocks, no LayerNorm, no tricks",
            NetConfig {
                blocks: 0,
                layer_norm: false,
                ..tiny
            },
        ),
    ]
}

/// The largest elementwise difference of two lists of the same length.
fn largest_gap(x: &[f32], y: &[f32]) -> f32 {
    assert_eq!(x.len(), y.len());
    x.iter()
        .zip(y)
        .fold(0.0f32, |m, (a, b)| m.max((a - b).abs()))
}

/// The largest difference of two AdamW states' moments, each relative to its parameter's
/// largest, and where; the times must agree.
fn worst_moments(
    a: &[(usize, Vec<f32>, Vec<f32>)],
    b: &[(usize, Vec<f32>, Vec<f32>)],
) -> (f32, usize) {
    assert_eq!(a.len(), b.len());
    let mut w = (0.0f32, 0);
    for (i, (p, q)) in a.iter().zip(b).enumerate() {
        assert_eq!(p.0, q.0, "parameter {i}: AdamW time");
        for (x, y) in [(&p.1, &q.1), (&p.2, &q.2)] {
            let scale = y.iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let d = largest_gap(x, y) / (scale + 1e-12);
            if d.is_nan() || d > w.0 {
                w = (d, i);
            }
        }
    }
    w
}

#[test]
fn plain_and_burn_learners_agree_for_every_covered_shape() {
    // Every step is compared from one state: before each, the Burn learner takes the plain
    // one's weights and AdamW state, as a resume does. Left to run side by side, rounding
    // accumulates until a ReLU input sits within it of zero, switches on one path only, and
    // AdamW turns that into a step-sized difference (7e-3 after 5 steps, seen on one CPU).
    let device = CpuDevice::default();
    let lr = 1e-2;
    for (name, config) in covered_configs() {
        let mut plain = Learner::new(start_net(&config, 7), learner_config(), device);
        assert!(plain.is_plain(), "{name}");
        let w0 = weights(plain.net());
        for step in 1..=5u64 {
            let mut burn = Learner::burn_only(plain.net().clone(), learner_config(), device);
            assert!(!burn.is_plain(), "{name}");
            if step > 1 {
                burn.load_optimizer_bytes(plain.optimizer_bytes().unwrap(), plain.steps())
                    .unwrap();
                assert_eq!(
                    worst_moments(&moments(&burn), &moments(&plain)).0,
                    0.0,
                    "{name} step {step}: same AdamW state"
                );
            }
            assert_eq!(
                worst(&weights(plain.net()), &weights(burn.net())).0,
                0.0,
                "{name} step {step}: same start"
            );
            let batch = examples(40, 100 + step);
            let refs: Vec<&Example> = batch.iter().collect();
            let (pp, pv) = plain.step(&refs, lr).unwrap();
            let (bp, bv) = burn.step(&refs, lr).unwrap();
            assert!(
                close(pp, bp, TOL) && close(pv, bv, TOL),
                "{name} step {step}: plain losses {pp} {pv}, burn {bp} {bv}"
            );
            assert_eq!((plain.steps(), burn.steps()), (step, step), "{name}");
            // The gradients, through AdamW's moments (at the first step 0.1 g and 0.001 g^2),
            // to rounding relative to each parameter's largest; the time is the step's.
            let (pm, bm) = (moments(&plain), moments(&burn));
            assert!(
                pm.iter().all(|m| m.0 == step as usize),
                "{name}: AdamW time"
            );
            let (diff, at) = worst_moments(&pm, &bm);
            assert!(
                diff <= 1e-3,
                "{name} step {step}: parameter {at}: moments differ by {diff} of the largest"
            );
            let (diff, at) = worst(&weights(plain.net()), &weights(burn.net()));
            eprintln!("{name} step {step}: weights differ by {diff:e}");
            assert!(
                diff <= TOL,
                "{name} step {step}: weights differ by {diff} (parameter {at})"
            );
        }
        // Every parameter moved, by far more than the tolerance.
        for (i, (a, b)) in weights(plain.net()).iter().zip(&w0).enumerate() {
            let moved = largest_gap(a, b);
            assert!(moved > 5e-3, "{name}: parameter {i} moved {moved}");
        }
        // The inference copy is the trained one.
        assert_eq!(
            worst(&weights(&plain.inference_net()), &weights(plain.net())).0,
            0.0
        );
    }
}

#[test]
fn the_tricks_loss_matches_burn() {
    // `Learner::step` reports policy and value; `train` reports the tricks loss too.
    let device = CpuDevice::default();
    let config = NetConfig::tiny().with_trick_head(true);
    let start = start_net(&config, 9);
    let mut buffer = train::buffer::ReplayBuffer::new(200);
    for e in examples(200, 5) {
        buffer.push(e);
    }
    let cfg = LearnerConfig {
        batch_size: 32,
        augment_suits: true,
        ..learner_config()
    };
    let mut losses = Vec::new();
    for burn in [false, true] {
        let mut l = Learner::with_burn_learner(start.clone(), cfg.clone(), device, burn);
        let mut rng = rng_from_seed(11);
        losses.push(
            l.train(&buffer, 4, 1e-3, &mut rng, || true)
                .unwrap()
                .unwrap(),
        );
    }
    let (p, b) = (losses[0], losses[1]);
    assert!(p.tricks > 0.5, "a real tricks loss: {p:?}");
    for (x, y) in [
        (p.policy, b.policy),
        (p.value, b.value),
        (p.tricks, b.tricks),
    ] {
        assert!(close(x, y, TOL), "plain {p:?} burn {b:?}");
    }
    assert_eq!((p.owners, p.steps), (0.0, 4));
}

#[test]
fn optimizer_files_move_between_the_paths() {
    let device = CpuDevice::default();
    let config = NetConfig::mlp(48, 2, 64).with_trick_head(true);
    let batches: Vec<Vec<Example>> = (0..4).map(|i| examples(32, 200 + i)).collect();
    let step = |l: &mut Learner<AD>, b: &[Example]| {
        let refs: Vec<&Example> = b.iter().collect();
        l.step(&refs, 2e-3).unwrap()
    };
    for first_burn in [false, true] {
        // Three steps on the first path, saved as a run saves them.
        let mut first = Learner::with_burn_learner(
            start_net(&config, 13),
            learner_config(),
            device,
            first_burn,
        );
        for b in &batches[..3] {
            step(&mut first, b);
        }
        let meta = Metadata {
            iteration: 0,
            extra: Default::default(),
        };
        let weights_file = checkpoint::to_bytes(&first.inference_net(), &meta).unwrap();
        let optimizer_file = first.optimizer_bytes().unwrap();
        let load_net = || {
            checkpoint::from_bytes::<AD>(&weights_file, &config, &device)
                .unwrap()
                .0
        };
        // Resumed on the second path: the state came across whole.
        let mut resumed =
            Learner::with_burn_learner(load_net(), learner_config(), device, !first_burn);
        assert_eq!(resumed.is_plain(), first_burn);
        resumed
            .load_optimizer_bytes(optimizer_file, first.steps())
            .unwrap();
        assert_eq!(resumed.steps(), 3);
        assert!(
            moments(&resumed).iter().all(|m| m.0 == 3),
            "AdamW's time is 3"
        );
        assert_eq!(worst_moments(&moments(&resumed), &moments(&first)).0, 0.0);
        // The next step on either path lands in one place. (One step: run on, the paths'
        // rounding would accumulate; see plain_and_burn_learners_agree_for_every_covered_shape.)
        step(&mut first, &batches[3]);
        step(&mut resumed, &batches[3]);
        let (diff, at) = worst(&weights(resumed.net()), &weights(first.net()));
        assert!(
            diff <= TOL,
            "resumed on {}: weights differ by {diff} (parameter {at})",
            resumed.learner_name()
        );
        // A fresh optimizer instead (the state lost) would not match: the test can fail.
        let mut fresh =
            Learner::with_burn_learner(load_net(), learner_config(), device, !first_burn);
        step(&mut fresh, &batches[3]);
        let (diff, _) = worst(&weights(fresh.net()), &weights(first.net()));
        eprintln!(
            "fresh on {}: weights differ by {diff:e}",
            fresh.learner_name()
        );
        assert!(diff > 10.0 * TOL);
    }
}

#[test]
fn an_optimizer_file_that_does_not_fit_is_refused_and_changes_nothing() {
    use burn::optim::{AdamWState, AdaptiveMomentumState};
    let device = CpuDevice::default();
    let batch = examples(16, 1);
    let refs: Vec<&Example> = batch.iter().collect();
    let mut l = Learner::new(start_net(&NetConfig::tiny(), 2), learner_config(), device);
    l.step(&refs, 1e-3).unwrap();
    let before = moments(&l);
    let recorder = NamedMpkBytesRecorder::<FullPrecisionSettings>::default();
    let first = param_ids(l.net())[0]; // the input layer's weight, [256, 32]
    let with_first = |state: AdaptorRecord<AdamW, AD>| {
        let mut record: Record = recorder
            .load(l.optimizer_bytes().unwrap(), &device)
            .unwrap();
        record.insert(first, state);
        recorder.record(record, ()).unwrap()
    };
    let rank1 = Tensor::<Cpu, 1>::zeros([32], &device);
    let wrong_rank = with_first(AdaptorRecord::from_state(AdamWState::new(
        AdaptiveMomentumState::new(1, rank1.clone(), rank1),
    )));
    let rank2 = Tensor::<Cpu, 2>::zeros([32, 32], &device);
    let wrong_shape = with_first(AdaptorRecord::from_state(AdamWState::new(
        AdaptiveMomentumState::new(1, rank2.clone(), rank2),
    )));
    for (what, bytes) in [
        ("garbage", b"not a record".to_vec()),
        ("wrong rank", wrong_rank),
        ("wrong shape", wrong_shape),
    ] {
        let err = l.load_optimizer_bytes(bytes, 9).unwrap_err();
        assert!(!err.is_empty(), "{what}");
        assert_eq!(l.steps(), 1, "{what}");
        assert!(moments(&l) == before, "{what}: the state is unchanged");
    }
}

#[test]
fn a_diverged_loss_stops_before_the_weights_change() {
    let device = CpuDevice::default();
    let config = NetConfig::tiny().with_trick_head(true);
    let mut batch = examples(8, 3);
    batch[1].value[0] = f32::NAN;
    let refs: Vec<&Example> = batch.iter().collect();
    for burn in [false, true] {
        let mut l =
            Learner::with_burn_learner(start_net(&config, 4), learner_config(), device, burn);
        let before = weights(l.net());
        let err = l.step(&refs, 1e-3).unwrap_err();
        assert_eq!((err.step, err.what), (1, "value"), "{}", l.learner_name());
        assert_eq!(worst(&weights(l.net()), &before).0, 0.0);
        assert_eq!(l.steps(), 1);
    }
}

#[test]
fn the_plain_path_is_chosen_only_where_it_is_covered() {
    let device = CpuDevice::default();
    let gelu = NetConfig {
        activation: Activation::Gelu,
        ..NetConfig::tiny()
    };
    let owners = NetConfig::tiny().with_owner_head(true);
    for config in [gelu, owners] {
        let l = Learner::new(start_net(&config, 1), learner_config(), device);
        assert_eq!(l.learner_name(), "burn", "{config}");
    }
    let l = Learner::new(start_net(&NetConfig::tiny(), 1), learner_config(), device);
    assert_eq!(l.learner_name(), "plain");
    let l = Learner::burn_only(start_net(&NetConfig::tiny(), 1), learner_config(), device);
    assert_eq!(l.learner_name(), "burn");
}

#[test]
fn plain_runs_repeat_bit_for_bit() {
    // The training default's size and batch (the thread count's independence is tested in
    // model::plain_train).
    let device = CpuDevice::default();
    let config = NetConfig::compact().with_trick_head(true);
    let batches: Vec<Vec<Example>> = (0..3).map(|i| examples(256, 300 + i)).collect();
    // One start (Burn's seeded initialisation is shared with tests running in parallel).
    let start = start_net(&config, 21);
    let run = || {
        let mut l = Learner::new(start.clone(), learner_config(), device);
        let mut losses = Vec::new();
        for b in &batches {
            let refs: Vec<&Example> = b.iter().collect();
            let (p, v) = l.step(&refs, 1e-3).unwrap();
            losses.push((p.to_bits(), v.to_bits()));
        }
        let bits: Vec<Vec<u32>> = weights(l.net())
            .into_iter()
            .map(|w| w.into_iter().map(f32::to_bits).collect())
            .collect();
        (losses, bits, moments(&l))
    };
    let a = run();
    let b = run();
    assert!(a.0 == b.0, "losses repeat");
    assert!(a.1 == b.1, "weights repeat");
    assert!(a.2 == b.2, "optimizer state repeats");
}

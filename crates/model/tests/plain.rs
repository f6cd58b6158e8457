//! The plain-f32 forward pass (`model::plain`, what `NetRunner` runs on the CPU) against
//! Burn's: the same outputs, to float rounding, for every shape of network it covers.

mod common;

use burn::module::{Module, ModuleMapper, Param};
use burn::tensor::{Distribution, Tensor};
use common::*;
use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS, Round, RoundConfig, encode, rng_from_seed};
use model::server::BatchModel;
use model::{Activation, BlobNet, NetConfig, NetRunner};
use rand::RngExt;

/// Adds noise to every parameter, so that LayerNorm gains and biases (1 and 0 when fresh)
/// and the linear biases are not at their initial values and a mix-up would show.
struct Perturb;

impl ModuleMapper<B> for Perturb {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        param.map(|t| {
            let noise = t.random_like(Distribution::Uniform(-0.3, 0.3));
            t + noise
        })
    }
}

fn perturbed(config: &NetConfig, seed: u64) -> BlobNet<B> {
    use burn::tensor::backend::Backend;
    B::seed(&device(), seed);
    net(config).map(&mut Perturb)
}

/// Real encodings from random rounds (every phase, several table sizes), plus rows of
/// random values in [-1, 1] and one row with no legal action.
fn rows(n: usize, seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut rng = rng_from_seed(seed);
    let (mut inputs, mut masks) = random_rows(n, seed);
    for r in 0..n / 2 {
        let players = rng.random_range(3..=6);
        let cards = rng.random_range(1..=8);
        let cfg = RoundConfig::new(players, cards, None, 0).unwrap();
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
        let seat = rng.random_range(0..players as usize);
        inputs[r * ENCODING_LEN..(r + 1) * ENCODING_LEN]
            .copy_from_slice(&encode(&round.observation(seat)));
    }
    masks[(n - 1) * NUM_ACTIONS..].fill(0.0);
    (inputs, masks)
}

fn outputs(runner: &mut NetRunner<B>, inputs: &[f32], masks: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let n = inputs.len() / ENCODING_LEN;
    let (mut policy, mut values) = (Vec::new(), Vec::new());
    runner.forward(inputs, masks, n, &mut policy, &mut values);
    assert_eq!(policy.len(), n * NUM_ACTIONS);
    assert_eq!(values.len(), n * MAX_PLAYERS);
    (policy, values)
}

#[test]
fn plain_forward_matches_burn_for_every_network_shape() {
    let base = NetConfig::tiny();
    let configs = [
        base.clone(),
        NetConfig {
            layer_norm: false,
            blocks: 2,
            ..base.clone()
        },
        NetConfig {
            blocks: 0,
            ..base.clone()
        },
        base.clone().with_trick_head(true),
        base.clone()
            .with_trick_head(true)
            .with_values_from_tricks(true)
            .with_owner_head(true),
        NetConfig::compact(),
    ];
    for (i, config) in configs.iter().enumerate() {
        let net = perturbed(config, 10 + i as u64);
        let mut plain = NetRunner::new(net.clone(), device());
        let mut burn = NetRunner::burn_only(net, device());
        assert!(plain.is_plain() && !burn.is_plain(), "config {i}");
        for n in [1, 7, 64, 300] {
            let (inputs, masks) = rows(n, 100 + n as u64);
            let (p1, v1) = outputs(&mut plain, &inputs, &masks);
            let (p2, v2) = outputs(&mut burn, &inputs, &masks);
            for (a, b) in p1.iter().zip(&p2) {
                // Illegal actions are about -1e9 in both; legal ones agree to rounding.
                let tol = 1e-4 * (1.0 + b.abs());
                assert!((a - b).abs() <= tol, "config {i}, n {n}: policy {a} vs {b}");
            }
            let d = max_abs_diff(&v1, &v2);
            assert!(d < 1e-4, "config {i}, n {n}: values differ by {d}");
            // The row without a legal action comes out uniform, as Burn's does.
            let last = &p1[(n - 1) * NUM_ACTIONS..];
            let uniform = -(NUM_ACTIONS as f32).ln();
            assert!(
                last.iter().all(|p| (p - uniform).abs() < 1e-4),
                "config {i}"
            );
        }
    }
}

#[test]
fn values_from_the_tricks_head_change_the_plain_path_as_they_change_burns() {
    // The same weights with and without `values_from_tricks`: the runner's values differ
    // (seats that have bid read the tricks head), identically on both paths.
    let config = NetConfig::tiny().with_trick_head(true);
    let net = perturbed(&config, 3);
    let (inputs, masks) = rows(64, 5);
    let mut head_only = NetRunner::new(net.clone(), device());
    let with = net.clone();
    let record = with.into_record();
    let from_tricks = BlobNet::<B>::new(&config.clone().with_values_from_tricks(true), &device())
        .unwrap()
        .load_record(record);
    let mut plain = NetRunner::new(from_tricks.clone(), device());
    let mut burn = NetRunner::burn_only(from_tricks, device());
    let (_, v0) = outputs(&mut head_only, &inputs, &masks);
    let (_, v1) = outputs(&mut plain, &inputs, &masks);
    let (_, v2) = outputs(&mut burn, &inputs, &masks);
    assert!(
        max_abs_diff(&v0, &v1) > 1e-3,
        "the tricks head changed nothing"
    );
    assert!(max_abs_diff(&v1, &v2) < 1e-4);
}

#[test]
fn gelu_networks_run_through_burn() {
    let config = NetConfig {
        activation: Activation::Gelu,
        ..NetConfig::tiny()
    };
    assert!(!NetRunner::new(net(&config), device()).is_plain());
}

#[test]
fn a_rows_outputs_do_not_depend_on_the_batch_it_came_in() {
    // Self-play's batches depend on thread timing; runs repeat for a seed only if each row's
    // answer is bit-for-bit the same whatever else shares its batch.
    let net = perturbed(&NetConfig::compact(), 9);
    let mut runner = NetRunner::new(net, device());
    let (inputs, masks) = rows(300, 21);
    let (policy, values) = outputs(&mut runner, &inputs, &masks);
    for (start, len) in [(0, 1), (5, 1), (17, 40), (100, 200), (299, 1)] {
        let (p, v) = outputs(
            &mut runner,
            &inputs[start * ENCODING_LEN..(start + len) * ENCODING_LEN],
            &masks[start * NUM_ACTIONS..(start + len) * NUM_ACTIONS],
        );
        assert_eq!(p, policy[start * NUM_ACTIONS..(start + len) * NUM_ACTIONS]);
        assert_eq!(v, values[start * MAX_PLAYERS..(start + len) * MAX_PLAYERS]);
    }
}

//! BlobNet's outputs, and NetRunner behind the inference server (CPU Flex, tiny configs).

mod common;

use burn::module::{AutodiffModule, Module};
use common::*;
use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS};
use model::backend::{CpuAutodiff, CpuDevice};
use model::server::{self, ServerConfig};
use model::{Activation, BlobNet, NetConfig, NetRunner};

/// The tiny preset and variants covering every option of the config.
fn variants() -> Vec<NetConfig> {
    let base = NetConfig::tiny();
    let gelu = NetConfig {
        activation: Activation::Gelu,
        ..base.clone()
    };
    let no_norm = NetConfig {
        layer_norm: false,
        blocks: 2,
        ..base.clone()
    };
    let no_blocks = NetConfig {
        blocks: 0,
        ..base.clone()
    };
    let heads = base.clone().with_trick_head(true).with_owner_head(true);
    vec![base, gelu, no_norm, no_blocks, heads]
}

#[test]
fn output_shapes_and_ranges_for_several_batch_sizes() {
    let net = net(&NetConfig::tiny());
    for n in [1, 2, 7, 64] {
        let (inputs, masks) = random_rows(n, n as u64);
        // `forward` asserts the shapes [n, 52], [n, 52], [n, 8].
        let (logits, log_policy, values) = forward(&net, &inputs, &masks);
        assert_eq!(values.len(), n * MAX_PLAYERS);
        assert!(logits.iter().chain(&log_policy).all(|x| x.is_finite()));
        assert!(
            values.iter().all(|v| v.abs() < 1.0),
            "tanh values must lie in (-1, 1)"
        );
    }
}

#[test]
fn policy_is_the_softmax_of_the_legal_logits() {
    for config in variants() {
        let net = net(&config);
        let n = 100;
        let (inputs, masks) = random_rows(n, 7);
        let (logits, log_policy, _) = forward(&net, &inputs, &masks);
        for r in 0..n {
            let row = r * NUM_ACTIONS..(r + 1) * NUM_ACTIONS;
            let (mask, lp, lg) = (&masks[row.clone()], &log_policy[row.clone()], &logits[row]);
            let legal: Vec<usize> = (0..NUM_ACTIONS).filter(|&a| mask[a] > 0.5).collect();
            let total: f32 = legal.iter().map(|&a| lp[a].exp()).sum();
            assert!(
                (total - 1.0).abs() < 1e-5,
                "{config}: legal probabilities sum to {total}"
            );
            for a in (0..NUM_ACTIONS).filter(|&a| mask[a] < 0.5) {
                assert!(
                    lp[a].exp() < 1e-6,
                    "{config}: illegal action {a} has probability {}",
                    lp[a].exp()
                );
            }
            // Masking only renormalises: log-probabilities of legal actions differ by their
            // logits' differences.
            let max = legal.iter().map(|&a| lg[a]).fold(f32::MIN, f32::max);
            let lse = max + legal.iter().map(|&a| (lg[a] - max).exp()).sum::<f32>().ln();
            for &a in &legal {
                assert!((lp[a] - (lg[a] - lse)).abs() < 1e-5, "{config}: action {a}");
            }
        }
    }
}

#[test]
fn a_single_legal_action_gets_probability_one() {
    let net = net(&NetConfig::tiny());
    let (inputs, _) = random_rows(1, 3);
    let mut mask = vec![0.0; NUM_ACTIONS];
    mask[17] = 1.0;
    let (_, lp, _) = forward(&net, &inputs, &mask);
    assert!(lp[17].abs() < 1e-6, "log p = {}", lp[17]);
}

#[test]
fn a_batch_gives_the_same_outputs_as_its_rows_one_at_a_time() {
    for config in variants() {
        let net = net(&config);
        let n = 16;
        let (inputs, masks) = random_rows(n, 11);
        let (_, lp, v) = forward(&net, &inputs, &masks);
        for r in 0..n {
            let (_, lp1, v1) = forward(
                &net,
                &inputs[r * ENCODING_LEN..(r + 1) * ENCODING_LEN],
                &masks[r * NUM_ACTIONS..(r + 1) * NUM_ACTIONS],
            );
            // Compare legal entries only: illegal ones are about -1e9, where 1e-5 is below f32
            // resolution.
            let mask = &masks[r * NUM_ACTIONS..(r + 1) * NUM_ACTIONS];
            for a in (0..NUM_ACTIONS).filter(|&a| mask[a] > 0.5) {
                assert!(
                    (lp[r * NUM_ACTIONS + a] - lp1[a]).abs() < 1e-5,
                    "{config}: row {r}, action {a}"
                );
            }
            let d = max_abs_diff(&v[r * MAX_PLAYERS..(r + 1) * MAX_PLAYERS], &v1);
            assert!(d < 1e-5, "{config}: row {r} values differ by {d}");
        }
    }
}

#[test]
fn parameter_count_matches_the_burn_module() {
    let mut configs = variants();
    configs.extend([NetConfig::small(), NetConfig::peer()]);
    for config in configs {
        let net = net(&config);
        assert_eq!(
            net.num_params() as u64,
            config.parameter_count(),
            "{config}"
        );
    }
}

#[test]
fn an_invalid_config_is_refused_with_the_field_named() {
    let config = NetConfig {
        hidden: 0,
        ..NetConfig::tiny()
    };
    let err = BlobNet::<B>::new(&config, &device()).unwrap_err();
    assert!(err.to_string().contains("`hidden` is 0"), "{err}");
}

#[test]
fn the_inner_module_of_a_training_network_gives_the_same_outputs() {
    let d = CpuDevice::default();
    let trained = BlobNet::<CpuAutodiff>::new(&NetConfig::tiny(), &d).unwrap();
    let inner: BlobNet<B> = trained.valid();
    assert_eq!(inner.config(), trained.config());
    let (inputs, masks) = random_rows(4, 5);
    let x = burn::tensor::Tensor::<CpuAutodiff, 2>::from_data(
        burn::tensor::TensorData::new(inputs.clone(), [4, ENCODING_LEN]),
        &d,
    );
    let m = burn::tensor::Tensor::<CpuAutodiff, 2>::from_data(
        burn::tensor::TensorData::new(masks.clone(), [4, NUM_ACTIONS]),
        &d,
    );
    let out = trained.forward(x, m);
    let values: Vec<f32> = out.values.into_data().to_vec().unwrap();
    let (_, _, inner_values) = forward(&inner, &inputs, &masks);
    // Not bit-identical: Autodiff computes some ops (LayerNorm) in another order.
    let d = max_abs_diff(&values, &inner_values);
    assert!(d < 1e-5, "autodiff and inner outputs differ by {d}");
}

#[test]
fn runner_and_network_are_send_and_static() {
    fn send_static<T: Send + 'static>() {}
    fn sync<T: Sync>() {}
    send_static::<NetRunner<B>>();
    sync::<BlobNet<B>>();
}

#[test]
fn runner_behind_the_server_matches_a_direct_forward_pass() {
    let first = net(&NetConfig::tiny());
    let second = net(&NetConfig::tiny());
    let (inputs, masks) = random_rows(10, 21);
    let (_, want_lp, want_v) = forward(&first, &inputs, &masks);
    let (_, want_lp2, want_v2) = forward(&second, &inputs, &masks);
    assert!(
        max_abs_diff(&want_v, &want_v2) > 1e-3,
        "two random inits should differ"
    );

    let (handle, client) = server::spawn(NetRunner::new(first, device()), ServerConfig::default());
    let check = |answers: Vec<server::Answer>, lp: &[f32], v: &[f32]| {
        assert_eq!(answers.len(), 10);
        for (r, a) in answers.iter().enumerate() {
            let mask = &masks[r * NUM_ACTIONS..(r + 1) * NUM_ACTIONS];
            for k in (0..NUM_ACTIONS).filter(|&k| mask[k] > 0.5) {
                assert!(
                    (a.policy[k] - lp[r * NUM_ACTIONS + k]).abs() < 1e-5,
                    "row {r} action {k}"
                );
            }
            for k in (0..NUM_ACTIONS).filter(|&k| mask[k] < 0.5) {
                assert!(
                    a.policy[k] < -1e8,
                    "row {r}: illegal action {k} is {}",
                    a.policy[k]
                );
            }
            assert!(max_abs_diff(&a.values, &v[r * MAX_PLAYERS..(r + 1) * MAX_PLAYERS]) < 1e-5);
        }
    };
    check(
        client.evaluate(inputs.clone(), masks.clone()).unwrap(),
        &want_lp,
        &want_v,
    );
    handle.swap(NetRunner::new(second, device())).unwrap();
    check(
        client.evaluate(inputs.clone(), masks.clone()).unwrap(),
        &want_lp2,
        &want_v2,
    );
    drop(client);
    let stats = handle.join();
    assert_eq!(stats.rows, 20);
    assert_eq!(stats.swaps, 1);
}

#[test]
fn a_clone_is_the_same_network() {
    // Burn 0.21 initialises parameters lazily and a clone of an uninitialised parameter
    // draws new values: BlobNet::new must initialise eagerly.
    let net = net(&NetConfig::tiny());
    let copy = net.clone();
    let (inputs, masks) = random_rows(3, 8);
    assert_eq!(
        forward(&copy, &inputs, &masks),
        forward(&net, &inputs, &masks)
    );
}

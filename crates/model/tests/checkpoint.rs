//! Checkpoints: round trips, refusals with clear errors, atomic writes (CPU Flex, tiny nets).

mod common;

use burn::module::AutodiffModule;
use common::*;
use model::backend::{CpuAutodiff, CpuDevice};
use model::checkpoint::{self, CheckpointError, FORMAT_VERSION, MAGIC, Metadata};
use model::{BlobNet, NetConfig};

fn meta() -> Metadata {
    Metadata {
        iteration: 42,
        extra: serde_json::json!({"run": "test", "loss": 1.5}),
    }
}

fn assert_same_outputs(a: &BlobNet<B>, b: &BlobNet<B>) {
    let (inputs, masks) = random_rows(8, 99);
    let (la, pa, va) = forward(a, &inputs, &masks);
    let (lb, pb, vb) = forward(b, &inputs, &masks);
    assert_eq!(la, lb);
    assert_eq!(pa, pb);
    assert_eq!(va, vb);
}

/// A file in the documented format around arbitrary metadata and weight bytes.
fn craft(json: &[u8], weights: &[u8]) -> Vec<u8> {
    let fnv = |mut h: u64, bytes: &[u8]| {
        for &b in bytes {
            h ^= b as u64;
            h = h.wrapping_mul(0x100_0000_01b3);
        }
        h
    };
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&(weights.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv(fnv(0xcbf2_9ce4_8422_2325, json), weights).to_le_bytes());
    out.extend_from_slice(json);
    out.extend_from_slice(weights);
    out
}

/// Splits a valid checkpoint into its metadata JSON and weight bytes.
fn split(bytes: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let m = u64::from_le_bytes(bytes[12..20].try_into().unwrap()) as usize;
    (bytes[36..36 + m].to_vec(), bytes[36 + m..].to_vec())
}

#[test]
fn save_then_load_gives_identical_outputs_and_metadata() {
    let dir = Scratch::new("roundtrip");
    let path = dir.path("net.ckpt");
    let config = NetConfig::tiny();
    let net = net(&config);
    checkpoint::save(&path, &net, &meta()).unwrap();
    let (loaded, m) = checkpoint::load::<B>(&path, &config, &device()).unwrap();
    assert_eq!(m, meta());
    assert_eq!(loaded.config(), &config);
    assert_same_outputs(&net, &loaded);

    let info = checkpoint::read_info(&path).unwrap();
    assert_eq!(
        (info.format_version, info.config, info.meta),
        (FORMAT_VERSION, config, meta())
    );
    let (any, _) = checkpoint::load_any::<B>(&path, &device()).unwrap();
    assert_same_outputs(&net, &any);
    // Only the checkpoint is left: no temporary file.
    assert_eq!(dir.entries(), vec!["net.ckpt"]);
}

#[test]
fn bytes_move_a_training_network_to_an_inference_backend() {
    let d = CpuDevice::default();
    let trained = BlobNet::<CpuAutodiff>::new(&NetConfig::tiny(), &d).unwrap();
    let bytes = checkpoint::to_bytes(&trained, &meta()).unwrap();
    let (served, m) = checkpoint::from_bytes::<B>(&bytes, &NetConfig::tiny(), &d).unwrap();
    assert_eq!(m, meta());
    assert_same_outputs(&trained.valid(), &served);
}

#[test]
fn another_config_is_refused_with_the_differences_named() {
    let dir = Scratch::new("mismatch");
    let path = dir.path("net.ckpt");
    checkpoint::save(&path, &net(&NetConfig::tiny()), &meta()).unwrap();
    let wanted = NetConfig {
        width: 64,
        layer_norm: false,
        ..NetConfig::tiny()
    };
    let err = checkpoint::load::<B>(&path, &wanted, &device()).unwrap_err();
    assert!(
        matches!(err, CheckpointError::ConfigMismatch { .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("net.ckpt"), "{msg}");
    assert!(
        msg.contains("width: 64 vs 32") && msg.contains("layer_norm: false vs true"),
        "{msg}"
    );
}

#[test]
fn missing_and_foreign_files_are_clear_errors() {
    let dir = Scratch::new("foreign");
    let missing = dir.path("nothing.ckpt");
    let err = checkpoint::load::<B>(&missing, &NetConfig::tiny(), &device()).unwrap_err();
    assert!(matches!(err, CheckpointError::NotFound { .. }), "{err:?}");
    assert!(err.to_string().contains("nothing.ckpt"), "{err}");

    for (name, bytes) in [
        ("empty", Vec::new()),
        ("text", b"hello, this is not a network".to_vec()),
    ] {
        let path = dir.path(name);
        std::fs::write(&path, &bytes).unwrap();
        let err = checkpoint::load::<B>(&path, &NetConfig::tiny(), &device()).unwrap_err();
        assert!(
            matches!(err, CheckpointError::NotACheckpoint { .. }),
            "{name}: {err:?}"
        );
        assert!(
            err.to_string().contains("is not a BlobNet checkpoint"),
            "{err}"
        );
    }
    // A directory is not a checkpoint either.
    let err = checkpoint::load::<B>(&dir.0, &NetConfig::tiny(), &device()).unwrap_err();
    assert!(matches!(err, CheckpointError::Io { .. }), "{err:?}");
}

#[test]
fn every_truncation_is_an_error_not_a_panic() {
    let bytes = checkpoint::to_bytes(&net(&NetConfig::tiny()), &meta()).unwrap();
    let mut cuts: Vec<usize> = (1..64).collect();
    cuts.extend((64..bytes.len()).step_by(997));
    cuts.push(bytes.len() - 1);
    for cut in cuts {
        let err =
            checkpoint::from_bytes::<B>(&bytes[..cut], &NetConfig::tiny(), &device()).unwrap_err();
        assert!(
            matches!(err, CheckpointError::Truncated { .. }),
            "cut at {cut}: {err:?}"
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let err = checkpoint::from_bytes::<B>(&longer, &NetConfig::tiny(), &device()).unwrap_err();
    assert!(err.to_string().contains("1 bytes after the end"), "{err}");
}

#[test]
fn corrupt_bytes_and_other_versions_are_refused() {
    let bytes = checkpoint::to_bytes(&net(&NetConfig::tiny()), &meta()).unwrap();
    let load =
        |b: &[u8]| checkpoint::from_bytes::<B>(b, &NetConfig::tiny(), &device()).unwrap_err();

    let mut flipped = bytes.clone();
    let last = flipped.len() - 5;
    flipped[last] ^= 0x40;
    let err = load(&flipped);
    assert!(err.to_string().contains("checksum mismatch"), "{err}");

    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    let err = load(&newer);
    assert!(
        matches!(err, CheckpointError::UnsupportedVersion { found, .. } if found == FORMAT_VERSION + 1)
    );

    // Valid framing and checksum around bad contents: the checks behind the checksum.
    let (json, weights) = split(&bytes);
    let err = load(&craft(b"{not json", &weights));
    assert!(err.to_string().contains("metadata"), "{err}");

    let bad_config = String::from_utf8(json.clone())
        .unwrap()
        .replace("\"width\":32", "\"width\":0");
    let err = load(&craft(bad_config.as_bytes(), &weights));
    assert!(
        matches!(err, CheckpointError::InvalidConfig { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("`width` is 0"), "{err}");

    let err = load(&craft(&json, b"\x93\x01\x02\x03 definitely not a record"));
    assert!(err.to_string().contains("weights do not decode"), "{err}");
}

#[test]
fn weights_of_another_shape_are_refused_even_under_a_matching_config() {
    // Weights of a width-48 network under a header claiming the tiny config.
    let other = NetConfig {
        width: 48,
        ..NetConfig::tiny()
    };
    let (_, weights) = split(&checkpoint::to_bytes(&net(&other), &meta()).unwrap());
    let (json, _) = split(&checkpoint::to_bytes(&net(&NetConfig::tiny()), &meta()).unwrap());
    let err = checkpoint::from_bytes::<B>(&craft(&json, &weights), &NetConfig::tiny(), &device())
        .unwrap_err();
    assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("weight shapes"), "{err}");

    // Two blocks of weights under a one-block header: Burn asserts; we report.
    let deeper = NetConfig {
        blocks: 2,
        ..NetConfig::tiny()
    };
    let (_, weights) = split(&checkpoint::to_bytes(&net(&deeper), &meta()).unwrap());
    let err = checkpoint::from_bytes::<B>(&craft(&json, &weights), &NetConfig::tiny(), &device())
        .unwrap_err();
    assert!(matches!(err, CheckpointError::Corrupt { .. }), "{err:?}");
}

#[test]
fn a_failed_save_keeps_the_previous_checkpoint() {
    let dir = Scratch::new("atomic");
    let path = dir.path("net.ckpt");
    let first = net(&NetConfig::tiny());
    checkpoint::save(&path, &first, &meta()).unwrap();
    // Overwriting works and leaves no temporary file.
    let second = net(&NetConfig::tiny());
    checkpoint::save(&path, &second, &meta()).unwrap();
    assert_eq!(dir.entries(), vec!["net.ckpt"]);
    let (loaded, _) = checkpoint::load::<B>(&path, &NetConfig::tiny(), &device()).unwrap();
    assert_same_outputs(&second, &loaded);

    // A directory where the temporary file must go makes the next save fail...
    std::fs::create_dir(model::files::temp_path(&path)).unwrap();
    let err = checkpoint::save(&path, &first, &meta()).unwrap_err();
    assert!(matches!(err, CheckpointError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("net.ckpt"), "{err}");
    // ...and the checkpoint in place is still the second network.
    let (loaded, _) = checkpoint::load::<B>(&path, &NetConfig::tiny(), &device()).unwrap();
    assert_same_outputs(&second, &loaded);

    let err = checkpoint::save(&dir.path("no/such/dir/net.ckpt"), &first, &meta()).unwrap_err();
    assert!(err.to_string().contains("no/such/dir/net.ckpt"), "{err}");
}

/// Not our code but the learner's resume path: Burn keys optimizer state by parameter id,
/// and a checkpoint keeps the ids, so an Adam state saved with Burn's recorder continues
/// exactly after both are reloaded.
#[test]
fn optimizer_state_resumes_after_a_checkpoint_round_trip() {
    use burn::optim::{AdamConfig, GradientsParams, Optimizer};
    use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
    use burn::tensor::{Tensor, TensorData};
    type A = CpuAutodiff;
    let d = CpuDevice::default();
    let (inputs, masks) = random_rows(4, 13);
    let step = |net: BlobNet<A>,
                optim: &mut dyn FnMut(BlobNet<A>, GradientsParams) -> BlobNet<A>| {
        let x = Tensor::<A, 2>::from_data(TensorData::new(inputs.clone(), [4, 256]), &d);
        let m = Tensor::<A, 2>::from_data(TensorData::new(masks.clone(), [4, 52]), &d);
        let out = net.forward(x, m);
        let loss = out.values.powf_scalar(2.0).mean()
            - out.log_policy.clone().exp().mul(out.log_policy).sum();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        optim(net, grads)
    };
    let mut adam = AdamConfig::new().init::<A, BlobNet<A>>();
    let net = BlobNet::<A>::new(&NetConfig::tiny(), &d).unwrap();
    let net = step(net, &mut |n, g| adam.step(1e-2, n, g));

    let recorder = NamedMpkBytesRecorder::<FullPrecisionSettings>::default();
    let net_bytes = checkpoint::to_bytes(&net, &meta()).unwrap();
    let optim_bytes = Recorder::<A>::record(&recorder, adam.to_record(), ()).unwrap();
    let (net2, _) = checkpoint::from_bytes::<A>(&net_bytes, &NetConfig::tiny(), &d).unwrap();
    let mut adam2 = AdamConfig::new()
        .init::<A, BlobNet<A>>()
        .load_record(Recorder::<A>::load(&recorder, optim_bytes, &d).unwrap());

    let net = step(net, &mut |n, g| adam.step(1e-2, n, g));
    let net2 = step(net2, &mut |n, g| adam2.step(1e-2, n, g));
    let (_, _, v1) = forward(&net.valid(), &inputs, &masks);
    let (_, _, v2) = forward(&net2.valid(), &inputs, &masks);
    assert_eq!(v1, v2);

    // A fresh Adam (no state) takes a different second step: the check above has teeth.
    let (net3, _) = checkpoint::from_bytes::<A>(&net_bytes, &NetConfig::tiny(), &d).unwrap();
    let mut fresh = AdamConfig::new().init::<A, BlobNet<A>>();
    let net3 = step(net3, &mut |n, g| fresh.step(1e-2, n, g));
    let (_, _, v3) = forward(&net3.valid(), &inputs, &masks);
    assert!(max_abs_diff(&v1, &v3) > 1e-6);
}

//! A tiny end-to-end run (tiny network, tiny search), and resuming it.

mod common;

use common::outputs;
use model::backend::CpuAutodiff;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use train::config::TrainConfig;
use train::run::{RunOptions, run};

fn tiny(out: &Path) -> TrainConfig {
    let mut c = TrainConfig::from_toml(common::TINY_TOML).unwrap();
    c.out = out.to_path_buf();
    c
}

/// Runs one at a time: Burn's weight initialisation draws from one random generator per
/// process, so two runs initialising at once would take each other's numbers.
static ONE_RUN_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("blob-e2e-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Runs `cfg` with `opts`, never asked to stop.
fn go(cfg: &TrainConfig, opts: &RunOptions) -> anyhow::Result<train::run::RunSummary> {
    run::<CpuAutodiff>(
        cfg,
        Default::default(),
        opts,
        Arc::new(AtomicBool::new(false)),
    )
}

fn quiet() -> RunOptions {
    RunOptions {
        resume: false,
        quiet: true,
        stop_after: None,
    }
}

#[test]
fn tiny_run_trains_evaluates_and_writes_everything() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = fresh_dir("full");
    let mut cfg = tiny(&out);
    cfg.arena.every = 1;
    let summary = go(&cfg, &quiet()).unwrap();
    assert_eq!(summary.completed, 2);
    assert!(!summary.interrupted);
    assert_eq!(summary.records.len(), 2);
    let last = summary.records.last().unwrap();
    assert!(last.steps > 0, "the learner never trained: {last:?}");
    assert!(last.policy_loss.unwrap().is_finite() && last.value_loss.unwrap().is_finite());
    assert_eq!(last.arena.len(), 2, "best and random: {:?}", last.arena);
    // An arena after each iteration: `rounds` deals, and `final_rounds` after the last.
    let deals =
        |r: &train::metrics::IterationRecord| r.arena.iter().map(|m| m.deals).collect::<Vec<_>>();
    assert_eq!(deals(&summary.records[0]), vec![3, 3]);
    assert_eq!(deals(last), vec![4, 4]);
    for f in [
        "checkpoint/weights.ckpt",
        "checkpoint/optimizer.bin",
        "checkpoint/buffer.bin",
        "checkpoint/state.json",
        "checkpoint/best.ckpt",
        "checkpoint/metrics.jsonl",
        "best.ckpt",
        "metrics.jsonl",
        "losses.svg",
        "strength.svg",
        "status.json",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let lines = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 2);
    // Two worlds per decision (2x6): the second world's root is the first's, so the
    // evaluation cache answers some requests, and the record and status.json say how many.
    for line in lines.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let rate = record["cache_hit_rate"].as_f64().unwrap();
        assert!(rate > 0.0 && rate < 1.0, "{rate}");
    }
    let status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("status.json")).unwrap()).unwrap();
    assert!(status["last"]["cache_hit_rate"].as_f64().unwrap() > 0.0);
    // The checkpoint records the set-ups self-play dealt (3-4 players, 1-3 cards), and the
    // arena warns, once, about a table outside them, but not about one inside.
    let arena = |players: &str, cards: &str| {
        let agents = format!("net:{}:1x2,random", out.join("best.ckpt").display());
        let done = std::process::Command::new(env!("CARGO_BIN_EXE_train"))
            .args(["arena", "--agents", &agents, "--rounds", "2"])
            .args(["--players", players, "--cards", cards, "--seed", "3"])
            .output()
            .unwrap();
        assert!(done.status.success(), "{done:?}");
        String::from_utf8(done.stderr).unwrap()
    };
    let outside = arena("8", "2");
    assert_eq!(
        outside
            .matches("has not seen 8 players with 2 cards")
            .count(),
        1,
        "{outside}"
    );
    assert!(
        outside.contains("learnt from 3-4 players, 1-3 cards"),
        "{outside}"
    );
    let inside = arena("3", "2");
    assert!(!inside.contains("warning"), "{inside}");
    // A second fresh run into the same folder is refused rather than overwriting it.
    let err = go(&cfg, &quiet()).unwrap_err();
    assert!(err.to_string().contains("--resume"), "{err}");
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn resuming_gives_the_same_state_as_not_stopping() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let straight = fresh_dir("straight");
    let cfg = tiny(&straight);
    go(&cfg, &quiet()).unwrap();

    let stopped = fresh_dir("stopped");
    let cfg2 = tiny(&stopped);
    let first = go(
        &cfg2,
        &RunOptions {
            stop_after: Some(1),
            ..quiet()
        },
    )
    .unwrap();
    assert!(first.interrupted);
    assert_eq!(first.completed, 1);
    let resumed = go(
        &cfg2,
        &RunOptions {
            resume: true,
            ..quiet()
        },
    )
    .unwrap();
    assert_eq!(resumed.completed, 2);

    // The buffer file is byte-identical; the weights are compared by value (a checkpoint
    // also records Burn's random parameter ids, which a reload does not keep).
    let a = std::fs::read(straight.join("checkpoint/buffer.bin")).unwrap();
    let b = std::fs::read(stopped.join("checkpoint/buffer.bin")).unwrap();
    assert!(a == b, "the replay buffers differ");
    for f in ["checkpoint/weights.ckpt", "best.ckpt"] {
        assert_eq!(
            outputs(&straight.join(f)),
            outputs(&stopped.join(f)),
            "{f} differs"
        );
    }
    let strip = |p: &Path| -> Vec<serde_json::Value> {
        std::fs::read_to_string(p)
            .unwrap()
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                for k in [
                    "seconds",
                    "selfplay_seconds",
                    "train_seconds",
                    "arena_seconds",
                    "rounds_per_minute",
                    "examples_per_minute",
                    "evaluations_per_second",
                    "mean_server_batch",
                ] {
                    v.as_object_mut().unwrap().remove(k);
                }
                v
            })
            .collect()
    };
    assert_eq!(
        strip(&straight.join("metrics.jsonl")),
        strip(&stopped.join("metrics.jsonl"))
    );
    // Resuming with another configuration is refused.
    let mut other = tiny(&stopped);
    other.seed += 1;
    let err = go(
        &other,
        &RunOptions {
            resume: true,
            ..quiet()
        },
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("seed (was 1, now 2)"),
        "the refusal names the key: {err}"
    );
    // Arena and machine settings may change on resume.
    let mut safe = tiny(&stopped);
    safe.iterations = 3;
    safe.threads = 1;
    safe.arena.opponents = vec![train::agents::AgentSpec::Heuristic];
    safe.arena.rounds = 2;
    let more = go(
        &safe,
        &RunOptions {
            resume: true,
            ..quiet()
        },
    )
    .unwrap();
    assert_eq!(more.completed, 3);
    assert_eq!(more.records.last().unwrap().arena[1].opponent, "heuristic");
    std::fs::remove_dir_all(&straight).unwrap();
    std::fs::remove_dir_all(&stopped).unwrap();
}

#[test]
fn a_damaged_checkpoint_is_a_clear_error_on_resume() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = fresh_dir("damaged");
    let cfg = tiny(&out);
    let stop_after_one = RunOptions {
        stop_after: Some(1),
        ..quiet()
    };
    go(&cfg, &stop_after_one).unwrap();
    let resume = RunOptions {
        resume: true,
        ..quiet()
    };
    for file in [
        "optimizer.bin",
        "buffer.bin",
        "weights.ckpt",
        "best.ckpt",
        "metrics.jsonl",
    ] {
        let path = out.join("checkpoint").join(file);
        let good = std::fs::read(&path).unwrap();
        // Cut in half, or one byte changed in the middle: both caught, the file named.
        let mut flipped = good.clone();
        flipped[good.len() / 2] ^= 0x40;
        for bad in [&good[..good.len() / 2], &flipped[..]] {
            std::fs::write(&path, bad).unwrap();
            let err = go(&cfg, &resume).unwrap_err();
            let err = format!("{err:#}");
            assert!(
                err.contains(file) && err.contains("damaged"),
                "{file}: {err}"
            );
        }
        std::fs::write(&path, &good).unwrap();
    }
    // Repaired, it resumes.
    assert_eq!(go(&cfg, &resume).unwrap().completed, 2);
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn the_output_folder_is_guarded() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = fresh_dir("guarded");
    let cfg = tiny(&out);
    // Another process (here: this test) holds the folder: refused, nothing written.
    let held = train::stages::open::lock(&out).unwrap();
    let err = go(&cfg, &quiet()).unwrap_err();
    assert!(err.to_string().contains("in use"), "{err}");
    assert!(!out.join("checkpoint").exists() && !out.join("best.ckpt").exists());
    drop(held);
    // Files of an earlier run without its checkpoint are not overwritten.
    std::fs::write(out.join("metrics.jsonl"), "precious\n").unwrap();
    let err = go(&cfg, &quiet()).unwrap_err();
    assert!(err.to_string().contains("metrics.jsonl"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("metrics.jsonl")).unwrap(),
        "precious\n"
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn a_stop_request_drops_the_iteration_under_way_and_resume_replays_it() {
    let _one = ONE_RUN_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let out = fresh_dir("stop");
    let cfg = tiny(&out);
    // Asked before the first iteration could finish: nothing but generation 0 is committed.
    let summary = run::<CpuAutodiff>(
        &cfg,
        Default::default(),
        &quiet(),
        Arc::new(AtomicBool::new(true)),
    )
    .unwrap();
    assert!(summary.interrupted);
    assert_eq!(summary.completed, 0);
    assert!(summary.records.is_empty());
    let resumed = go(
        &cfg,
        &RunOptions {
            resume: true,
            ..quiet()
        },
    )
    .unwrap();
    assert_eq!(resumed.completed, 2);
    // The arena of the last iteration was played, not skipped.
    assert_eq!(resumed.records[1].arena.len(), 2);
    std::fs::remove_dir_all(&out).unwrap();
}

//! The crash test: a small run is killed with SIGKILL at random moments, many times, and
//! resumed each time. At the end the metrics hold one line per iteration, `best.ckpt` matches
//! `state.json`, and the weights equal those of a run that was never interrupted.
#![cfg(unix)]

mod common;

use common::outputs;
use rand::{RngExt, SeedableRng};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The tiny run of `common`, six iterations long.
fn six_iterations() -> String {
    common::TINY_TOML.replace("iterations = 2", "iterations = 6")
}

fn folder(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("blob-crash-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn train(config: &Path, out: &Path, resume: bool) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_train"));
    c.arg("--config")
        .arg(config)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if resume {
        c.arg("--resume");
    }
    c
}

#[test]
fn killed_at_random_moments_and_resumed_it_ends_as_an_uninterrupted_run() {
    let dir = folder("runs");
    let config = dir.join("crash.toml");
    std::fs::write(&config, six_iterations()).unwrap();
    assert!(six_iterations().contains("iterations = 6"));

    let straight = dir.join("straight");
    let t0 = Instant::now();
    let done = train(&config, &straight, false).output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let full = t0.elapsed();

    let out = dir.join("killed");
    let mut rng = game::GameRng::seed_from_u64(7);
    let mut kills = 0;
    let mut attempts = 0;
    loop {
        attempts += 1;
        assert!(attempts < 60, "the run never finished");
        let resume = train::state::locate(&out).is_some();
        let mut child = train(&config, &out, resume).spawn().unwrap();
        // A kill at a random moment from the start-up to 30% of the whole run's length: each
        // attempt gets at most about two iterations further, so the run ends after many
        // kills, some in self-play, some in training, the arena or a commit.
        let wait = full.mul_f64(rng.random_range(0.02..0.3));
        let deadline = Instant::now() + wait;
        let finished = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if Instant::now() >= deadline {
                break None;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        match finished {
            Some(status) => {
                let mut err = String::new();
                use std::io::Read;
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                assert!(status.success(), "a resumed run failed: {err}");
                break;
            }
            None => {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
            }
        }
    }
    eprintln!("{kills} kills in {attempts} attempts");
    assert!(kills >= 4, "only {kills} kills: the test did not test much");

    // One metrics line per iteration, in order, in the folder and in the checkpoint.
    for path in [
        out.join("metrics.jsonl"),
        out.join("checkpoint/metrics.jsonl"),
    ] {
        let text = std::fs::read_to_string(&path).unwrap();
        let records = train::metrics::from_jsonl(&text, "metrics").unwrap();
        let iterations: Vec<u64> = records.iter().map(|r| r.iteration).collect();
        assert_eq!(iterations, [0, 1, 2, 3, 4, 5], "{}", path.display());
    }
    // best.ckpt loads and is the network state.json names.
    let dir_state = train::state::locate(&out).unwrap();
    let st = train::state::load_state(&dir_state).unwrap();
    assert_eq!(st.completed, 6);
    let info = model::checkpoint::read_info(&out.join("best.ckpt")).unwrap();
    assert_eq!(info.meta.iteration, st.best_iteration);
    // The same weights as the uninterrupted run.
    for f in ["checkpoint/weights.ckpt", "best.ckpt"] {
        assert_eq!(outputs(&straight.join(f)), outputs(&out.join(f)), "{f}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn sigterm_stops_at_the_next_safe_point_and_the_run_resumes() {
    let dir = folder("sigterm");
    let config = dir.join("term.toml");
    std::fs::write(&config, six_iterations()).unwrap();
    let out = dir.join("run");
    let mut child = train(&config, &out, false)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Once generation 0 is committed the run is under way.
    let started = Instant::now();
    while train::state::locate(&out).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the run never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let sent = Instant::now();
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(killed.success());
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(30),
            "SIGTERM did not stop the run"
        );
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut stdout = String::new();
    use std::io::Read;
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(status.success(), "exit {status}: {stdout}");
    assert!(stdout.contains("continue with --resume"), "{stdout}");
    // Whatever it had finished is committed and resumes to the end.
    let done = train(&config, &out, true).output().unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    let st = train::state::load_state(&train::state::locate(&out).unwrap()).unwrap();
    assert_eq!(st.completed, 6);
    std::fs::remove_dir_all(&dir).unwrap();
}

//! A run on "many machines" through a real NATS JetStream server: a learner and two actor
//! processes; one actor and the learner are killed midway and restarted. Every message the
//! learner consumed is counted exactly once (accepted into the buffer, stale, or refused),
//! the generations advance, messages from another config are refused, and the final weights
//! are sane. A second run has its server killed and restarted midway, and loses nothing.
//!
//! Needs a server: `BLOB_NATS_URL` (`.ci/run` starts one), and `nats-server` on the PATH for
//! the restart test. Without them the server tests say so and pass, except under CI (`CI`
//! set), where they fail.
#![cfg(unix)]

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use train::distributed::broker::Broker;
use train::distributed::{decode_examples, headers};

/// The server's URL, or why there is none (a panic under CI).
fn server() -> Option<String> {
    let why = match std::env::var("BLOB_NATS_URL") {
        Err(_) => "BLOB_NATS_URL is not set".to_string(),
        Ok(url) => {
            let addr = url
                .trim_start_matches("nats://")
                .trim_end_matches('/')
                .to_string();
            let reachable = std::net::ToSocketAddrs::to_socket_addrs(&addr)
                .ok()
                .and_then(|mut a| a.next())
                .is_some_and(|a| {
                    std::net::TcpStream::connect_timeout(&a, Duration::from_secs(2)).is_ok()
                });
            if reachable {
                return Some(url);
            }
            format!("nothing answers at {url}")
        }
    };
    if std::env::var_os("CI").is_some() {
        panic!("this test needs a NATS server with JetStream under CI: {why}");
    }
    eprintln!(
        "skipped: this test needs a NATS server with JetStream ({why}); run `nats-server -js -sd DIR -p PORT` and set BLOB_NATS_URL=nats://127.0.0.1:PORT (.ci/run does)"
    );
    None
}

fn folder(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("blob-dist-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn train(args: &[&str], log: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_train"));
    c.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::from(
            std::fs::File::options()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        ))
        .stderr(Stdio::from(
            std::fs::File::options()
                .create(true)
                .append(true)
                .open(log)
                .unwrap(),
        ));
    c
}

fn wait(child: &mut Child, limit: Duration, what: &str, log: &Path) -> std::process::ExitStatus {
    let t0 = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            panic!(
                "{what} did not end within {limit:?}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for `child` as [`wait`] does and fails, with its log, unless it succeeded; returns
/// the log.
fn wait_success(child: &mut Child, limit: Duration, what: &str, log: &Path) -> String {
    let status = wait(child, limit, what, log);
    let text = std::fs::read_to_string(log).unwrap_or_default();
    assert!(status.success(), "{what} failed: {text}");
    text
}

fn completed(out: &Path) -> u64 {
    train::state::locate(out)
        .and_then(|d| train::state::load_state(&d).ok())
        .map_or(0, |s| s.completed)
}

/// Checks that every message of the committed stream range is stored once and counted once
/// (accepted into the buffer, stale or refused) after a run of `iterations`; returns the
/// position, the actors and the generations seen (intruders left out).
fn consumed(
    broker: &Broker,
    out: &Path,
    iterations: u64,
) -> (train::state::StreamState, BTreeSet<String>, BTreeSet<u64>) {
    let dir_state = train::state::locate(out).unwrap();
    let st = train::state::load_state(&dir_state).unwrap();
    assert_eq!(st.completed, iterations);
    let pos = st
        .stream
        .clone()
        .expect("a learner's state has a stream position");
    let mut ids = BTreeSet::new();
    let mut actors = BTreeSet::new();
    let mut generations = BTreeSet::new();
    let mut examples = 0;
    for seq in pos.first_seq..pos.next_seq {
        let m = broker
            .stored(seq)
            .unwrap()
            .unwrap_or_else(|| panic!("message {seq} is missing"));
        let id = m.headers.get("Nats-Msg-Id").unwrap().as_str().to_string();
        assert!(ids.insert(id.clone()), "message id {id} stored twice");
        let actor = m.headers.get(headers::ACTOR).unwrap().as_str().to_string();
        if actor != "intruder" {
            actors.insert(actor);
            generations.insert(m.number(headers::GENERATION).unwrap());
        }
        examples += decode_examples(&m.payload).unwrap().len() as u64;
    }
    assert_eq!(pos.messages, pos.next_seq - pos.first_seq);
    assert_eq!(examples, pos.accepted + pos.stale + pos.refused, "{pos:?}");
    // The buffer holds every accepted example once (its clock counts every example added).
    let buffer = train::buffer::ReplayBuffer::load(&dir_state.join(train::state::BUFFER)).unwrap();
    assert_eq!(buffer.added(), pos.accepted);
    assert!(pos.accepted > 0);
    (pos, actors, generations)
}

/// A nats-server of this test's own (so that it can restart it), or why there is none (a
/// panic under CI).
fn own_server(store: &Path, port: u16) -> Option<Child> {
    let found = Command::new("nats-server")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        if std::env::var_os("CI").is_some() {
            panic!("this test needs nats-server on the PATH under CI (.ci/run installs it)");
        }
        eprintln!("skipped: this test needs nats-server on the PATH (apt-get install nats-server)");
        return None;
    }
    let child = Command::new("nats-server")
        .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
        .arg(store)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "nats-server did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Some(child)
}

#[test]
fn a_nats_server_restart_loses_nothing_acknowledged() {
    let dir = folder("restart");
    let store = dir.join("store");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let Some(mut server) = own_server(&store, port) else {
        return;
    };
    let url = format!("nats://127.0.0.1:{port}");
    let config = dir.join("run.toml");
    let toml = common::TINY_TOML
        .replace("iterations = 2", "iterations = 6")
        .replace("threads = 2", "threads = 1")
        .replace("every = 2", "every = 3");
    std::fs::write(&config, &toml).unwrap();
    let out = dir.join("out");
    let log = |n: &str| dir.join(format!("{n}.log"));
    let mut learner = train(
        &[
            "learner",
            "--nats",
            &url,
            "--batch",
            "2",
            "--config",
            config.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ],
        &log("learner"),
    )
    .spawn()
    .unwrap();
    let mut actor = train(&["actor", "--nats", &url, "--threads", "1"], &log("actor"))
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while completed(&out) < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "no progress: {}",
            std::fs::read_to_string(log("learner")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    // The server dies (SIGKILL) mid-run and comes back on the same storage.
    server.kill().unwrap();
    server.wait().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let mut server = own_server(&store, port).unwrap();
    wait_success(
        &mut learner,
        Duration::from_secs(600),
        "the learner",
        &log("learner"),
    );
    wait_success(
        &mut actor,
        Duration::from_secs(60),
        "the actor",
        &log("actor"),
    );
    let broker = Broker::connect(&url, train::distributed::DEFAULT_NAME).unwrap();
    let (pos, _, generations) = consumed(&broker, &out, 6);
    eprintln!("server restarted; {pos:?}; generations {generations:?}");
    assert_eq!(pos.refused, 0, "{pos:?}");
    server.kill().unwrap();
    server.wait().unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn an_unreachable_server_or_a_bad_name_is_a_clear_error() {
    let dir = folder("errors");
    let log = dir.join("log");
    // Port 1: nothing listens there; refused at once, never a hang.
    let out = Command::new(env!("CARGO_BIN_EXE_train"))
        .args(["actor", "--nats", "nats://127.0.0.1:1"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nats://127.0.0.1:1"), "{err}");
    let mut c = train(
        &["learner", "--nats", "nats://127.0.0.1:1", "--name", "a.b"],
        &log,
    )
    .spawn()
    .unwrap();
    assert!(!wait(&mut c, Duration::from_secs(60), "learner", &log).success());
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("--name"), "{text}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn learner_and_actors_killed_and_restarted_consume_every_example_once() {
    let Some(url) = server() else { return };
    let dir = folder("run");
    let name = format!(
        "t{}x{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
    );
    let config = dir.join("run.toml");
    let toml = common::TINY_TOML
        .replace("iterations = 2", "iterations = 6")
        .replace("threads = 2", "threads = 1")
        .replace("every = 2", "every = 3");
    std::fs::write(&config, &toml).unwrap();
    let other = dir.join("other.toml");
    std::fs::write(&other, format!("seed = 9\n{toml}")).unwrap();
    let out = dir.join("out");
    let (cfg_s, out_s) = (config.to_str().unwrap(), out.to_str().unwrap());
    let learner_args = |resume: bool| {
        let mut a = vec![
            "learner", "--nats", &url, "--name", &name, "--batch", "2", "--config", cfg_s, "--out",
            out_s, "--quiet",
        ];
        if resume {
            a.push("--resume");
        }
        a
    };
    let actor_args = ["actor", "--nats", &url, "--name", &name, "--threads", "1"];
    let log = |n: &str| dir.join(format!("{n}.log"));

    let mut learner = train(&learner_args(false), &log("learner"))
        .spawn()
        .unwrap();
    let mut a = train(&actor_args, &log("a")).spawn().unwrap();
    let mut b = train(&actor_args, &log("b")).spawn().unwrap();

    // Messages no learner may take: another config's, and a generation never published.
    let t0 = Instant::now();
    while train::state::locate(&out).is_none() {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the learner never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let broker = Broker::connect(&url, &name).unwrap();
    let sample = {
        // Any well-formed example.
        let e = train::example::Example::new(
            &[0.5; game::ENCODING_LEN],
            u64::MAX,
            [1.0 / 52.0; game::NUM_ACTIONS],
            [0.0; game::MAX_PLAYERS],
        );
        train::distributed::encode_examples(&[e.clone(), e])
    };
    let hash = loop {
        if let Ok(Some(info)) = broker.run_info() {
            break info.config_hash;
        }
        assert!(t0.elapsed() < Duration::from_secs(120), "no run info");
        std::thread::sleep(Duration::from_millis(20));
    };
    for (i, (config, generation)) in [("0000000000000000", "0"), (hash.as_str(), "99")]
        .into_iter()
        .enumerate()
    {
        let mut h = async_nats::HeaderMap::new();
        h.insert("Nats-Msg-Id", format!("intruder-{i}").as_str());
        h.insert(headers::PROTOCOL, "1");
        h.insert(headers::CONFIG, config);
        h.insert(headers::GENERATION, generation);
        h.insert(headers::ACTOR, "intruder");
        h.insert(headers::BATCH, i.to_string().as_str());
        h.insert(headers::PART, "0");
        h.insert(headers::UNITS, "0");
        broker.publish(h, sample.clone()).unwrap();
    }

    // Midway: kill actor a and the learner (SIGKILL), then restart both.
    while completed(&out) < 2 {
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "no progress: {}",
            std::fs::read_to_string(log("learner")).unwrap_or_default()
        );
        if let Some(s) = learner.try_wait().unwrap() {
            panic!(
                "the learner ended early ({s}): {}",
                std::fs::read_to_string(log("learner")).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    a.kill().unwrap();
    learner.kill().unwrap();
    a.wait().unwrap();
    learner.wait().unwrap();
    let at_kill = completed(&out);
    assert!(at_kill < 6, "the learner finished before it was killed");
    std::thread::sleep(Duration::from_millis(300));
    let mut learner = train(&learner_args(true), &log("learner")).spawn().unwrap();
    let mut c = train(&actor_args, &log("c")).spawn().unwrap();
    let limit = Duration::from_secs(600);
    let learner_log = wait_success(
        &mut learner,
        limit,
        "the restarted learner",
        &log("learner"),
    );
    for (child, n) in [(&mut b, "b"), (&mut c, "c")] {
        wait_success(child, Duration::from_secs(60), "an actor", &log(n));
    }

    let (pos, actors, generations) = consumed(&broker, &out, 6);
    eprintln!(
        "killed at generation {at_kill}; {pos:?}; actors {actors:?}; generations {generations:?}"
    );
    // The two intruders' four examples, and nothing else, were refused.
    assert_eq!(pos.refused, 4, "{pos:?}");
    assert!(learner_log.contains("refused message"), "{learner_log}");
    // Three actors took part (a, b, and c after the restart) and the generations advanced.
    assert!(actors.len() >= 3, "actors {actors:?}");
    assert!(generations.len() >= 3, "generations {generations:?}");
    let dir_state = train::state::locate(&out).unwrap();
    let g = broker.generation().unwrap().unwrap();
    assert!(g.done && g.generation == 6, "{g:?}");
    // Sane final weights and losses.
    let outputs = common::outputs(&dir_state.join(train::state::WEIGHTS));
    assert!(outputs.iter().all(|x| x.is_finite()));
    assert!(outputs.iter().any(|&x| x != outputs[0]));
    let text = std::fs::read_to_string(out.join("metrics.jsonl")).unwrap();
    let records = train::metrics::from_jsonl(&text, "metrics").unwrap();
    assert_eq!(
        records.iter().map(|r| r.iteration).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
    assert!(
        records
            .iter()
            .filter_map(|r| r.value_loss)
            .all(|v| v.is_finite())
    );

    // The single-machine command does not resume a run fed from the broker.
    let local = Command::new(env!("CARGO_BIN_EXE_train"))
        .args(["--config", cfg_s, "--out", out_s, "--quiet", "--resume"])
        .output()
        .unwrap();
    assert!(!local.status.success());
    let err = String::from_utf8_lossy(&local.stderr);
    assert!(err.contains("train learner"), "{err}");

    // An actor told to play another config is refused, by name.
    let other_s = other.to_str().unwrap();
    let mut args = actor_args.to_vec();
    args.extend(["--config", other_s]);
    let refused = Command::new(env!("CARGO_BIN_EXE_train"))
        .args(&args)
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("does not match"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

//! The inference server with a stand-in model: routing, batching, swaps, shutdown.

use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS};
use model::server::{BatchModel, ClientError, ServerConfig, spawn};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Answers row i with policy[k] = input[0] + k and values = input[1] + tag, so every answer
/// says which row it came from and which model version made it.
#[derive(Clone)]
struct Echo {
    tag: f32,
    delay: Duration,
    /// Forward passes running now and the most ever running at once, across copies.
    overlap: Arc<[AtomicUsize; 2]>,
}

impl BatchModel for Echo {
    fn forward(
        &mut self,
        inputs: &[f32],
        masks: &[f32],
        n: usize,
        policy: &mut Vec<f32>,
        values: &mut Vec<f32>,
    ) {
        assert_eq!(inputs.len(), n * ENCODING_LEN);
        assert_eq!(masks.len(), n * NUM_ACTIONS);
        let now = self.overlap[0].fetch_add(1, Ordering::SeqCst) + 1;
        self.overlap[1].fetch_max(now, Ordering::SeqCst);
        std::thread::sleep(self.delay);
        self.overlap[0].fetch_sub(1, Ordering::SeqCst);
        policy.clear();
        values.clear();
        for row in inputs.chunks(ENCODING_LEN) {
            policy.extend((0..NUM_ACTIONS).map(|k| row[0] + k as f32));
            values.extend(std::iter::repeat_n(row[1] + self.tag, MAX_PLAYERS));
        }
    }
}

fn rows(ids: impl Iterator<Item = f32>) -> (Vec<f32>, Vec<f32>) {
    let mut inputs = Vec::new();
    let mut masks = Vec::new();
    for id in ids {
        let mut row = [0.0; ENCODING_LEN];
        row[0] = id;
        inputs.extend_from_slice(&row);
        masks.extend_from_slice(&[1.0; NUM_ACTIONS]);
    }
    (inputs, masks)
}

fn echo(tag: f32) -> Echo {
    slow_echo(tag, Duration::ZERO)
}

fn slow_echo(tag: f32, delay: Duration) -> Echo {
    Echo {
        tag,
        delay,
        overlap: Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]),
    }
}

#[test]
fn every_answer_returns_to_its_asker() {
    let config = ServerConfig {
        max_batch: 64,
        batch_timeout: Duration::from_millis(1),
        workers: 1,
        pad_sizes: Vec::new(),
    };
    let (handle, client) = spawn(echo(0.0), config);
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                for round in 0..50 {
                    let n = 1 + (t + round) % 9;
                    let base = (t * 1000 + round * 10) as f32;
                    let (inputs, masks) = rows((0..n).map(|i| base + i as f32));
                    let answers = client.evaluate(inputs, masks).unwrap();
                    assert_eq!(answers.len(), n);
                    for (i, a) in answers.iter().enumerate() {
                        assert_eq!(
                            a.policy[0],
                            base + i as f32,
                            "thread {t} got another's answer"
                        );
                        assert_eq!(a.policy[5], base + i as f32 + 5.0);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(client);
    let stats = handle.join();
    let expected_rows: u64 = (0..16)
        .map(|t| (0..50).map(|r| 1 + (t + r) % 9).sum::<u64>())
        .sum();
    assert_eq!(stats.rows, expected_rows);
    assert_eq!(stats.requests, 16 * 50);
    assert!(stats.batches <= stats.requests);
    assert!(stats.mean_batch() >= 1.0);
}

#[test]
fn queued_requests_are_batched_up_to_max_batch() {
    // A slow model lets requests pile up; the server must take them together, never more
    // than max_batch rows per forward pass (requests are 4 rows each).
    let config = ServerConfig {
        max_batch: 16,
        batch_timeout: Duration::from_millis(20),
        workers: 1,
        pad_sizes: Vec::new(),
    };
    let (handle, client) = spawn(slow_echo(0.0, Duration::from_millis(5)), config);
    let threads: Vec<_> = (0..12)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                for _ in 0..5 {
                    let (i, m) = rows((0..4).map(|k| (t * 4 + k) as f32));
                    client.evaluate(i, m).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(client);
    let stats = handle.join();
    assert_eq!(stats.rows, 12 * 5 * 4);
    assert!(stats.mean_batch() > 4.0, "no batching happened: {stats:?}");
    assert!(stats.mean_batch() <= 16.0);
}

#[test]
fn weights_swap_between_batches() {
    let (handle, client) = spawn(echo(0.0), ServerConfig::default());
    let (i, m) = rows([1.0].into_iter());
    assert_eq!(
        client.evaluate(i.clone(), m.clone()).unwrap()[0].values[0],
        0.0
    );
    handle.swap(echo(100.0)).unwrap();
    assert_eq!(client.evaluate(i, m).unwrap()[0].values[0], 100.0);
    assert_eq!(handle.stats().swaps, 1);
    drop(client);
    handle.join();
}

#[test]
fn server_ends_when_clients_are_gone_even_if_one_left_early() {
    let (handle, client) = spawn(
        slow_echo(0.0, Duration::from_millis(20)),
        ServerConfig::default(),
    );
    // A client that sends and vanishes before its answer arrives.
    let quitter = client.clone();
    let (i, m) = rows((0..3).map(|k| k as f32));
    drop(quitter.submit(i, m).unwrap());
    drop(quitter);
    let (i, m) = rows([7.0].into_iter());
    assert_eq!(client.evaluate(i, m).unwrap()[0].policy[0], 7.0);
    drop(client);
    let stats = handle.join();
    assert_eq!(
        stats.rows, 4,
        "the quitter's rows were still evaluated, then dropped"
    );
}

#[test]
fn bad_shapes_are_refused_and_empty_batches_are_free() {
    let (handle, client) = spawn(echo(0.0), ServerConfig::default());
    let err = client.evaluate(vec![0.0; 100], vec![0.0; 52]).unwrap_err();
    assert!(matches!(err, ClientError::Shape { .. }));
    assert!(err.to_string().contains("256"));
    assert!(client.evaluate(Vec::new(), Vec::new()).unwrap().is_empty());
    drop(client);
    assert_eq!(handle.join().rows, 0);
}

#[test]
fn a_request_larger_than_max_batch_is_answered_whole() {
    let config = ServerConfig {
        max_batch: 8,
        batch_timeout: Duration::ZERO,
        workers: 1,
        pad_sizes: Vec::new(),
    };
    let (handle, client) = spawn(echo(0.0), config);
    let (i, m) = rows((0..20).map(|k| k as f32));
    let answers = client.evaluate(i, m).unwrap();
    assert_eq!(answers.len(), 20);
    assert!(
        answers
            .iter()
            .enumerate()
            .all(|(k, a)| a.policy[0] == k as f32)
    );
    drop(client);
    let stats = handle.join();
    assert_eq!(stats.rows, 20);
    assert_eq!(stats.batches, 1);
}

/// Sends `per_thread` one-row requests from each of `threads` threads; returns the answers'
/// values and the most forward passes that ever ran at once.
fn load(model: Echo, workers: usize, threads: usize, per_thread: usize) -> (Vec<f32>, usize) {
    let overlap = model.overlap.clone();
    let config = ServerConfig {
        max_batch: 4,
        batch_timeout: Duration::ZERO,
        workers,
        pad_sizes: Vec::new(),
    };
    let (handle, client) = spawn(model, config);
    let senders: Vec<_> = (0..threads)
        .map(|t| {
            let client = client.clone();
            std::thread::spawn(move || {
                (0..per_thread)
                    .map(|k| {
                        let id = (t * per_thread + k) as f32;
                        let (i, m) = rows([id].into_iter());
                        let a = client.evaluate(i, m).unwrap();
                        assert_eq!(a[0].policy[0], id, "an answer went to the wrong row");
                        a[0].values[0]
                    })
                    .collect::<Vec<f32>>()
            })
        })
        .collect();
    let values = senders
        .into_iter()
        .flat_map(|s| s.join().unwrap())
        .collect();
    drop(client);
    let stats = handle.join();
    assert_eq!(stats.rows as usize, threads * per_thread);
    (values, overlap[1].load(Ordering::SeqCst))
}

#[test]
fn several_workers_run_batches_at_the_same_time() {
    let (values, most) = load(slow_echo(0.0, Duration::from_millis(20)), 2, 8, 6);
    assert_eq!(values.len(), 48);
    assert_eq!(most, 2, "two workers should overlap their forward passes");
    let (_, most) = load(slow_echo(0.0, Duration::from_millis(5)), 1, 8, 3);
    assert_eq!(most, 1, "one worker runs one forward pass at a time");
}

#[test]
fn a_swap_reaches_every_worker_before_the_next_request() {
    let (handle, client) = spawn(
        echo(0.0),
        ServerConfig {
            workers: 3,
            ..ServerConfig::default()
        },
    );
    handle.swap(echo(100.0)).unwrap();
    // Whichever worker takes each of these, it has the new model.
    for k in 0..30 {
        let (i, m) = rows([k as f32].into_iter());
        assert_eq!(client.evaluate(i, m).unwrap()[0].values[0], 100.0);
    }
    drop(client);
    let stats = handle.join();
    assert_eq!(stats.swaps, 1, "every worker applied the one swap");
    assert_eq!(stats.rows, 30);
}

/// Records the size of every forward pass, then answers as [`Echo`] does.
#[derive(Clone)]
struct Sizes {
    echo: Echo,
    seen: Arc<std::sync::Mutex<Vec<usize>>>,
}

impl BatchModel for Sizes {
    fn forward(
        &mut self,
        inputs: &[f32],
        masks: &[f32],
        n: usize,
        policy: &mut Vec<f32>,
        values: &mut Vec<f32>,
    ) {
        self.seen.lock().unwrap().push(n);
        self.echo.forward(inputs, masks, n, policy, values);
    }
}

#[test]
fn padded_batches_run_at_the_fixed_sizes_after_a_warm_up_and_answer_only_the_real_rows() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let model = Sizes {
        echo: echo(0.5),
        seen: seen.clone(),
    };
    let config = ServerConfig {
        max_batch: 64,
        batch_timeout: Duration::ZERO,
        workers: 1,
        pad_sizes: vec![4, 16],
    };
    let (handle, client) = spawn(model, config);
    let mut expected_padding = 0;
    // One request at a time, so each forward pass holds exactly one request's rows.
    for n in [1usize, 3, 4, 5, 16, 17, 2] {
        let (inputs, masks) = rows((0..n).map(|i| (100 * n + i) as f32));
        let answers = client.evaluate(inputs, masks).unwrap();
        assert_eq!(answers.len(), n);
        for (i, a) in answers.iter().enumerate() {
            assert_eq!(a.policy[0], (100 * n + i) as f32);
            assert_eq!(a.values[0], 0.5);
        }
        expected_padding += [4, 16].into_iter().find(|&p| p >= n).unwrap_or(n) - n;
    }
    drop(client);
    let stats = handle.join();
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![4, 16, 4, 4, 4, 16, 16, 17, 4],
        "warm-up, then padded sizes"
    );
    assert_eq!(stats.warmup_batches, 2);
    assert_eq!(stats.batches, 7);
    assert_eq!(stats.rows, 1 + 3 + 4 + 5 + 16 + 17 + 2);
    assert_eq!(stats.padded_rows, expected_padding as u64);
}

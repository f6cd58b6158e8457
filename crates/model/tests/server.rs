//! The inference server with a stand-in model: routing, batching, swaps, shutdown.

use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS};
use model::server::{BatchModel, ClientError, ServerConfig, spawn};
use std::time::Duration;

/// Answers row i with policy[k] = input[0] + k and values = input[1] + tag, so every answer
/// says which row it came from and which model version made it.
struct Echo {
    tag: f32,
    delay: Duration,
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
        std::thread::sleep(self.delay);
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
    Echo {
        tag,
        delay: Duration::ZERO,
    }
}

#[test]
fn every_answer_returns_to_its_asker() {
    let config = ServerConfig {
        max_batch: 64,
        batch_timeout: Duration::from_millis(1),
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
    };
    let (handle, client) = spawn(
        Echo {
            tag: 0.0,
            delay: Duration::from_millis(5),
        },
        config,
    );
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
        Echo {
            tag: 0.0,
            delay: Duration::from_millis(20),
        },
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

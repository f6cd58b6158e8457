//! The connection to the NATS server, behind blocking calls: the only async code of the
//! crate. A one-worker tokio runtime keeps the connection alive (pings, reconnects after a
//! server restart) while the synchronous caller trains or plays between calls.

use super::{Generation, Names, RunInfo, keys};
use anyhow::{Context, anyhow};
use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer, kv, object_store, stream};
use futures_util::StreamExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::future::Future;
use std::time::Duration;

/// How long a connection, or any one request, may take before it is an error.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The learner's durable consumer.
const CONSUMER: &str = "learner";

/// A connected client with the run's names.
pub struct Broker {
    rt: tokio::runtime::Runtime,
    js: jetstream::Context,
    client: async_nats::Client,
    pub names: Names,
    pub url: String,
}

/// One message taken from the examples stream.
pub struct Received {
    pub seq: u64,
    pub headers: HeaderMap,
    pub payload: Vec<u8>,
    message: jetstream::Message,
}

impl Received {
    /// A header's value as a number.
    pub fn number(&self, name: &str) -> Option<u64> {
        self.text(name)?.parse().ok()
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.as_str())
    }
}

/// A message of the stream read back by sequence (inspection, tests).
pub struct Stored {
    pub seq: u64,
    pub headers: HeaderMap,
    pub payload: Vec<u8>,
}

impl Stored {
    pub fn number(&self, name: &str) -> Option<u64> {
        self.headers.get(name)?.as_str().parse().ok()
    }
}

/// A pull consumer of the examples stream.
pub struct Consumer {
    inner: consumer::Consumer<consumer::pull::Config>,
}

impl Broker {
    /// Connects to `url`; the run's names come from `name`. An unreachable server is an
    /// error naming the URL, within [`TIMEOUT`].
    pub fn connect(url: &str, name: &str) -> anyhow::Result<Broker> {
        let names = Names::new(name)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .context("cannot start the NATS client's runtime")?;
        let options = async_nats::ConnectOptions::new()
            .connection_timeout(TIMEOUT)
            .request_timeout(Some(TIMEOUT))
            .name("blob-train");
        let client = rt
            .block_on(async {
                tokio::time::timeout(TIMEOUT + Duration::from_secs(1), options.connect(url)).await
            })
            .map_err(|_| anyhow!("no answer from a NATS server at {url} within {TIMEOUT:?}"))?
            .with_context(|| format!("cannot connect to a NATS server at {url}"))?;
        if !client.server_info().jetstream {
            anyhow::bail!(
                "the NATS server at {url} has JetStream off: start it with `nats-server -js -sd DIR`"
            );
        }
        let js = {
            let _inside = rt.enter(); // the context spawns its acker task
            jetstream::new(client.clone())
        };
        Ok(Broker {
            rt,
            js,
            client,
            names,
            url: url.to_string(),
        })
    }

    /// Runs one request, bounded by three [`TIMEOUT`]s (a weights file is several requests).
    fn call<T, E: std::fmt::Display>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, E>>,
    ) -> anyhow::Result<T> {
        match self
            .rt
            .block_on(async { tokio::time::timeout(TIMEOUT * 3, fut).await })
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(anyhow!("NATS {}: {what}: {e}", self.url)),
            Err(_) => Err(anyhow!("NATS {}: {what}: no answer in time", self.url)),
        }
    }

    /// The most bytes one message may carry (the server's `max_payload`).
    pub fn max_payload(&self) -> usize {
        self.client.server_info().max_payload
    }

    /// Creates the run's stream (file storage), key-value bucket and object store where
    /// missing (the learner does this; actors only use them).
    pub fn create(&self) -> anyhow::Result<()> {
        let n = &self.names;
        self.call(
            "create the examples stream",
            self.js.get_or_create_stream(stream::Config {
                name: n.stream.clone(),
                subjects: vec![n.subject.clone()],
                storage: stream::StorageType::File,
                // A republished batch (same Nats-Msg-Id) within this window is stored once.
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            }),
        )?;
        if self.js.get_key_value(&n.kv).await_blocking(self).is_err() {
            // The bucket's stream as the client's `create_key_value` makes it: that call
            // first reads the account's info in a form nats-server 2.9 does not send.
            self.call(
                "create the run's key-value bucket",
                self.js.create_stream(stream::Config {
                    name: format!("KV_{}", n.kv),
                    subjects: vec![format!("$KV.{}.>", n.kv)],
                    max_messages_per_subject: 1,
                    storage: stream::StorageType::File,
                    allow_rollup: true,
                    deny_delete: true,
                    allow_direct: true,
                    discard: stream::DiscardPolicy::New,
                    num_replicas: 1,
                    ..Default::default()
                }),
            )?;
        }
        if self
            .js
            .get_object_store(&n.weights)
            .await_blocking(self)
            .is_err()
        {
            self.call(
                "create the weights object store",
                self.js.create_object_store(object_store::Config {
                    bucket: n.weights.clone(),
                    storage: stream::StorageType::File,
                    ..Default::default()
                }),
            )?;
        }
        Ok(())
    }

    fn kv(&self) -> anyhow::Result<kv::Store> {
        self.call(
            &format!("open the key-value bucket {}", self.names.kv),
            self.js.get_key_value(&self.names.kv),
        )
    }

    /// Whether the learner has created the run's buckets yet.
    pub fn exists(&self) -> bool {
        self.js
            .get_key_value(&self.names.kv)
            .await_blocking(self)
            .is_ok()
    }

    pub fn put_json<T: Serialize>(&self, key: &str, value: &T) -> anyhow::Result<()> {
        let kv = self.kv()?;
        let bytes = serde_json::to_vec(value)?;
        self.call(&format!("put {key}"), kv.put(key, bytes.into()))?;
        Ok(())
    }

    /// A key's value, `None` when it is absent; a value that does not parse is an error.
    pub fn get_json<T: DeserializeOwned>(&self, key: &str) -> anyhow::Result<Option<T>> {
        let kv = self.kv()?;
        let Some(bytes) = self.call(&format!("get {key}"), kv.get(key))? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| anyhow!("NATS {}: the key {key} holds something else: {e}", self.url))
    }

    pub fn run_info(&self) -> anyhow::Result<Option<RunInfo>> {
        self.get_json(keys::RUN)
    }

    pub fn generation(&self) -> anyhow::Result<Option<Generation>> {
        self.get_json(keys::GENERATION)
    }

    /// A new actor number, never handed out before on this run (compare-and-set on a
    /// counter, so two actors starting together get different ones).
    pub fn claim_actor(&self) -> anyhow::Result<u64> {
        self.add(keys::ACTORS, 1).map(|n| n - 1)
    }

    /// A counter's value (0 when absent).
    pub fn counter(&self, key: &str) -> anyhow::Result<u64> {
        let kv = self.kv()?;
        match self.call(&format!("read {key}"), kv.get(key))? {
            None => Ok(0),
            Some(v) => std::str::from_utf8(&v)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| anyhow!("the counter {key} is damaged")),
        }
    }

    /// Adds `n` to a counter (compare-and-set, so concurrent adds all count); the new value.
    pub fn add(&self, key: &str, n: u64) -> anyhow::Result<u64> {
        let kv = self.kv()?;
        for _ in 0..100 {
            let entry = self.call(&format!("read {key}"), kv.entry(key))?;
            let updated = match entry {
                Some(e) if e.operation == kv::Operation::Put => {
                    let last: u64 = std::str::from_utf8(&e.value)
                        .ok()
                        .and_then(|s| s.parse().ok())
                        .ok_or_else(|| anyhow!("the counter {key} is damaged"))?;
                    let next = last + n;
                    self.rt
                        .block_on(kv.update(key, next.to_string().into(), e.revision))
                        .ok()
                        .map(|_| next)
                }
                _ => self
                    .rt
                    .block_on(kv.create(key, n.to_string().into()))
                    .ok()
                    .map(|_| n),
            };
            if let Some(v) = updated {
                return Ok(v);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        anyhow::bail!("could not update the counter {key} (it kept changing)")
    }

    fn weights_store(&self) -> anyhow::Result<object_store::ObjectStore> {
        self.call(
            &format!("open the object store {}", self.names.weights),
            self.js.get_object_store(&self.names.weights),
        )
    }

    pub fn put_weights(&self, generation: u64, bytes: &[u8]) -> anyhow::Result<()> {
        let store = self.weights_store()?;
        let name = Names::weights_object(generation);
        let mut reader = bytes;
        self.call(
            &format!("store {name}"),
            store.put(name.as_str(), &mut reader),
        )?;
        Ok(())
    }

    pub fn get_weights(&self, generation: u64) -> anyhow::Result<Vec<u8>> {
        use tokio::io::AsyncReadExt;
        let store = self.weights_store()?;
        let name = Names::weights_object(generation);
        self.call(&format!("read {name}"), async {
            let mut object = store.get(name.as_str()).await.map_err(|e| e.to_string())?;
            let mut bytes = Vec::new();
            object
                .read_to_end(&mut bytes)
                .await
                .map_err(|e| e.to_string())?;
            Ok::<_, String>(bytes)
        })
    }

    /// Deletes a generation's weights (missing ones are fine).
    pub fn delete_weights(&self, generation: u64) {
        if let Ok(store) = self.weights_store() {
            let name = Names::weights_object(generation);
            let _ = self.rt.block_on(async {
                tokio::time::timeout(TIMEOUT, store.delete(name.as_str())).await
            });
        }
    }

    /// Publishes one message to the examples stream and waits for the server's ack (the
    /// message is then stored). Returns its sequence and whether the server dropped it as
    /// a duplicate of an earlier one with the same `Nats-Msg-Id`.
    pub fn publish(&self, headers: HeaderMap, payload: Vec<u8>) -> anyhow::Result<(u64, bool)> {
        let ack = self.call("publish a batch", async {
            self.js
                .publish_with_headers(self.names.subject.clone(), headers, payload.into())
                .await?
                .await
        })?;
        Ok((ack.sequence, ack.duplicate))
    }

    /// The sequence of the stream's last message (0 when empty).
    pub fn last_seq(&self) -> anyhow::Result<u64> {
        let info = self.call("read the examples stream", async {
            let mut s = self.js.get_stream(&self.names.stream).await?;
            Ok::<_, async_nats::Error>(s.info().await?.clone())
        })?;
        Ok(info.state.last_sequence)
    }

    /// (Re)creates the learner's durable consumer so that it delivers from `start_seq` on:
    /// the committed checkpoint, not the consumer's own state, says where the learner is.
    /// Acknowledging a message acknowledges every one before it.
    pub fn consumer(&self, start_seq: u64) -> anyhow::Result<Consumer> {
        let inner = self.call("create the learner's consumer", async {
            let s = self.js.get_stream(&self.names.stream).await?;
            let _ = s.delete_consumer(CONSUMER).await;
            let c = s
                .create_consumer(consumer::pull::Config {
                    durable_name: Some(CONSUMER.to_string()),
                    deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                        start_sequence: start_seq.max(1),
                    },
                    ack_policy: consumer::AckPolicy::All,
                    // Unacknowledged messages are redelivered only after an hour; the
                    // learner skips any it has already taken (by sequence) anyway.
                    ack_wait: Duration::from_secs(3600),
                    max_ack_pending: 1_000_000,
                    ..Default::default()
                })
                .await?;
            Ok::<_, async_nats::Error>(c)
        })?;
        Ok(Consumer { inner })
    }

    /// Up to `max` messages, waiting at most `wait` for the first.
    pub fn fetch(
        &self,
        consumer: &Consumer,
        max: usize,
        wait: Duration,
    ) -> anyhow::Result<Vec<Received>> {
        self.call("fetch examples", async {
            let mut batch = consumer
                .inner
                .fetch()
                .max_messages(max)
                .expires(wait)
                .messages()
                .await?;
            let mut out = Vec::new();
            while let Some(m) = batch.next().await {
                let m = m?;
                let seq = m.info()?.stream_sequence;
                out.push(Received {
                    seq,
                    headers: m.headers.clone().unwrap_or_default(),
                    payload: m.payload.to_vec(),
                    message: m,
                });
            }
            Ok::<_, async_nats::Error>(out)
        })
    }

    /// Acknowledges `message` and every message before it.
    pub fn ack(&self, message: &Received) -> anyhow::Result<()> {
        self.call("acknowledge", message.message.ack())
    }

    /// The stored message with sequence `seq` (None if there is none).
    pub fn stored(&self, seq: u64) -> anyhow::Result<Option<Stored>> {
        let s = self.call("read the examples stream", async {
            self.js.get_stream(&self.names.stream).await
        })?;
        match self
            .rt
            .block_on(async { tokio::time::timeout(TIMEOUT, s.get_raw_message(seq)).await })
        {
            Ok(Ok(m)) => Ok(Some(Stored {
                seq: m.sequence,
                headers: m.headers,
                payload: m.payload.to_vec(),
            })),
            Ok(Err(e)) if e.to_string().contains("not found") => Ok(None),
            Ok(Err(e)) => Err(anyhow!("NATS {}: read message {seq}: {e}", self.url)),
            Err(_) => Err(anyhow!("NATS {}: read message {seq}: no answer", self.url)),
        }
    }
}

/// Calls `f` until it succeeds, a stop is asked (`Ok(None)`), or it has failed for about two
/// minutes (the last error): a NATS server restart costs a pause, not the process.
pub fn retry<T>(
    what: &str,
    stop: &std::sync::atomic::AtomicBool,
    mut f: impl FnMut() -> anyhow::Result<T>,
) -> anyhow::Result<Option<T>> {
    let mut tries = 0;
    loop {
        match f() {
            Ok(v) => return Ok(Some(v)),
            Err(e) => {
                tries += 1;
                if stop.load(std::sync::atomic::Ordering::SeqCst) {
                    return Ok(None);
                }
                if tries >= 120 {
                    return Err(e.context(format!("{what}: gave up after {tries} tries")));
                }
                eprintln!("warning: {what}: {e:#}; retrying in a second ({tries})");
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
}

/// Blocks on a future on the broker's runtime (for calls whose error is an answer, not a
/// failure).
trait AwaitBlocking: Future + Sized {
    fn await_blocking(self, broker: &Broker) -> Self::Output {
        broker.rt.block_on(self)
    }
}

impl<F: Future> AwaitBlocking for F {}

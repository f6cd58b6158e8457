//! The batching inference server: one thread owns the model; clients send batches of rows over
//! flume and receive the answers on their own reply channel.
//!
//! Batching policy: take everything queued, up to `max_batch` rows; if that is less than
//! `max_batch`, wait at most `batch_timeout` for more. New weights are swapped in between
//! batches. The server ends when every client is gone; a client that vanished before its
//! answer came never blocks it.

use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS};

/// A model the server can run: a forward pass over `n` rows.
pub trait BatchModel: Send + 'static {
    /// `inputs` holds n x 256 encodings and `masks` n x 52 legal masks (1 legal, 0 not), row
    /// by row. Fills `policy` with n x 52 log-probabilities (illegal actions very negative)
    /// and `values` with n x 8 values (seats relative to the mover).
    fn forward(
        &mut self,
        inputs: &[f32],
        masks: &[f32],
        n: usize,
        policy: &mut Vec<f32>,
        values: &mut Vec<f32>,
    );
}

/// How the server batches.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ServerConfig {
    pub max_batch: usize,
    pub batch_timeout: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_batch: 512,
            batch_timeout: Duration::from_millis(2),
        }
    }
}

/// Counters of the server's work, readable while it runs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ServerStats {
    /// Rows evaluated.
    pub rows: u64,
    /// Client requests answered (a request carries one or more rows).
    pub requests: u64,
    /// Forward passes run.
    pub batches: u64,
    /// Time spent in forward passes.
    pub forward_time: Duration,
    /// Time spent waiting for work.
    pub wait_time: Duration,
    /// Weight swaps applied.
    pub swaps: u64,
}

impl ServerStats {
    pub fn mean_batch(&self) -> f64 {
        if self.batches == 0 {
            0.0
        } else {
            self.rows as f64 / self.batches as f64
        }
    }
}

/// The answer for one row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Answer {
    pub policy: [f32; NUM_ACTIONS],
    pub values: [f32; MAX_PLAYERS],
}

/// One client request: `n` rows and where to send their answers.
struct Request {
    inputs: Vec<f32>,
    masks: Vec<f32>,
    reply: flume::Sender<Vec<Answer>>,
}

enum Control<M> {
    Swap(M),
}

/// The server is gone (it panicked, or was shut down): no answer will come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the inference server has stopped")]
pub struct ServerGone;

/// A bad request: rows of the wrong width.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Gone(#[from] ServerGone),
    #[error("inputs hold {inputs} floats and masks {masks}: expected n x 256 and n x 52")]
    Shape { inputs: usize, masks: usize },
}

/// Sends batches to the server. Each client has its own reply channel; a clone gets a new one,
/// so clones can be used from different threads.
pub struct Client {
    tx: flume::Sender<Request>,
    reply_tx: flume::Sender<Vec<Answer>>,
    reply_rx: flume::Receiver<Vec<Answer>>,
}

impl Client {
    /// Evaluates rows (n x 256 inputs, n x 52 masks) and waits for the answers, in order.
    pub fn evaluate(&self, inputs: Vec<f32>, masks: Vec<f32>) -> Result<Vec<Answer>, ClientError> {
        let n = inputs.len() / ENCODING_LEN;
        if inputs.len() != n * ENCODING_LEN || masks.len() != n * NUM_ACTIONS {
            return Err(ClientError::Shape {
                inputs: inputs.len(),
                masks: masks.len(),
            });
        }
        if n == 0 {
            return Ok(Vec::new());
        }
        self.tx
            .send(Request {
                inputs,
                masks,
                reply: self.reply_tx.clone(),
            })
            .map_err(|_| ServerGone)?;
        Ok(self.reply_rx.recv().map_err(|_| ServerGone)?)
    }

    fn new(tx: flume::Sender<Request>) -> Client {
        let (reply_tx, reply_rx) = flume::unbounded();
        Client {
            tx,
            reply_tx,
            reply_rx,
        }
    }
}

impl Clone for Client {
    fn clone(&self) -> Client {
        Client::new(self.tx.clone())
    }
}

/// Owns the server thread: swaps weights, reads statistics, waits for the end.
pub struct ServerHandle<M> {
    control: flume::Sender<Control<M>>,
    stats: Arc<Mutex<ServerStats>>,
    thread: Option<JoinHandle<()>>,
}

impl<M: BatchModel> ServerHandle<M> {
    /// Replaces the model between two batches.
    pub fn swap(&self, model: M) -> Result<(), ServerGone> {
        self.control
            .send(Control::Swap(model))
            .map_err(|_| ServerGone)
    }

    pub fn stats(&self) -> ServerStats {
        *self.stats.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for the server to end (it ends once every client is dropped).
    pub fn join(mut self) -> ServerStats {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.stats()
    }
}

/// Starts a server thread owning `model`. Returns its handle and a first client.
pub fn spawn<M: BatchModel>(model: M, config: ServerConfig) -> (ServerHandle<M>, Client) {
    let (tx, rx) = flume::unbounded::<Request>();
    let (control, control_rx) = flume::unbounded();
    let stats = Arc::new(Mutex::new(ServerStats::default()));
    let shared = stats.clone();
    let thread = std::thread::Builder::new()
        .name("inference-server".into())
        .spawn(move || Server::new(model, config, shared).run(rx, control_rx))
        .expect("spawning the inference server thread");
    let handle = ServerHandle {
        control,
        stats,
        thread: Some(thread),
    };
    (handle, Client::new(tx))
}

struct Server<M> {
    model: M,
    config: ServerConfig,
    stats: Arc<Mutex<ServerStats>>,
    local: ServerStats,
    // Reused between batches.
    inputs: Vec<f32>,
    masks: Vec<f32>,
    policy: Vec<f32>,
    values: Vec<f32>,
    batch: Vec<Request>,
}

impl<M: BatchModel> Server<M> {
    fn new(model: M, config: ServerConfig, stats: Arc<Mutex<ServerStats>>) -> Self {
        let cap = config.max_batch.max(1);
        Server {
            model,
            config,
            stats,
            local: ServerStats::default(),
            inputs: Vec::with_capacity(cap * ENCODING_LEN),
            masks: Vec::with_capacity(cap * NUM_ACTIONS),
            policy: Vec::with_capacity(cap * NUM_ACTIONS),
            values: Vec::with_capacity(cap * MAX_PLAYERS),
            batch: Vec::new(),
        }
    }

    fn run(mut self, rx: flume::Receiver<Request>, control: flume::Receiver<Control<M>>) {
        loop {
            let waited = Instant::now();
            // Block for the first request; every client gone ends the server.
            let Ok(first) = rx.recv() else { break };
            let mut rows = first.inputs.len() / ENCODING_LEN;
            self.batch.push(first);
            // Take what is queued, then wait a little for more while the batch is small.
            let deadline = Instant::now() + self.config.batch_timeout;
            while rows < self.config.max_batch {
                let next = match rx.try_recv() {
                    Ok(r) => Some(r),
                    Err(_) => rx.recv_deadline(deadline).ok(),
                };
                let Some(r) = next else { break };
                rows += r.inputs.len() / ENCODING_LEN;
                self.batch.push(r);
            }
            self.local.wait_time += waited.elapsed();
            while let Ok(Control::Swap(m)) = control.try_recv() {
                self.model = m;
                self.local.swaps += 1;
            }
            self.run_batch();
            *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = self.local;
        }
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = self.local;
    }

    /// Runs the gathered requests (in chunks of at most `max_batch` rows, whole requests
    /// kept together unless one alone is larger) and answers each.
    fn run_batch(&mut self) {
        let requests = std::mem::take(&mut self.batch);
        let mut start = 0;
        while start < requests.len() {
            let mut end = start;
            let mut rows = 0;
            while end < requests.len()
                && (end == start
                    || rows + requests[end].inputs.len() / ENCODING_LEN <= self.config.max_batch)
            {
                rows += requests[end].inputs.len() / ENCODING_LEN;
                end += 1;
            }
            self.forward_and_reply(&requests[start..end], rows);
            start = end;
        }
        self.batch = requests;
        self.batch.clear();
    }

    fn forward_and_reply(&mut self, requests: &[Request], rows: usize) {
        self.inputs.clear();
        self.masks.clear();
        for r in requests {
            self.inputs.extend_from_slice(&r.inputs);
            self.masks.extend_from_slice(&r.masks);
        }
        let t = Instant::now();
        self.model.forward(
            &self.inputs,
            &self.masks,
            rows,
            &mut self.policy,
            &mut self.values,
        );
        self.local.forward_time += t.elapsed();
        self.local.batches += 1;
        self.local.rows += rows as u64;
        self.local.requests += requests.len() as u64;
        let mut row = 0;
        for r in requests {
            let n = r.inputs.len() / ENCODING_LEN;
            let answers = (row..row + n)
                .map(|i| Answer {
                    policy: self.policy[i * NUM_ACTIONS..(i + 1) * NUM_ACTIONS]
                        .try_into()
                        .expect("52 policy entries per row"),
                    values: self.values[i * MAX_PLAYERS..(i + 1) * MAX_PLAYERS]
                        .try_into()
                        .expect("8 values per row"),
                })
                .collect();
            row += n;
            // A client that went away just misses its answer.
            let _ = r.reply.send(answers);
        }
    }
}

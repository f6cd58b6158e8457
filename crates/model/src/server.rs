//! The batching inference server: one or more worker threads, each owning a copy of the model,
//! take requests from one queue; clients send batches of rows over flume and receive the
//! answers on their own reply channel.
//!
//! Batching policy: a free worker takes everything queued, up to `max_batch` rows; if that is
//! less than `max_batch`, it waits at most `batch_timeout` for more. New weights are swapped
//! into every worker between its batches. The server ends when every client is gone; a client
//! that vanished before its answer came never blocks it.
//!
//! Why several workers: Burn's CPU backend runs one forward pass on about one core, so with
//! one worker self-play waits on that core while the others idle (docs/benchmarks.md). A
//! second worker runs the next batch while the first is busy.

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
#[derive(Clone, Debug, PartialEq)]
pub struct ServerConfig {
    pub max_batch: usize,
    pub batch_timeout: Duration,
    /// Worker threads, each with its own copy of the model (at least 1).
    pub workers: usize,
    /// Batch sizes to pad to, ascending; empty runs every batch at its own size. A GPU
    /// backend compiles (and autotunes) a kernel for each new shape, so a server that sees
    /// every size from 1 to `max_batch` keeps tuning; padded to a few sizes, each is tuned
    /// once, in a warm-up pass when a worker starts. A batch above the largest size runs as
    /// it is. Padding costs the padded rows' compute: the CPU does not need it.
    pub pad_sizes: Vec<usize>,
}

/// Most batch sizes a server pads to (each is compiled and warmed up when a worker starts).
pub const MAX_PAD_SIZES: usize = 16;

/// The rule for `ServerConfig::pad_sizes`: at most [`MAX_PAD_SIZES`] sizes, strictly
/// ascending, each 1 to `max_batch` (a bigger size would never be filled). The error says
/// what is wrong; the caller names the setting.
pub fn check_pad_sizes(sizes: &[usize], max_batch: usize) -> Result<(), String> {
    if sizes.len() > MAX_PAD_SIZES
        || sizes.windows(2).any(|w| w[0] >= w[1])
        || sizes.iter().any(|&n| n == 0 || n > max_batch)
    {
        return Err(format!(
            "must be at most {MAX_PAD_SIZES} sizes, ascending, each 1 to the largest batch \
             ({max_batch}), not {sizes:?}"
        ));
    }
    Ok(())
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_batch: 512,
            batch_timeout: Duration::from_millis(2),
            workers: 1,
            pad_sizes: Vec::new(),
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
    /// Weight swaps applied (by every worker).
    pub swaps: u64,
    /// Rows added to batches to reach a padded size (`ServerConfig::pad_sizes`).
    pub padded_rows: u64,
    /// Forward passes run at start to warm each padded size up (not in `batches`).
    pub warmup_batches: u64,
}

impl ServerStats {
    /// The workers' counters together: sums, except `swaps`, which counts the swaps every
    /// worker has applied.
    fn combine(all: &[ServerStats]) -> ServerStats {
        let mut total = ServerStats {
            swaps: all.iter().map(|s| s.swaps).min().unwrap_or(0),
            ..ServerStats::default()
        };
        for s in all {
            total.rows += s.rows;
            total.requests += s.requests;
            total.batches += s.batches;
            total.forward_time += s.forward_time;
            total.wait_time += s.wait_time;
            total.padded_rows += s.padded_rows;
            total.warmup_batches += s.warmup_batches;
        }
        total
    }

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

/// Sends batches to the server. Cheap to clone (one per thread is fine).
#[derive(Clone)]
pub struct Client {
    tx: flume::Sender<Request>,
}

/// A request on its way: [`Pending::wait`] for the answers, or drop it to walk away (the
/// server never blocks on a client that left).
pub struct Pending {
    rx: flume::Receiver<Vec<Answer>>,
}

impl Pending {
    pub fn wait(self) -> Result<Vec<Answer>, ServerGone> {
        self.rx.recv().map_err(|_| ServerGone)
    }
}

impl Client {
    /// Evaluates rows (n x 256 inputs, n x 52 masks) and waits for the answers, in order.
    pub fn evaluate(&self, inputs: Vec<f32>, masks: Vec<f32>) -> Result<Vec<Answer>, ClientError> {
        Ok(self.submit(inputs, masks)?.wait()?)
    }

    /// Sends rows without waiting for the answers.
    pub fn submit(&self, inputs: Vec<f32>, masks: Vec<f32>) -> Result<Pending, ClientError> {
        let n = inputs.len() / ENCODING_LEN;
        if inputs.len() != n * ENCODING_LEN || masks.len() != n * NUM_ACTIONS {
            return Err(ClientError::Shape {
                inputs: inputs.len(),
                masks: masks.len(),
            });
        }
        let (reply, rx) = flume::bounded(1);
        if n == 0 {
            // Nothing to run: answer at once.
            let _ = reply.send(Vec::new());
        } else {
            self.tx
                .send(Request {
                    inputs,
                    masks,
                    reply,
                })
                .map_err(|_| ServerGone)?;
        }
        Ok(Pending { rx })
    }
}

/// Owns the server's threads: swaps weights, reads statistics, waits for the end.
pub struct ServerHandle<M> {
    controls: Vec<flume::Sender<Control<M>>>,
    stats: Vec<Arc<Mutex<ServerStats>>>,
    threads: Vec<JoinHandle<()>>,
}

impl<M: BatchModel + Clone> ServerHandle<M> {
    /// Replaces the model in every worker, each between two of its batches.
    pub fn swap(&self, model: M) -> Result<(), ServerGone> {
        let (last, others) = self.controls.split_last().ok_or(ServerGone)?;
        for control in others {
            control
                .send(Control::Swap(model.clone()))
                .map_err(|_| ServerGone)?;
        }
        last.send(Control::Swap(model)).map_err(|_| ServerGone)
    }

    pub fn stats(&self) -> ServerStats {
        let each: Vec<ServerStats> = self
            .stats
            .iter()
            .map(|s| *s.lock().unwrap_or_else(|e| e.into_inner()))
            .collect();
        ServerStats::combine(&each)
    }

    /// Waits for the server to end (it ends once every client is dropped).
    pub fn join(mut self) -> ServerStats {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.stats()
    }
}

/// Starts the server's worker threads (`config.workers`, at least one), each owning a copy of
/// `model`. Returns its handle and a first client.
pub fn spawn<M: BatchModel + Clone>(model: M, config: ServerConfig) -> (ServerHandle<M>, Client) {
    let (tx, rx) = flume::unbounded::<Request>();
    let workers = config.workers.max(1);
    let mut handle = ServerHandle {
        controls: Vec::with_capacity(workers),
        stats: Vec::with_capacity(workers),
        threads: Vec::with_capacity(workers),
    };
    let mut models = vec![model];
    while models.len() < workers {
        models.push(models[0].clone());
    }
    for (w, model) in models.into_iter().enumerate() {
        let (control, control_rx) = flume::unbounded();
        let stats = Arc::new(Mutex::new(ServerStats::default()));
        let shared = stats.clone();
        let rx = rx.clone();
        let config = config.clone();
        let thread = std::thread::Builder::new()
            .name(format!("inference-server-{w}"))
            .spawn(move || Server::new(model, config, shared).run(rx, control_rx))
            .expect("spawning an inference server thread");
        handle.controls.push(control);
        handle.stats.push(stats);
        handle.threads.push(thread);
    }
    (handle, Client { tx })
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
        self.warm_up();
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
        }
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = self.local;
    }

    /// Runs the gathered requests in forward passes of at most `max_batch` rows (a request
    /// is never split: one larger than `max_batch` runs alone) and answers each.
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

    /// One forward pass at each padded size, so a GPU backend compiles and tunes every shape
    /// it will see before the first real batch.
    fn warm_up(&mut self) {
        for n in self.config.pad_sizes.clone() {
            self.inputs.clear();
            self.inputs.resize(n * ENCODING_LEN, 0.0);
            self.masks.clear();
            self.masks.resize(n * NUM_ACTIONS, 1.0);
            self.model.forward(
                &self.inputs,
                &self.masks,
                n,
                &mut self.policy,
                &mut self.values,
            );
            self.local.warmup_batches += 1;
        }
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = self.local;
    }

    /// The size a batch of `rows` runs at: the smallest padded size that holds it, or its own.
    fn padded(&self, rows: usize) -> usize {
        self.config
            .pad_sizes
            .iter()
            .copied()
            .find(|&n| n >= rows)
            .unwrap_or(rows)
    }

    fn forward_and_reply(&mut self, requests: &[Request], rows: usize) {
        self.inputs.clear();
        self.masks.clear();
        for r in requests {
            self.inputs.extend_from_slice(&r.inputs);
            self.masks.extend_from_slice(&r.masks);
        }
        // Padding rows: zero inputs, every action legal (an all-illegal row would be a
        // softmax over nothing). Their answers are never read.
        let run = self.padded(rows);
        self.inputs.resize(run * ENCODING_LEN, 0.0);
        self.masks.resize(run * NUM_ACTIONS, 1.0);
        let t = Instant::now();
        self.model.forward(
            &self.inputs,
            &self.masks,
            run,
            &mut self.policy,
            &mut self.values,
        );
        self.local.forward_time += t.elapsed();
        self.local.batches += 1;
        self.local.rows += rows as u64;
        self.local.padded_rows += (run - rows) as u64;
        self.local.requests += requests.len() as u64;
        // Publish before answering, so a client that reads the statistics after its answer
        // sees its own batch counted.
        *self.stats.lock().unwrap_or_else(|e| e.into_inner()) = self.local;
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

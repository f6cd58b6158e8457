//! Opening a run: the output folder's lock, then a fresh start (generation 0 committed at
//! once) or a resume from the last committed generation, checked file by file.

use crate::buffer::ReplayBuffer;
use crate::config::TrainConfig;
use crate::learner::Learner;
use crate::metrics::{self, IterationRecord};
use crate::stages::checkpoint::{commit, metadata, publish};
use crate::state::{self, BEST, BUFFER, METRICS, OPTIMIZER, RunState, WEIGHTS};
use anyhow::{Context, bail};
use burn::tensor::backend::AutodiffBackend;
use game::seeds::{self, phases};
use model::checkpoint;
use model::net::BlobNet;
use std::fs::File;
use std::path::Path;

/// A run ready for its next iteration.
pub struct OpenRun<B: AutodiffBackend> {
    pub learner: Learner<B>,
    /// The best network so far, and the same as checkpoint bytes (committed with each
    /// generation).
    pub best: BlobNet<B::InnerBackend>,
    pub best_bytes: Vec<u8>,
    pub buffer: ReplayBuffer,
    pub state: RunState,
    pub records: Vec<IterationRecord>,
    /// Held while the run is open: a second process on the same folder is refused.
    pub lock: OutLock,
}

impl<B: AutodiffBackend> OpenRun<B> {
    /// Commits the run as it stands as generation `state.completed`, then publishes the
    /// output folder's copies from it.
    pub fn commit(&self, cfg: &TrainConfig) -> anyhow::Result<()> {
        commit(
            &cfg.out,
            cfg,
            &self.state,
            &self.learner,
            &self.buffer,
            &self.best_bytes,
            &self.records,
        )?;
        publish(&cfg.out, &self.best_bytes, &self.records)
    }
}

/// An advisory lock on the output folder (`.lock`, released when dropped or when the
/// process dies, however it dies).
pub struct OutLock {
    _file: File,
}

/// Takes the output folder's lock, or says who holds it.
pub fn lock(out: &Path) -> anyhow::Result<OutLock> {
    std::fs::create_dir_all(out)
        .with_context(|| format!("cannot create the output folder {}", out.display()))?;
    let path = out.join(".lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(OutLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "{} is in use by another training process (it holds {}); wait for it to end or choose another --out",
            out.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Starts the run `cfg` describes in `cfg.out`, or resumes it.
pub fn open<B: AutodiffBackend>(
    cfg: &TrainConfig,
    device: &B::Device,
    resume: bool,
) -> anyhow::Result<OpenRun<B>> {
    let out = &cfg.out;
    let lock = lock(out)?;
    match (resume, state::locate(out)) {
        (true, Some(dir)) => resume_from(cfg, device, &dir, lock),
        (true, None) => bail!(
            "nothing to resume in {}: no checkpoint found",
            out.display()
        ),
        (false, Some(_)) => bail!(
            "{} already holds a run: pass --resume to continue it, or choose another --out",
            out.display()
        ),
        (false, None) => start(cfg, device, lock),
    }
}

fn start<B: AutodiffBackend>(
    cfg: &TrainConfig,
    device: &B::Device,
    lock: OutLock,
) -> anyhow::Result<OpenRun<B>> {
    let out = &cfg.out;
    // Files of an earlier run without its checkpoint: never overwritten silently.
    for name in [BEST, METRICS] {
        if out.join(name).exists() {
            bail!(
                "{} holds {name} from an earlier run but no checkpoint to resume; move it away or choose another --out",
                out.display()
            );
        }
    }
    let net_cfg = cfg.net_config().map_err(anyhow::Error::msg)?;
    B::seed(device, seeds::phase(cfg.seed, 0, phases::INIT));
    let net = BlobNet::<B>::new(&net_cfg, device)?;
    let learner = Learner::new(net, cfg.learner.clone(), device.clone());
    // The initial network is the first "best".
    let best = learner.inference_net();
    let best_bytes = checkpoint::to_bytes(&best, &metadata(0, cfg))?;
    let run = OpenRun {
        learner,
        best,
        best_bytes,
        buffer: ReplayBuffer::new(cfg.buffer.capacity),
        state: RunState {
            completed: 0,
            best_iteration: 0,
            learner_steps: 0,
            elapsed_seconds: 0.0,
            config: cfg.to_toml(),
            files: Default::default(),
            stream: None,
        },
        records: Vec::new(),
        lock,
    };
    // Generation 0, so that a crash before the first iteration ends can be resumed.
    run.commit(cfg)?;
    Ok(run)
}

fn resume_from<B: AutodiffBackend>(
    cfg: &TrainConfig,
    device: &B::Device,
    dir: &Path,
    lock: OutLock,
) -> anyhow::Result<OpenRun<B>> {
    let out = &cfg.out;
    let mut st = state::load_state(dir)?;
    let saved = TrainConfig::from_toml(&st.config).map_err(|e| {
        anyhow::anyhow!(
            "{}: its config cannot be read: {e}",
            dir.join(state::STATE).display()
        )
    })?;
    cfg.check_resumable(&saved)
        .map_err(|e| anyhow::anyhow!("cannot resume {}: {e}", out.display()))?;
    st.config = cfg.to_toml();
    let net_cfg = cfg.net_config().map_err(anyhow::Error::msg)?;
    let need = |name: &str| -> anyhow::Result<Vec<u8>> {
        state::read_file(dir, &st, name)?
            .with_context(|| format!("{} is missing", dir.join(name).display()))
    };
    let (net, _) = checkpoint::from_bytes::<B>(&need(WEIGHTS)?, &net_cfg, device)
        .with_context(|| format!("{}", dir.join(WEIGHTS).display()))?;
    let mut learner = Learner::new(net, cfg.learner.clone(), device.clone());
    learner
        .load_optimizer_bytes(need(OPTIMIZER)?, st.learner_steps)
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join(OPTIMIZER).display()))?;
    let buffer = ReplayBuffer::from_bytes(&need(BUFFER)?, &dir.join(BUFFER))?;
    // Checkpoints written before best.ckpt and the metrics moved inside: the folder's copies.
    let best_bytes = match state::read_file(dir, &st, BEST)? {
        Some(bytes) => bytes,
        None => std::fs::read(out.join(BEST))
            .with_context(|| format!("cannot read {}", out.join(BEST).display()))?,
    };
    let (best, _) = checkpoint::from_bytes::<B::InnerBackend>(&best_bytes, &net_cfg, device)
        .with_context(|| format!("the best network of {}", dir.display()))?;
    let records = match state::read_file(dir, &st, METRICS)? {
        Some(bytes) => metrics::from_jsonl(
            &String::from_utf8_lossy(&bytes),
            &dir.join(METRICS).display().to_string(),
        )?,
        None => {
            let path = out.join(METRICS);
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            metrics::from_jsonl(&text, &path.display().to_string())?
                .into_iter()
                .filter(|r| r.iteration < st.completed)
                .collect()
        }
    };
    // The folder's copies may be a generation ahead (a crash after a commit began) or
    // behind: the committed generation wins.
    publish(out, &best_bytes, &records)?;
    Ok(OpenRun {
        learner,
        best,
        best_bytes,
        buffer,
        state: st,
        records,
        lock,
    })
}

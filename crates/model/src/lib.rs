//! BlobNet and what serves it.
//!
//! - [`config`]: [`NetConfig`] (the network's shape), its presets, parameter and FLOP counts.
//! - [`net`]: [`BlobNet`], a residual MLP with a masked log-softmax policy and per-seat values.
//! - [`backend`]: the CPU (`Flex`) and CUDA backends, device names, and a CUDA check that runs
//!   before Burn could panic.
//! - [`checkpoint`]: one-file checkpoints (weights, config, metadata), atomic writes, and the
//!   same format in memory for moving weights between threads and backends.
//! - [`files`]: atomic writes and checksums, for every file the project writes.
//! - [`plain`], [`plain_train`]: the inference forward pass and the learner's training step
//!   in plain `f32` on the CPU (the same arithmetic as Burn's, without its overhead).
//! - [`runner`]: [`NetRunner`], a network on a device as the server's [`server::BatchModel`].
//! - [`server`]: the batching inference server (one thread owns the model; clients send
//!   batches over flume and get answers on their own channel).
//! - [`evaluator`]: the search's `Evaluator` on top of the server (keeps `mcts` free of Burn).
//!
//! `docs/model.md` has the architecture, the presets' sizes and the measured speeds.

pub mod backend;
pub mod checkpoint;
pub mod config;
pub mod evaluator;
pub mod files;
pub mod net;
pub mod plain;
pub mod plain_train;
pub mod runner;
pub mod server;

pub use config::{Activation, ConfigError, NetConfig};

/// The message a panic carried (`panic!` with text or a format), if any.
pub fn panic_text(panic: &(dyn std::any::Any + Send)) -> Option<String> {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
}
pub use net::{BlobNet, NetOutput};
pub use runner::NetRunner;

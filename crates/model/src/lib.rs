//! BlobNet and what serves it.
//!
//! - [`server`]: the batching inference server (one thread owns the model; clients send
//!   batches over flume and get answers on their own channel).
//! - [`evaluator`]: the search's `Evaluator` on top of the server (keeps `mcts` free of Burn).

pub mod evaluator;
pub mod server;

//! Benchmarks of the real thing: self-play with real searches and a real network behind the
//! batching inference server, the network alone, the learner, and the rules engine.
//! The `bench` binary (src/main.rs) is a thin command line over these functions.

pub mod cpu;
pub mod engine;
pub mod inference;
pub mod net;
pub mod selfplay;
pub mod table;
pub mod training;

/// The number of rounds the "how long would 5M rounds take" column projects to.
pub const PROJECTED_ROUNDS: f64 = 5_000_000.0;

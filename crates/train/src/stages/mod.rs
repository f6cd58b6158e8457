//! The stages of one training iteration, each a short function with typed inputs and outputs
//! (`crate::run` strings them together):
//!
//! - [`open`]: start a run or resume one (the output folder's lock, the config check, the last
//!   committed generation);
//! - [`selfplay`]: the current network plays; examples out;
//! - [`learn`]: the learner trains on the replay buffer; new weights out;
//! - [`gate`]: the new network, the best so far and the fixed opponents play an arena in
//!   memory; promotion out;
//! - [`checkpoint`]: commit the generation (every file, with checksums), then publish
//!   `best.ckpt`, `metrics.jsonl` and the plots from it.
//!
//! A stage that a stop request (Ctrl-C, SIGTERM) can cut short returns [`Outcome`]: a stopped
//! iteration is abandoned whole and the last committed generation stays the truth, so a
//! resume replays that iteration exactly.

pub mod checkpoint;
pub mod gate;
pub mod learn;
pub mod open;
pub mod selfplay;

/// What a stage that can be stopped returns.
#[derive(Debug, PartialEq)]
pub enum Outcome<T> {
    Done(T),
    /// A stop was asked before the stage finished; its work is dropped.
    Stopped,
}

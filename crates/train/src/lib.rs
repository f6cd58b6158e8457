//! The training pipeline: self-play, replay buffer, learner, arena, ratings, checkpoints.

pub mod buffer;
pub mod config;
pub mod example;
pub mod selfplay;

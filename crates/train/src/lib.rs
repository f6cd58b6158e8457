//! The training pipeline: self-play, replay buffer, learner, arena, ratings, checkpoints.

pub mod agents;
pub mod arena;
pub mod example;
pub mod ratings;
pub mod selfplay;

//! The training pipeline: self-play, replay buffer, learner, arena, ratings, checkpoints.

pub mod agents;
pub mod arena;
pub mod buffer;
pub mod config;
pub mod distributed;
pub mod engine;
pub mod example;
pub mod learner;
pub mod metrics;
pub mod net_agent;
pub mod play;
pub mod ratings;
pub mod run;
pub mod selfplay;
pub mod stages;
pub mod state;
pub mod training_range;

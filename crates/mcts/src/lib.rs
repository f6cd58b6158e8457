//! Determinized PUCT search for Blob.
//!
//! - [`worlds`]: deals consistent with what the searching seat knows (never its opponents'
//!   true hands).
//! - [`tree`]: one world's tree as plain arrays; PUCT selection with virtual loss; backup of
//!   per-seat value vectors, each node choosing by its own mover's component.
//! - [`search`]: the resumable state machine (`step(answers) -> NeedEval | Done`), so one
//!   thread can drive many searches and batch their requests.
//! - [`evaluator`]: the seam to whatever scores positions (a network lives in another crate);
//!   uniform, random and rollout evaluators for tests and the baseline.
//! - [`cache`]: a bounded evaluation cache shared by searches (equal requests, one answer).
//! - [`agent`]: a blocking wrapper and the network-free baseline agent.
//! - [`ismcts`]: the textbook information-set MCTS with random playouts (a network-free
//!   baseline: one tree over the searcher's information set, a fresh world per simulation).
//! - [`params`]: every knob in one struct, with presets; [`value`]: the value scale.

pub mod agent;
pub mod cache;
pub mod evaluator;
pub mod info_set;
pub mod ismcts;
pub mod params;
pub mod result;
pub mod search;
mod tree;
pub mod value;
pub mod worlds;

pub use agent::{RolloutAgent, run_to_end, search_blocking};
pub use cache::{CacheStats, CachedEvaluator, EvalCache, ObservationEvaluator};
pub use evaluator::{
    EvalRequest, Evaluation, Evaluator, RandomEvaluator, RolloutEvaluator, UniformEvaluator,
};
pub use info_set::InfoSetSearch;
pub use ismcts::{IsmctsAgent, IsmctsParams, ismcts_search};
pub use params::{Fpu, ParamsError, Preset, SearchKind, SearchParams};
pub use result::{SearchResult, TemperatureSchedule};
pub use search::{Determinized, Search, SearchError, Step};
pub use tree::masked_softmax;

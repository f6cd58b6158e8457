//! Self-play stage: the server's current network plays one iteration's rounds (or games).

use super::Outcome;
use crate::example::Example;
use crate::selfplay::{self, SelfPlayConfig, SelfPlayStats};
use indicatif::ProgressBar;
use mcts::{CacheStats, CachedEvaluator, EvalCache};
use model::evaluator::ServerEvaluator;
use model::server::{Client, ServerStats};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What self-play needs, fixed for the run.
pub struct SelfPlayStage<'a> {
    pub config: SelfPlayConfig,
    pub per_iteration: u64,
    pub threads: usize,
    /// Entries of the evaluation cache the stage's threads share (0: none).
    pub cache_entries: usize,
    pub client: Client,
    /// Reads the server's counters (rows and batches this stage caused).
    pub server_stats: &'a (dyn Fn() -> ServerStats + Sync),
}

/// One iteration's self-play.
pub struct Played {
    pub examples: Vec<Example>,
    pub stats: SelfPlayStats,
    pub seconds: f64,
    /// Network evaluations and forward passes of the server during the stage.
    pub rows: u64,
    pub batches: u64,
    /// The evaluation cache's hits and misses.
    pub cache: CacheStats,
}

impl SelfPlayStage<'_> {
    /// Plays iteration `iteration`; a stop request ends it within one search round trip.
    pub fn play(
        &self,
        iteration: u64,
        bar: &ProgressBar,
        stop: &AtomicBool,
    ) -> anyhow::Result<Outcome<Played>> {
        let t0 = Instant::now();
        let before = (self.server_stats)();
        // A fresh cache per iteration: the weights are new.
        let cache = Arc::new(EvalCache::new(self.cache_entries));
        let progress = AtomicU64::new(0);
        let finished = AtomicBool::new(false);
        let result = std::thread::scope(|scope| {
            scope.spawn(|| watch(bar, &progress, &finished));
            let result = selfplay::run(
                &self.config,
                iteration,
                self.per_iteration,
                self.threads,
                |_| CachedEvaluator::new(ServerEvaluator::new(self.client.clone()), cache.clone()),
                &progress,
                stop,
            );
            // The watcher ends on this flag, whatever self-play did.
            finished.store(true, Ordering::SeqCst);
            result
        });
        bar.finish_and_clear();
        let (units, stats) = result?;
        if stop.load(Ordering::SeqCst) {
            return Ok(Outcome::Stopped);
        }
        let after = (self.server_stats)();
        Ok(Outcome::Done(Played {
            examples: units.into_iter().flat_map(|u| u.examples).collect(),
            stats,
            seconds: t0.elapsed().as_secs_f64(),
            rows: after.rows - before.rows,
            batches: after.batches - before.batches,
            cache: cache.stats(),
        }))
    }
}

/// Mirrors the self-play counter into the bar until self-play returns.
fn watch(bar: &ProgressBar, progress: &AtomicU64, finished: &AtomicBool) {
    while !finished.load(Ordering::SeqCst) {
        bar.set_position(progress.load(Ordering::Relaxed));
        std::thread::sleep(Duration::from_millis(50));
    }
}

//! Evaluation during training: the new network, the best network so far and the fixed
//! opponents play one arena match (duplicate deals, every deal at every ordering of the
//! agents: `crate::arena`). The new network is promoted when it is significantly better than
//! the best: the 95% interval of its score difference to the best, paired by deal, lies above
//! zero. An equal network passes about 2.5% of the time (the seating treats the two networks
//! alike, so neither gains from where it sits; tested), a better one more and more often as
//! the match grows: no threshold an equal network can never reach, none that a coin flip
//! passes.

use crate::agents::AgentSpec;
use crate::arena::{ArenaConfig, ArenaReport, Format, run_arena};
use crate::config::TrainConfig;
use crate::metrics::MatchResult;
use crate::net_agent::NetFactory;
use mcts::Preset;
use std::path::Path;

/// What an evaluation found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArenaOutcome {
    pub matches: Vec<MatchResult>,
    pub promote: bool,
}

/// The promotion rule: agent 0 (the new network) beats agent 1 (the best) by more than the
/// 95% interval of their score difference paired by deal. Needs at least two deals.
pub fn promotes(report: &ArenaReport) -> bool {
    let (diff, ci) = report.paired_difference(0, 1);
    ci.is_some_and(|ci| diff - ci > 0.0)
}

/// Plays the network saved at `candidate` against the one at `best` and the fixed opponents
/// of `cfg.arena.opponents`.
pub fn evaluate_network(
    cfg: &TrainConfig,
    candidate: &Path,
    best: &Path,
    seed: u64,
    threads: usize,
) -> anyhow::Result<ArenaOutcome> {
    let a = &cfg.arena;
    let preset: Preset = a
        .preset
        .parse()
        .map_err(|e| anyhow::anyhow!("arena.preset: {e}"))?;
    let mut agents = vec![
        AgentSpec::Net {
            checkpoint: candidate.to_path_buf(),
            preset,
        },
        AgentSpec::Net {
            checkpoint: best.to_path_buf(),
            preset,
        },
    ];
    let mut names = vec!["best".to_string()];
    for o in &a.opponents {
        agents.push(o.parse()?);
        names.push(o.clone());
    }
    let arena = ArenaConfig {
        agents,
        format: Format::Rounds {
            deals: a.rounds,
            players: Some(a.players),
            cards: Some(a.cards),
        },
        seed,
        threads,
    };
    let report = run_arena(&arena, Some(&NetFactory::default()))?;
    let mut outcome = ArenaOutcome {
        promote: promotes(&report),
        ..ArenaOutcome::default()
    };
    for (i, name) in names.into_iter().enumerate() {
        let opponent = i + 1;
        let (diff, ci) = report.paired_difference(0, opponent);
        let ci = ci.unwrap_or(f64::INFINITY);
        outcome.matches.push(MatchResult {
            opponent: name,
            new_score: report.agents[0].mean_score,
            opponent_score: report.agents[opponent].mean_score,
            diff,
            diff_ci95: ci,
        });
    }
    Ok(outcome)
}

//! Gate stage: the new network, the best network so far and the fixed opponents play one
//! arena match in memory, on the training device (duplicate deals, every deal at every
//! ordering of the agents: `crate::arena`). The new network is promoted when it is
//! significantly better than the best: the 95% interval of its score difference to the best,
//! paired by deal, lies above zero. An equal network passes about 2.5% of the time (the
//! seating treats the two networks alike, so neither gains from where it sits; tested), a
//! better one more and more often as the match grows: no threshold an equal network can never
//! reach, none that a coin flip passes.

use super::Outcome;
use crate::agents::AgentSpec;
use crate::arena::{ArenaConfig, ArenaReport, Format, run_arena_until};
use crate::config::TrainConfig;
use crate::metrics::MatchResult;
use crate::net_agent::{CacheUse, NetFactory};
use burn::tensor::backend::Backend;
use model::net::BlobNet;
use std::sync::atomic::AtomicBool;

/// What the gate found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Verdict {
    pub matches: Vec<MatchResult>,
    pub promote: bool,
    pub seconds: f64,
}

/// The promotion rule: agent 0 (the new network) beats agent 1 (the best) by more than the
/// 95% interval of their score difference paired by deal. Needs at least two deals.
pub fn promotes(report: &ArenaReport) -> bool {
    let (diff, ci) = report.paired_difference(0, 1);
    ci.is_some_and(|ci| diff - ci > 0.0)
}

/// The two networks as the arena names them.
const NEW: &str = "new";
const BEST: &str = "best";

/// Plays `candidate` against `best` and the fixed opponents of `cfg.arena.opponents` over
/// `deals` deals; `rounds_only` says the networks learnt from single rounds. A stop request
/// ends it within one deal.
#[allow(clippy::too_many_arguments)]
pub fn gate<B: Backend>(
    cfg: &TrainConfig,
    deals: usize,
    candidate: BlobNet<B>,
    best: BlobNet<B>,
    device: B::Device,
    rounds_only: bool,
    seed: u64,
    threads: usize,
    stop: &AtomicBool,
) -> anyhow::Result<Outcome<Verdict>> {
    let t0 = std::time::Instant::now();
    let a = &cfg.arena;
    let preset = a.preset;
    let net = |name: &str| AgentSpec::Net {
        checkpoint: name.into(),
        preset,
    };
    let mut agents = vec![net(NEW), net(BEST)];
    let mut names = vec![BEST.to_string()];
    for o in &a.opponents {
        agents.push(o.clone());
        names.push(o.to_string());
    }
    let arena = ArenaConfig {
        agents,
        format: Format::Rounds {
            deals,
            players: Some(a.players),
            cards: Some(a.cards),
        },
        seed,
        threads,
    };
    let nets = NetFactory::in_memory(
        device,
        [
            (NEW.to_string(), candidate, rounds_only),
            (BEST.to_string(), best, rounds_only),
        ],
    )
    .with_cache(CacheUse::PerAgent(cfg.cache.entries));
    let Some(report) = run_arena_until(&arena, Some(&nets), stop)? else {
        return Ok(Outcome::Stopped);
    };
    let matches = names
        .into_iter()
        .enumerate()
        .map(|(i, name)| {
            let opponent = i + 1;
            let (diff, ci) = report.paired_difference(0, opponent);
            MatchResult {
                opponent: name,
                new_score: report.agents[0].mean_score,
                opponent_score: report.agents[opponent].mean_score,
                diff,
                diff_ci95: ci.unwrap_or(f64::INFINITY),
                deals,
            }
        })
        .collect();
    Ok(Outcome::Done(Verdict {
        matches,
        promote: promotes(&report),
        seconds: t0.elapsed().as_secs_f64(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::backend::Cpu;
    use model::config::NetConfig;

    #[test]
    fn the_gate_plays_in_memory_and_stops_when_asked() {
        let cfg = TrainConfig::from_toml(
            "[arena]\nrounds = 4\nplayers = 3\ncards = 2\npreset = \"1x4\"\nopponents = [\"random\"]",
        )
        .unwrap();
        let device = Default::default();
        let net = || BlobNet::<Cpu>::new(&NetConfig::tiny(), &device).unwrap();
        let stop = AtomicBool::new(true);
        let stopped = gate(&cfg, 4, net(), net(), device, true, 1, 2, &stop).unwrap();
        assert_eq!(stopped, Outcome::Stopped);
        let go = AtomicBool::new(false);
        let Outcome::Done(verdict) = gate(&cfg, 4, net(), net(), device, true, 1, 2, &go).unwrap()
        else {
            panic!("not asked to stop, yet it stopped");
        };
        let opponents: Vec<&str> = verdict
            .matches
            .iter()
            .map(|m| m.opponent.as_str())
            .collect();
        assert_eq!(opponents, ["best", "random"]);
        assert!(verdict.matches.iter().all(|m| m.diff_ci95.is_finite()));
        assert!(verdict.matches.iter().all(|m| m.deals == 4));
    }
}

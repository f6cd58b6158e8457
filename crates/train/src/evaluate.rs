//! Evaluation during training: the new network meets the best network so far and the fixed
//! opponents in duplicate matches, and is promoted when it is significantly better than the
//! best (the 95% interval of the paired score difference lies above zero: an equal network
//! passes 2.5% of the time, a better one more often as the match grows).
//!
//! A match between A and B plays each deal P times: in rotation r, seat s is A's when
//! `(s + r) % P < P / 2`, else B's, so every seat hosts each agent equally often. The statistic
//! per deal is A's mean score minus B's; the interval is over deals (the rotations of one deal
//! are correlated, the deals are independent).

use crate::config::TrainConfig;
use crate::metrics::MatchResult;
use crate::net_agent::NetAgent;
use burn::tensor::backend::Backend;
use game::bots::{Bot, HeuristicBot, RandomBot};
use game::{Action, Card, Observation, Phase, Round, RoundConfig, TRUMP_ROTATION, rng_from_seed};
use mcts::{Preset, RolloutAgent};
use model::checkpoint;
use model::net::BlobNet;
use model::runner::NetRunner;
use model::server::BatchModel;
use rand::RngExt;
use std::path::Path;

/// What an evaluation found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArenaOutcome {
    pub matches: Vec<MatchResult>,
    pub promote: bool,
}

/// A player of a match, built per table (agents keep per-decision state).
pub type MakeBot<'a> = dyn Fn(u64) -> Box<dyn Bot> + Sync + 'a;

/// An action index as the `Action` of the current phase.
pub fn action_of(obs: &Observation, index: usize) -> Action {
    match obs.public.phase() {
        Phase::Bidding => Action::Bid(index as u8),
        _ => Action::Play(Card::new(index as u8).expect("a card index")),
    }
}

impl<M: BatchModel> Bot for NetAgent<M> {
    fn act(&mut self, obs: &Observation) -> Action {
        let a = self.choose(obs);
        action_of(obs, a)
    }
}

struct RolloutBot(RolloutAgent);

impl Bot for RolloutBot {
    fn act(&mut self, obs: &Observation) -> Action {
        let a = self
            .0
            .choose(obs)
            .unwrap_or_else(|_| obs.legal_actions().nth(0).unwrap_or(0));
        action_of(obs, a)
    }
}

/// A fixed opponent by name: `random`, `heuristic` or `rollout:SIMS`.
pub fn fixed_opponent(name: &str) -> Result<Box<MakeBot<'static>>, String> {
    match name {
        "random" => Ok(Box::new(|seed| {
            Box::new(RandomBot::new(seed)) as Box<dyn Bot>
        })),
        "heuristic" => Ok(Box::new(|_| Box::new(HeuristicBot::new()) as Box<dyn Bot>)),
        _ => match name.strip_prefix("rollout:").map(str::parse::<usize>) {
            Some(Ok(sims)) if sims > 0 => Ok(Box::new(move |seed| {
                Box::new(RolloutBot(RolloutAgent::new(sims, seed))) as Box<dyn Bot>
            })),
            _ => Err(format!(
                "unknown arena opponent {name:?}: use random, heuristic or rollout:SIMS"
            )),
        },
    }
}

/// Plays a duplicate match of `deals` deals (P players, C cards, trump and dealer varying)
/// between `a` and `b`; returns A's and B's mean score per round and the paired difference
/// with its 95% half-width.
pub fn duplicate_match(
    a: &MakeBot,
    b: &MakeBot,
    players: usize,
    cards: usize,
    deals: usize,
    seed: u64,
    threads: usize,
) -> (f64, f64, f64, f64) {
    let per_deal = |d: usize| -> (f64, f64) {
        let mut rng = rng_from_seed(seed ^ (d as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let trump = TRUMP_ROTATION[rng.random_range(0..5)];
        let cfg = RoundConfig::new(players as u64, cards as u64, trump, (d % players) as u64)
            .expect("arena set-up was validated");
        let deal = Round::deal(cfg, &mut rng);
        let (mut sa, mut sb, mut na, mut nb) = (0.0, 0.0, 0.0, 0.0);
        for r in 0..players {
            let table_seed = rng.random::<u64>();
            let mut bots: Vec<Box<dyn Bot>> = (0..players)
                .map(|s| {
                    let seat_seed = table_seed ^ (s as u64) << 32;
                    if (s + r) % players < players / 2 {
                        a(seat_seed)
                    } else {
                        b(seat_seed)
                    }
                })
                .collect();
            let mut round = deal;
            let scores = {
                let mut refs: Vec<&mut dyn Bot> =
                    bots.iter_mut().map(|b| &mut **b as &mut dyn Bot).collect();
                game::bots::play_round(&mut round, &mut refs)
            };
            for (s, &score) in scores.iter().enumerate().take(players) {
                if (s + r) % players < players / 2 {
                    sa += score as f64;
                    na += 1.0;
                } else {
                    sb += score as f64;
                    nb += 1.0;
                }
            }
        }
        (sa / na, sb / nb)
    };
    let threads = threads.clamp(1, deals.max(1));
    let results: Vec<(f64, f64)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let per_deal = &per_deal;
                scope.spawn(move || {
                    (t..deals)
                        .step_by(threads)
                        .map(|d| (d, per_deal(d)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        let mut all: Vec<(usize, (f64, f64))> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("arena thread"))
            .collect();
        all.sort_by_key(|(d, _)| *d);
        all.into_iter().map(|(_, r)| r).collect()
    });
    let n = results.len().max(1) as f64;
    let mean_a = results.iter().map(|r| r.0).sum::<f64>() / n;
    let mean_b = results.iter().map(|r| r.1).sum::<f64>() / n;
    let diffs: Vec<f64> = results.iter().map(|r| r.0 - r.1).collect();
    let mean = diffs.iter().sum::<f64>() / n;
    let var = diffs.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean_a, mean_b, mean, 1.96 * (var / n).sqrt())
}

/// The training-time evaluation: the new network against the best so far (read from
/// `best_path`) and against each fixed opponent of `cfg.arena.opponents`.
pub fn evaluate_network<B: Backend>(
    cfg: &TrainConfig,
    net: &BlobNet<B>,
    best_path: &Path,
    device: &B::Device,
    seed: u64,
    threads: usize,
) -> anyhow::Result<ArenaOutcome>
where
    NetRunner<B>: BatchModel,
{
    let a = &cfg.arena;
    let params = a
        .preset
        .parse::<Preset>()
        .map_err(|e| anyhow::anyhow!("arena.preset: {e}"))?
        .params()
        .with_batch(8);
    let new_agent = |seed: u64| -> Box<dyn Bot> {
        Box::new(NetAgent::new(
            "new",
            net.clone(),
            device.clone(),
            params,
            seed,
        ))
    };
    let (best, _) = checkpoint::load::<B>(best_path, net.config(), device)?;
    let best_agent = |seed: u64| -> Box<dyn Bot> {
        Box::new(NetAgent::new(
            "best",
            best.clone(),
            device.clone(),
            params,
            seed,
        ))
    };
    let mut outcome = ArenaOutcome::default();
    let mut opponents: Vec<(String, Box<MakeBot>)> =
        vec![("best".to_string(), Box::new(best_agent))];
    for name in &a.opponents {
        opponents.push((
            name.clone(),
            fixed_opponent(name).map_err(anyhow::Error::msg)?,
        ));
    }
    for (i, (name, opp)) in opponents.iter().enumerate() {
        let (new_score, opponent_score, diff, diff_ci95) = duplicate_match(
            &new_agent,
            opp.as_ref(),
            a.players,
            a.cards,
            a.rounds,
            seed ^ i as u64,
            threads,
        );
        if name == "best" {
            outcome.promote = diff - diff_ci95 > 0.0;
        }
        outcome.matches.push(MatchResult {
            opponent: name.clone(),
            new_score,
            opponent_score,
            diff,
            diff_ci95,
        });
    }
    Ok(outcome)
}

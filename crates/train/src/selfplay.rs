//! Self-play: each thread keeps many rounds (or games) in flight, each driving a resumable
//! search, and sends all their evaluation requests to the evaluator in one call.
//!
//! Repeatability: round k of an iteration is always played by thread k % T with a generator
//! seeded from (seed, iteration, k), and results are ordered by k, so a run is the same for
//! a given seed and thread count (as long as the evaluator's answer for a position does not
//! depend on which batch it arrives in).

use crate::example::{Example, NO_TRICKS, owners_of};
use game::{
    Game, GameConfig, GameContext, GameRng, MAX_PLAYERS, NUM_ACTIONS, Observation, Round,
    RoundConfig, TRUMP_ROTATION, encode,
};
use mcts::value::{blend, score_value, standing_values, to_relative};
use mcts::{Evaluation, Evaluator, Search, SearchParams, Step, TemperatureSchedule};
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// What self-play plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Independent rounds with set-ups drawn from [`DealConfig`].
    Rounds,
    /// Full games (schedule, rotations, totals), game context in the encoding.
    Games,
}

impl std::str::FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Mode, String> {
        match s {
            "rounds" => Ok(Mode::Rounds),
            "games" => Ok(Mode::Games),
            _ => Err(format!("unknown mode {s:?}: use rounds or games")),
        }
    }
}

/// Distributions of the set-ups self-play draws from (all uniform).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DealConfig {
    /// Player counts to draw from.
    pub players: Vec<usize>,
    /// Rounds mode: cards per hand, drawn from min..=max (capped at 52 / players).
    pub cards_min: usize,
    pub cards_max: usize,
    /// Games mode: starting hand size, drawn from min..=max (capped at 52 / players).
    pub start_cards_min: usize,
    pub start_cards_max: usize,
}

/// `[deal]` of configs/default.toml, the one source of defaults.
impl Default for DealConfig {
    fn default() -> Self {
        crate::config::TrainConfig::default().deal
    }
}

impl DealConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.players.is_empty() {
            return Err("deal.players is empty: list at least one player count (3..=8)".into());
        }
        if let Some(p) = self.players.iter().find(|p| !(3..=8).contains(*p)) {
            return Err(format!(
                "deal.players holds {p}: player counts must be 3..=8"
            ));
        }
        for (name, lo, hi) in [
            ("cards", self.cards_min, self.cards_max),
            ("start_cards", self.start_cards_min, self.start_cards_max),
        ] {
            if lo == 0 || lo > hi {
                return Err(format!(
                    "deal.{name}_min..{name}_max is {lo}..{hi}: need 1 <= min <= max"
                ));
            }
            let smallest_deck_share = 52 / self.players.iter().max().copied().unwrap_or(3);
            if lo > smallest_deck_share {
                return Err(format!(
                    "deal.{name}_min is {lo}: with {} players at most {smallest_deck_share} cards fit",
                    self.players.iter().max().copied().unwrap_or(3)
                ));
            }
        }
        Ok(())
    }

    fn draw_players(&self, rng: &mut GameRng) -> usize {
        self.players[rng.random_range(0..self.players.len())]
    }

    /// A hand size in `lo..=hi`, capped at what `players` hands of the deck allow.
    pub(crate) fn draw_between(lo: usize, hi: usize, players: usize, rng: &mut GameRng) -> usize {
        let hi = hi.min(52 / players).max(lo.min(52 / players));
        let lo = lo.min(hi);
        rng.random_range(lo..=hi)
    }

    /// A random round set-up: players, cards, trump (or none) and dealer.
    pub fn draw_round(&self, rng: &mut GameRng) -> RoundConfig {
        let p = self.draw_players(rng);
        let c = Self::draw_between(self.cards_min, self.cards_max, p, rng);
        let trump = TRUMP_ROTATION[rng.random_range(0..5)];
        let dealer = rng.random_range(0..p);
        RoundConfig::new(p as u64, c as u64, trump, dealer as u64).expect("drawn within the rules")
    }

    pub fn draw_game(&self, rng: &mut GameRng) -> GameConfig {
        let p = self.draw_players(rng);
        let s = Self::draw_between(self.start_cards_min, self.start_cards_max, p, rng);
        GameConfig::new(p as u64, s as u64).expect("drawn within the rules")
    }
}

/// Everything self-play needs besides the evaluator.
#[derive(Clone, Debug, PartialEq)]
pub struct SelfPlayConfig {
    pub mode: Mode,
    pub deal: DealConfig,
    pub search: SearchParams,
    pub temperature: TemperatureSchedule,
    /// What the policy head learns from a search.
    pub policy_target: PolicyTarget,
    /// Playout cap randomisation (KataGo): this share of decisions get the full `search` and
    /// teach the policy; the others get `fast_search` (no root noise) and teach only the
    /// value, so more rounds (value targets) fit in the same time. 1 searches everything fully.
    pub full_search_share: f32,
    pub fast_search: SearchParams,
    /// Rounds (or games) each thread keeps in flight.
    pub in_flight: usize,
    pub seed: u64,
    /// Rounds mode: deal this set-up every round instead of drawing one from `deal` (the
    /// peer's unit: 4 players, 5 cards, spades, seat 0 dealing).
    pub fixed_setup: Option<RoundConfig>,
    /// Search every decision but a seat's last card, a single legal action included (the
    /// peer's unit; the searches need `search_single_action`). Off, a decision with one legal
    /// action is played without search.
    pub search_forced: bool,
}

/// The policy target of a searched decision.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyTarget {
    /// The root's visit distribution (AlphaZero).
    Visits,
    /// The prior improved by the root's values (`mcts::SearchResult::improved_policy`,
    /// Gumbel MuZero's completed-Q target, with its default constants).
    Improved,
}

impl PolicyTarget {
    /// Gumbel MuZero's defaults (mctx): c_visit 50, c_scale 0.1, for values in 0..1.
    const C_VISIT: f32 = 50.0;
    const C_SCALE: f32 = 0.1;

    fn of(self, result: &mcts::SearchResult, mover: usize) -> [f32; NUM_ACTIONS] {
        match self {
            PolicyTarget::Visits => result.policy(),
            PolicyTarget::Improved => result.improved_policy(mover, Self::C_VISIT, Self::C_SCALE),
        }
    }
}

/// Counters of one self-play run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SelfPlayStats {
    pub rounds: u64,
    pub games: u64,
    pub examples: u64,
    /// Decisions searched, and those played without search (one legal action).
    pub searched: u64,
    /// Searched decisions that got the fast search (playout cap randomisation).
    #[serde(default)]
    pub fast: u64,
    pub forced: u64,
    pub simulations: u64,
    pub evaluations: u64,
    /// Evaluator calls (each holds many requests).
    pub batches: u64,
    pub depth_sum: u64,
}

impl SelfPlayStats {
    pub fn add(&mut self, o: &SelfPlayStats) {
        self.rounds += o.rounds;
        self.games += o.games;
        self.examples += o.examples;
        self.searched += o.searched;
        self.fast += o.fast;
        self.forced += o.forced;
        self.simulations += o.simulations;
        self.evaluations += o.evaluations;
        self.batches += o.batches;
        self.depth_sum += o.depth_sum;
    }

    pub fn mean_batch(&self) -> f64 {
        self.evaluations as f64 / self.batches.max(1) as f64
    }

    pub fn mean_depth(&self) -> f64 {
        self.depth_sum as f64 / self.simulations.max(1) as f64
    }
}

/// The output of one unit of work (a round, or a game): its examples, in play order.
#[derive(Clone, Debug)]
pub struct Finished {
    pub index: u64,
    pub examples: Vec<Example>,
    /// For each example: the mover's seat and the round (of `rounds`) it was made in.
    pub origins: Vec<(usize, usize)>,
    /// The rounds played (one in rounds mode).
    pub rounds: Vec<RoundSummary>,
    /// Final totals, in games mode.
    pub totals: Option<Vec<u16>>,
}

/// How one round ended.
#[derive(Clone, Debug, PartialEq)]
pub struct RoundSummary {
    pub players: usize,
    pub cards: usize,
    pub bids: Vec<usize>,
    pub tricks: Vec<usize>,
    pub scores: Vec<u8>,
}

/// A decision waiting for its value target (known when the round or the game ends). A
/// bystander's view (value only) has no legal action and an all-zero policy.
struct Decision {
    encoding: [f32; game::ENCODING_LEN],
    legal: u64,
    policy: [f32; NUM_ACTIONS],
    mover: usize,
    /// Round of the game the decision was made in.
    round: usize,
    /// Tricks each seat (absolute) had won when the decision was made.
    won: [u8; MAX_PLAYERS],
    /// Who held each card the mover could not see (`example::owners_of`).
    owners: [u8; game::Card::COUNT],
}

enum Table {
    Round(Round),
    Game(Box<Game>),
}

/// One round or game in flight on a thread.
struct Slot {
    index: u64,
    rng: GameRng,
    table: Table,
    search: Option<Search>,
    /// Whether the search in progress is a full one (its example teaches the policy).
    full_search: bool,
    answers: Vec<Evaluation>,
    decisions: Vec<Decision>,
    /// Per round of a game: the round's values and tricks by absolute seat, and how it ended.
    round_values: Vec<[f32; MAX_PLAYERS]>,
    round_tricks: Vec<[u8; MAX_PLAYERS]>,
    summaries: Vec<RoundSummary>,
    /// Decisions made so far by each seat in the current round (for the temperature).
    made: [usize; MAX_PLAYERS],
    stats: SelfPlayStats,
}

/// Tricks won so far by each absolute seat (0 beyond the players).
fn tricks_won(pb: &game::PublicRound) -> [u8; MAX_PLAYERS] {
    std::array::from_fn(|s| {
        if s < pb.players() {
            pb.tricks_won(s) as u8
        } else {
            0
        }
    })
}

impl Slot {
    fn new(cfg: &SelfPlayConfig, iteration: u64, index: u64) -> Slot {
        let mut rng =
            GameRng::seed_from_u64(game::seeds::selfplay_unit(cfg.seed, iteration, index));
        let table = match cfg.mode {
            Mode::Rounds => {
                let setup = match cfg.fixed_setup {
                    Some(setup) => setup,
                    None => cfg.deal.draw_round(&mut rng),
                };
                Table::Round(Round::deal(setup, &mut rng))
            }
            Mode::Games => Table::Game(Box::new(Game::new(cfg.deal.draw_game(&mut rng), &mut rng))),
        };
        Slot {
            index,
            rng,
            table,
            search: None,
            full_search: true,
            answers: Vec::new(),
            decisions: Vec::new(),
            round_values: Vec::new(),
            round_tricks: Vec::new(),
            summaries: Vec::new(),
            made: [0; MAX_PLAYERS],
            stats: SelfPlayStats::default(),
        }
    }

    fn round(&self) -> &Round {
        match &self.table {
            Table::Round(r) => r,
            Table::Game(g) => g.round(),
        }
    }

    fn context(&self) -> Option<GameContext> {
        match &self.table {
            Table::Round(_) => None,
            Table::Game(g) => Some(g.context()),
        }
    }

    fn round_index(&self) -> usize {
        match &self.table {
            Table::Round(_) => 0,
            Table::Game(g) => g.round_index(),
        }
    }

    fn apply(&mut self, action: usize) {
        let done = match &mut self.table {
            Table::Round(r) => {
                r.apply_index(action).expect("search picks legal actions");
                r.is_over()
            }
            Table::Game(g) => {
                g.apply_index(action).expect("search picks legal actions");
                g.round().is_over()
            }
        };
        if done {
            self.end_round();
        }
    }

    fn end_round(&mut self) {
        let pb = *self.round().public();
        let scores = pb.scores().expect("the round is over");
        self.round_values.push(std::array::from_fn(|s| {
            if s < pb.players() {
                score_value(scores[s], pb.cards())
            } else {
                0.0
            }
        }));
        let p = pb.players();
        self.round_tricks.push(tricks_won(&pb));
        self.summaries.push(RoundSummary {
            players: p,
            cards: pb.cards(),
            bids: (0..p).map(|s| pb.bid(s).unwrap_or(0)).collect(),
            tricks: (0..p).map(|s| pb.tricks_won(s)).collect(),
            scores: scores[..p].to_vec(),
        });
        self.stats.rounds += 1;
        self.made = [0; MAX_PLAYERS];
        if let Table::Game(g) = &mut self.table
            && !g.is_over()
        {
            g.deal_next(&mut self.rng)
                .expect("the round is over and the game is not");
        }
    }

    fn is_finished(&self) -> bool {
        match &self.table {
            Table::Round(r) => r.is_over(),
            Table::Game(g) => g.is_over(),
        }
    }

    /// Value targets: round values in rounds mode; in games mode, each round's values blended
    /// with the final standing (mcts::value explains why).
    fn finish(mut self) -> (Finished, SelfPlayStats) {
        let players = self.round().public().players();
        let totals = match &self.table {
            Table::Round(_) => None,
            Table::Game(g) => Some(g.totals().to_vec()),
        };
        let standing = totals.as_ref().map(|t| {
            let mut totals = [0u16; MAX_PLAYERS];
            totals[..players].copy_from_slice(t);
            standing_values(&totals, players)
        });
        if standing.is_some() {
            self.stats.games += 1;
        }
        let examples: Vec<Example> = self
            .decisions
            .iter()
            .map(|d| {
                let round = &self.round_values[d.round];
                let abs = standing.as_ref().map_or(*round, |st| blend(round, st));
                let final_tricks = &self.round_tricks[d.round];
                let tricks = std::array::from_fn(|k| {
                    if k < players {
                        let seat = (d.mover + k) % players;
                        final_tricks[seat] - d.won[seat]
                    } else {
                        NO_TRICKS
                    }
                });
                Example::new(
                    &d.encoding,
                    d.legal,
                    d.policy,
                    to_relative(&abs, d.mover, players),
                )
                .with_tricks(tricks)
                .with_owners(d.owners)
            })
            .collect();
        self.stats.examples += examples.len() as u64;
        let origins = self.decisions.iter().map(|d| (d.mover, d.round)).collect();
        (
            Finished {
                index: self.index,
                examples,
                origins,
                rounds: self.summaries,
                totals,
            },
            self.stats,
        )
    }

    /// Adds a value-only example from another seat's own observation at this point. The
    /// search asks the network for the searcher's value at positions where someone else is to
    /// move; without these examples the network would never have seen such an observation.
    fn push_bystander(&mut self, mover: usize) {
        let round = *self.round();
        let p = round.public().players();
        let seat = (mover + 1 + self.rng.random_range(0..p - 1)) % p;
        let obs = Observation::of_round(&round, seat, self.context());
        self.decisions.push(Decision {
            encoding: encode(&obs),
            legal: 0,
            policy: [0.0; NUM_ACTIONS],
            mover: seat,
            round: self.round_index(),
            won: tricks_won(round.public()),
            owners: owners_of(&round, seat),
        });
    }

    /// Plays until the slot needs evaluations (appended to `batch`; returns how many) or its
    /// round/game is over (returns 0).
    fn advance(&mut self, cfg: &SelfPlayConfig, batch: &mut Vec<mcts::EvalRequest>) -> usize {
        loop {
            if let Some(search) = &mut self.search {
                match search.step(&self.answers) {
                    Step::NeedEval(reqs) => {
                        batch.extend_from_slice(reqs);
                        return reqs.len();
                    }
                    Step::Done(res) => {
                        let obs = *search.observation();
                        self.search = None;
                        self.answers.clear();
                        let mover = obs.seat();
                        let t = cfg.temperature.at(self.made[mover]);
                        let action = res.sample_action(t, &mut self.rng);
                        self.made[mover] += 1;
                        self.stats.searched += 1;
                        self.stats.simulations += res.simulations as u64;
                        self.stats.evaluations += res.evaluations as u64;
                        self.stats.depth_sum += res.depth_sum;
                        // A fast search's example teaches only the value (no legal mask, no
                        // policy target), like a bystander's.
                        let (legal, policy) = if self.full_search {
                            (
                                obs.legal_actions().bits(),
                                cfg.policy_target.of(&res, mover),
                            )
                        } else {
                            self.stats.fast += 1;
                            (0, [0.0; NUM_ACTIONS])
                        };
                        self.decisions.push(Decision {
                            encoding: encode(&obs),
                            legal,
                            policy,
                            mover,
                            round: self.round_index(),
                            won: tricks_won(&obs.public),
                            owners: owners_of(self.round(), mover),
                        });
                        self.push_bystander(mover);
                        self.apply(action);
                    }
                }
                continue;
            }
            if self.is_finished() {
                return 0;
            }
            let round = *self.round();
            let mover = round.to_act();
            let legal = round.legal_actions();
            let last_card = round.phase() == game::Phase::Playing && round.hand(mover).len() == 1;
            if legal.len() == 1 && (!cfg.search_forced || last_card) {
                // One legal action: played without search, and no example.
                self.stats.forced += 1;
                self.apply(legal.nth(0).expect("one legal action"));
                continue;
            }
            let obs = Observation::of_round(&round, mover, self.context());
            let seed = self.rng.random::<u64>();
            self.full_search =
                cfg.full_search_share >= 1.0 || self.rng.random::<f32>() < cfg.full_search_share;
            let params = if self.full_search {
                &cfg.search
            } else {
                &cfg.fast_search
            };
            self.search = Some(Search::new(&obs, params, seed).expect("the mover is to act"));
        }
    }
}

/// Plays units `0..count` of `iteration` on `threads` threads. `make_evaluator` builds one
/// evaluator per thread. Returns the finished units ordered by index and the summed
/// counters. `progress` is bumped by one per finished unit; setting `stop` makes every thread
/// return soon, with the units finished so far.
///
/// A failed evaluator (the inference server died) or a panicking thread is an error, never a
/// hang and never examples made from neutral answers: the other threads are stopped and the
/// first failure is returned.
pub fn run<E, F>(
    cfg: &SelfPlayConfig,
    iteration: u64,
    count: u64,
    threads: usize,
    make_evaluator: F,
    progress: &AtomicU64,
    stop: &AtomicBool,
) -> anyhow::Result<(Vec<Finished>, SelfPlayStats)>
where
    E: Evaluator,
    F: Fn(usize) -> E + Sync,
{
    let threads = threads.max(1);
    // Stops the other threads when one fails, without touching the caller's flag.
    let failed = AtomicBool::new(false);
    let outputs: Vec<anyhow::Result<(Vec<Finished>, SelfPlayStats)>> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let make = &make_evaluator;
                    let failed = &failed;
                    scope.spawn(move || {
                        let mine: Vec<u64> = (0..count)
                            .filter(|k| k % threads as u64 == t as u64)
                            .collect();
                        let halt = Halt { stop, failed };
                        // A panic becomes this thread's error at once, so the others stop
                        // now rather than when they are joined.
                        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
                            worker(cfg, iteration, &mine, make(t), progress, &halt)
                        }))
                        .unwrap_or_else(|panic| Err(panicked(panic)));
                        if result.is_err() {
                            failed.store(true, Ordering::SeqCst);
                        }
                        result
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|panic| Err(panicked(panic))))
                .collect()
        });
    let mut finished = Vec::with_capacity(count as usize);
    let mut stats = SelfPlayStats::default();
    for output in outputs {
        let (f, s) = output?;
        finished.extend(f);
        stats.add(&s);
    }
    finished.sort_by_key(|f| f.index);
    Ok((finished, stats))
}

/// A self-play thread's panic as its error.
fn panicked(panic: Box<dyn std::any::Any + Send>) -> anyhow::Error {
    let text = model::panic_text(&*panic).unwrap_or_else(|| "(no message)".into());
    anyhow::anyhow!("a self-play thread panicked: {text}")
}

/// What ends a self-play thread early: the caller's stop request, or another thread's failure.
struct Halt<'a> {
    stop: &'a AtomicBool,
    failed: &'a AtomicBool,
}

impl Halt<'_> {
    fn now(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.failed.load(Ordering::Relaxed)
    }
}

/// One thread: keeps up to `in_flight` units going and batches their requests.
fn worker<E: Evaluator>(
    cfg: &SelfPlayConfig,
    iteration: u64,
    units: &[u64],
    mut evaluator: E,
    progress: &AtomicU64,
    halt: &Halt,
) -> anyhow::Result<(Vec<Finished>, SelfPlayStats)> {
    let mut todo = units.iter().copied();
    let mut slots: Vec<Slot> = todo
        .by_ref()
        .take(cfg.in_flight.max(1))
        .map(|k| Slot::new(cfg, iteration, k))
        .collect();
    let mut finished = Vec::new();
    let mut stats = SelfPlayStats::default();
    let mut batch = Vec::new();
    let mut counts = Vec::new();
    let mut answers = Vec::new();
    while !slots.is_empty() && !halt.now() {
        batch.clear();
        counts.clear();
        let mut i = 0;
        while i < slots.len() {
            let n = slots[i].advance(cfg, &mut batch);
            if n == 0 {
                // Finished: replace it with the next unit, which starts right away.
                let done = match todo.next() {
                    Some(k) => std::mem::replace(&mut slots[i], Slot::new(cfg, iteration, k)),
                    None => slots.swap_remove(i),
                };
                let (f, s) = done.finish();
                finished.push(f);
                stats.add(&s);
                progress.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            counts.push((i, n));
            i += 1;
        }
        if batch.is_empty() {
            continue;
        }
        evaluator.evaluate(&batch, &mut answers);
        if let Some(why) = evaluator.failure() {
            anyhow::bail!("self-play cannot go on: {why}");
        }
        stats.batches += 1;
        let mut at = 0;
        for &(i, n) in &counts {
            slots[i].answers.clear();
            slots[i].answers.extend_from_slice(&answers[at..at + n]);
            at += n;
        }
    }
    Ok((finished, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_player_count_is_drawn_as_often_as_it_is_listed() {
        let deal = DealConfig {
            players: vec![4, 4, 5],
            cards_min: 1,
            cards_max: 12,
            ..DealConfig::default()
        };
        let mut rng = game::rng_from_seed(7);
        let draws = 3000;
        let mut fours = 0;
        for _ in 0..draws {
            let round = deal.draw_round(&mut rng);
            let players = round.players();
            assert!(players == 4 || players == 5, "drew {players} players");
            let cards = round.cards();
            // 12 cards fit 4 hands; with 5 players the hand is capped at 52 / 5 = 10.
            assert!(
                (1..=12.min(52 / players)).contains(&cards),
                "{cards} cards for {players}"
            );
            fours += usize::from(players == 4);
        }
        // Two entries of three: 2/3 of the draws (sd 0.009 over 3,000 draws).
        let share = fours as f64 / draws as f64;
        assert!(
            (0.62..0.71).contains(&share),
            "4 players drawn {share:.3} of the time"
        );
    }
}

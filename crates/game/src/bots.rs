//! Simple players: a uniform random bot and a rule-of-thumb heuristic bot.
//!
//! A bot decides from an [`Observation`] only (its own hand plus public information), so it
//! cannot peek at hidden cards. They serve as opponents for evaluation, as baselines and in
//! tests and benchmarks.

use crate::action::Action;
use crate::card::{Card, Suit};
use crate::cardset::CardSet;
use crate::observation::Observation;
use crate::round::{Phase, Round};
use crate::setup::MAX_PLAYERS;
use crate::{GameRng, rng_from_seed};
use rand::RngExt;

/// A player: the bots here, the network-free searches of `mcts`, the network agents of
/// `train`. It decides from an [`Observation`] only, so it cannot see hidden cards.
pub trait Player {
    /// Chooses one of `obs.legal_actions()`, as an action index (bid k = k, a card = its
    /// index; [`action_of`] turns it into an [`Action`]). Only called when `obs.seat()` is the
    /// seat to act.
    fn act(&mut self, obs: &Observation) -> usize;

    /// A short name for messages and tables, such as its arena spec.
    fn name(&self) -> &str;

    /// What a searching player made of its last decision (its search's policy and values),
    /// for engines and logs; `None` for players that do not search.
    fn analysis(&self) -> Option<Analysis> {
        None
    }

    /// Told when a round begins at a table of `players` seats with `cards` cards each, before
    /// its first decision, so that a player can say what it has to say (a network seated
    /// outside its training range warns) before the round's display starts. Nothing by
    /// default; `act` must not depend on it being called.
    fn seated(&mut self, _players: usize, _cards: usize) {}

    /// Why the last `act` gave no real choice (an external program that died or answered
    /// with an error), if so: the caller must not use that action.
    fn failure(&self) -> Option<String> {
        None
    }
}

/// A searching player's view of its last decision.
#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    /// Each searched action index with its share of the search (root visits), summing to 1.
    pub policy: Vec<(usize, f32)>,
    /// Each seat's value of the position, by absolute seat, on the search's value scale
    /// (-1: no points; +1: the most the round allows).
    pub values: Vec<f32>,
    pub simulations: u64,
}

/// The action with index `index` in the phase of `obs` (bid k or card k).
pub fn action_of(obs: &Observation, index: usize) -> Action {
    match obs.public.phase() {
        Phase::Bidding => Action::Bid(index as u8),
        _ => Action::Play(Card::from_index_unchecked(index as u8)),
    }
}

/// Picks uniformly among the legal actions.
#[derive(Clone, Debug)]
pub struct RandomBot {
    rng: GameRng,
}

impl RandomBot {
    pub fn new(seed: u64) -> RandomBot {
        RandomBot::from_rng(rng_from_seed(seed))
    }

    pub fn from_rng(rng: GameRng) -> RandomBot {
        RandomBot { rng }
    }
}

impl Player for RandomBot {
    fn act(&mut self, obs: &Observation) -> usize {
        let legal = obs.legal_actions();
        assert!(!legal.is_empty(), "RandomBot asked to act out of turn");
        let k = self.rng.random_range(0..legal.len());
        legal.nth(k).expect("k < number of legal actions")
    }

    fn name(&self) -> &str {
        "random"
    }
}

/// Bids an estimate of the tricks its hand will take, then plays to win tricks while it still
/// needs them and to lose them once it has enough. Fully deterministic: ties go to the lowest
/// card index, so it needs no random numbers.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeuristicBot;

impl HeuristicBot {
    pub fn new() -> HeuristicBot {
        HeuristicBot
    }

    /// Expected tricks of the hand, from the chance that each card is not beaten.
    ///
    /// A card can lose to a higher card of its suit held by an opponent: with `q` the chance
    /// that a given unseen card was dealt to some opponent, a card with `h` higher unseen cards
    /// survives with chance about `(1 - q/2)^h` (a higher card beats it only if both fall in
    /// the same trick, about half the time). Side-suit cards must also see their suit led (few
    /// tricks, few leads) and escape being trumped (more players, more voids); lower cards of
    /// a side suit need the suit led again, so each counts for less. The constants come from a
    /// coarse grid search (bids made in self-play, score against random bots) over a few set-ups
    /// from 4 players x 1 card to 3 players x 15 cards.
    pub fn estimate_tricks(obs: &Observation) -> f32 {
        let pb = &obs.public;
        let p = pb.players();
        let c = pb.cards();
        let trump = pb.trump();
        let q = ((p - 1) * c) as f32 / (52 - c) as f32;
        let first_leader = (pb.dealer() + 1) % p == obs.seat();
        // Chance that a given side suit is led at least once in C tricks.
        let led_chance = 1.0 - 0.75f32.powi(c as i32);
        // Chance that no opponent is void in a side suit (each is, about 0.75^C of the time).
        let no_void = (1.0 - 0.75f32.powi(c as i32)).powi(p as i32 - 1);
        let ruff_escape = if trump.is_some() { no_void } else { 1.0 };
        let mut est = 0.0;
        let mut best_side_used = false;
        for suit in Suit::ALL {
            let mine = obs.hand.of_suit(suit);
            let is_trump = Some(suit) == trump;
            // From the top of the suit down.
            for (depth, card) in top_down(mine).enumerate() {
                let higher = CardSet::suit(suit).difference(below_or_equal(card));
                let higher_unseen = higher.difference(mine).len() as i32;
                let mut win = (1.0 - 0.5 * q).powi(higher_unseen);
                if !is_trump {
                    // The first leader can lead one side suit at once (for simplicity, the
                    // first one it holds).
                    let lead = if depth == 0 && first_leader && !best_side_used {
                        1.0
                    } else {
                        led_chance
                    };
                    win *= lead * ruff_escape * 0.7f32.powi(depth as i32);
                }
                est += win;
            }
            if !is_trump && !mine.is_empty() && first_leader {
                best_side_used = true;
            }
            if is_trump {
                // Trumps beyond a fair share (C/4) win late tricks once others run out.
                let extra = mine.len() as f32 - c as f32 / 4.0 - 1.0;
                est += extra.max(0.0);
            }
        }
        est.min(c as f32)
    }

    fn bid(&self, obs: &Observation) -> Action {
        let est = HeuristicBot::estimate_tricks(obs);
        // The legal bid nearest the estimate; on a tie the lower one. As dealer this steps
        // around the forbidden bid.
        let legal = obs.legal_actions();
        let best = legal
            .iter()
            .min_by(|&a, &b| {
                let da = (a as f32 - est).abs();
                let db = (b as f32 - est).abs();
                da.total_cmp(&db)
            })
            .expect("a bidder always has a legal bid");
        Action::Bid(best as u8)
    }

    fn play(&self, obs: &Observation) -> Card {
        let pb = &obs.public;
        let trump = pb.trump();
        let seat = obs.seat();
        let legal = CardSet::from_bits(obs.legal_actions().bits());
        let bid = pb.bid(seat).expect("every seat has bid before play");
        let wants = pb.tricks_won(seat) < bid;
        let (_, trick) = pb.current_trick();

        let Some((pos, _)) = pb.trick_winner_so_far() else {
            return if wants {
                lead_high(obs, legal)
            } else {
                // Lead low, and not a trump (a low trump can still win).
                pick_min(legal, |c| (Some(c.suit()) == trump, c.rank()))
            };
        };

        let led = trick[0].suit();
        let key = |c: Card| trick_key(c, led, trump);
        let to_beat = key(trick[pos]);
        let winners = legal
            .iter()
            .filter(|&c| key(c) > to_beat)
            .collect::<CardSet>();
        let losers = legal.difference(winners);
        let last = trick.len() + 1 == pb.players();
        let danger = |c: Card| danger(c, trump);
        if wants {
            if !winners.is_empty() {
                // Cheapest card that takes the trick as it stands.
                pick_min(winners, key)
            } else {
                // Cannot win: throw the least useful card, keeping high ones for later.
                pick_min(legal, danger)
            }
        } else if !losers.is_empty() {
            // Duck with the highest card that still loses: sheds danger at no cost.
            pick_max(losers, danger)
        } else if last {
            // The trick is ours whatever we play: spend the most dangerous card on it.
            pick_max(legal, danger)
        } else {
            // Every card wins for now: play the lowest and hope a later seat overtakes it.
            pick_min(legal, key)
        }
    }
}

impl HeuristicBot {
    /// The bot's choice as an [`Action`].
    pub fn choose(&self, obs: &Observation) -> Action {
        assert!(
            obs.public.to_act() == obs.seat() && !obs.public.is_over(),
            "HeuristicBot asked to act out of turn"
        );
        match obs.public.phase() {
            Phase::Bidding => self.bid(obs),
            _ => Action::Play(self.play(obs)),
        }
    }
}

impl Player for HeuristicBot {
    fn act(&mut self, obs: &Observation) -> usize {
        self.choose(obs).index()
    }

    fn name(&self) -> &str {
        "heuristic"
    }
}

/// The cards of `set` from highest to lowest index.
fn top_down(set: CardSet) -> impl Iterator<Item = Card> {
    let mut bits = set.bits();
    std::iter::from_fn(move || {
        if bits == 0 {
            return None;
        }
        let i = 63 - bits.leading_zeros();
        bits &= !(1 << i);
        Some(Card::from_index_unchecked(i as u8))
    })
}

/// Every card with index up to and including `card`'s.
fn below_or_equal(card: Card) -> CardSet {
    CardSet::from_bits((2u64 << card.index()) - 1)
}

/// Strength of a card in a trick led in `led` (as in the trick-winner rule): trumps above the
/// led suit, other suits worthless.
fn trick_key(c: Card, led: Suit, trump: Option<Suit>) -> u8 {
    if Some(c.suit()) == trump {
        32 + c.rank()
    } else if c.suit() == led {
        16 + c.rank()
    } else {
        0
    }
}

/// How likely a card is to win a trick we do not want: trumps most, then by rank.
fn danger(c: Card, trump: Option<Suit>) -> u8 {
    c.rank() + if Some(c.suit()) == trump { 13 } else { 0 }
}

/// The card with the least key (ties: lowest index). `set` must not be empty.
fn pick_min<K: Ord>(set: CardSet, key: impl Fn(Card) -> K) -> Card {
    set.iter().min_by_key(|&c| key(c)).expect("a non-empty set")
}

/// The card with the greatest key (ties: lowest index). `set` must not be empty.
fn pick_max<K: Ord>(set: CardSet, key: impl Fn(Card) -> K) -> Card {
    // `max_by_key` keeps the last maximum; compare reversed to keep the first.
    set.iter()
        .min_by(|&a, &b| key(b).cmp(&key(a)))
        .expect("a non-empty set")
}

/// A lead when tricks are needed: a card no unseen card of its suit can beat (side suits
/// first, as they may be trumped later), else the highest card.
fn lead_high(obs: &Observation, legal: CardSet) -> Card {
    let trump = obs.public.trump();
    let unseen = obs.unseen();
    let masters = legal
        .iter()
        .filter(|&c| {
            let higher = CardSet::suit(c.suit()).difference(below_or_equal(c));
            higher.intersection(unseen).is_empty()
        })
        .collect::<CardSet>();
    if !masters.is_empty() {
        return pick_min(masters, |c| Some(c.suit()) == trump);
    }
    pick_max(legal, |c| (c.rank(), Some(c.suit()) == trump))
}

/// Plays `round` to the end with `bots[seat]` acting for each seat, and returns the scores.
///
/// Panics if `bots` does not have one player per seat or one returns an illegal action.
pub fn play_round(round: &mut Round, bots: &mut [&mut dyn Player]) -> [u8; MAX_PLAYERS] {
    assert_eq!(
        bots.len(),
        round.public().players(),
        "play_round needs one bot per seat"
    );
    while !round.is_over() {
        let seat = round.to_act();
        let obs = round.observation(seat);
        let action = action_of(&obs, bots[seat].act(&obs));
        if let Err(e) = round.apply(action) {
            panic!("bot of seat {seat} chose an illegal action ({action}): {e}");
        }
    }
    round.scores().expect("the round is over")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::setup::{RoundConfig, TRUMP_ROTATION};

    fn cards(text: &str) -> Vec<Card> {
        text.split_whitespace()
            .map(|s| s.parse().unwrap())
            .collect()
    }

    /// A 4-player round with spades trump, seat 3 dealing (so seat 0 bids and leads first).
    fn round4(hands: [&str; 4]) -> Round {
        let cfg = RoundConfig::new(4, 3, Some(Suit::Spades), 3).unwrap();
        let hands: Vec<Vec<Card>> = hands.iter().map(|h| cards(h)).collect();
        Round::with_hands(cfg, &hands).unwrap()
    }

    fn apply_all(r: &mut Round, actions: &[Action]) {
        for &a in actions {
            r.apply(a).unwrap();
        }
    }

    fn play(s: &str) -> Action {
        Action::Play(s.parse().unwrap())
    }

    fn heuristic(r: &Round) -> Action {
        HeuristicBot.choose(&r.observation(r.to_act()))
    }

    /// Whether `a` is one of the legal actions and of the phase's kind (a bid index and a card
    /// index can coincide).
    fn is_legal(obs: &Observation, a: Action) -> bool {
        let kind_ok = matches!(
            (obs.public.phase(), a),
            (Phase::Bidding, Action::Bid(_)) | (Phase::Playing, Action::Play(_))
        );
        kind_ok && obs.legal_actions().contains(a.index())
    }

    #[test]
    fn bots_only_choose_legal_actions() {
        let mut rng = rng_from_seed(7);
        let mut random = RandomBot::new(11);
        let mut heuristic = HeuristicBot;
        let mut decisions = 0;
        for p in 3..=8u64 {
            for c in 1..=52 / p {
                for rep in 0..4u64 {
                    let trump = TRUMP_ROTATION[((c + rep) % 5) as usize];
                    let cfg = RoundConfig::new(p, c, trump, (c + rep) % p).unwrap();
                    let mut r = Round::deal(cfg, &mut rng);
                    while !r.is_over() {
                        let seat = r.to_act();
                        let obs = r.observation(seat);
                        // Alternate who acts, so each bot meets positions the other made.
                        let a = action_of(
                            &obs,
                            if (seat + rep as usize).is_multiple_of(2) {
                                heuristic.act(&obs)
                            } else {
                                random.act(&obs)
                            },
                        );
                        assert!(is_legal(&obs, a), "{a} is illegal in {obs:?}");
                        r.apply(a).unwrap();
                        decisions += 1;
                    }
                }
            }
        }
        assert!(decisions > 5_000);
    }

    #[test]
    fn random_bot_is_reproducible_and_covers_legal_actions() {
        let cfg = RoundConfig::new(5, 8, None, 0).unwrap();
        let r = Round::deal(cfg, &mut rng_from_seed(3));
        let obs = r.observation(r.to_act());
        let picks = |seed| {
            let mut bot = RandomBot::new(seed);
            (0..200).map(|_| bot.act(&obs)).collect::<Vec<_>>()
        };
        assert_eq!(picks(5), picks(5));
        let seen: std::collections::HashSet<usize> = picks(5).into_iter().collect();
        // All 9 bids 0..=8 show up in 200 uniform draws (each is missed with chance < 1e-9).
        assert_eq!(seen.len(), 9);
    }

    #[test]
    fn heuristic_bids_high_cards_and_trumps() {
        let strong = round4(["AS KS QS", "2S 3H 4C", "5S 6H 7C", "8S 9H TC"]);
        assert_eq!(heuristic(&strong), Action::Bid(3));
        let weak = round4(["2H 3C 4D", "AS KS AH", "5S 6H 7C", "8S 9H TC"]);
        assert_eq!(heuristic(&weak), Action::Bid(0));
    }

    #[test]
    fn heuristic_dealer_steps_around_the_forbidden_bid() {
        // Seat 3 deals with nothing worth a trick, so it wants 0; the others bid 3 in total,
        // which forbids 0, and the nearest legal bid is 1.
        let mut r = round4(["AS KS AH", "2S 3H 4C", "5S 6H 7C", "2H 3C 4D"]);
        apply_all(&mut r, &[Action::Bid(3), Action::Bid(0), Action::Bid(0)]);
        assert_eq!(r.public().forbidden_dealer_bid(), Some(0));
        assert_eq!(heuristic(&r), Action::Bid(1));
    }

    #[test]
    fn heuristic_wins_cheaply_when_it_needs_tricks() {
        let mut r = round4(["9H 2C 3C", "QH AH 4D", "KH 2H 5D", "TH 3H 6D"]);
        apply_all(&mut r, &[Action::Bid(1), Action::Bid(1), Action::Bid(0)]);
        apply_all(&mut r, &[Action::Bid(0), play("9H")]);
        // Seat 1 needs a trick: QH is the cheapest card that beats 9H.
        assert_eq!(heuristic(&r), play("QH"));
    }

    #[test]
    fn heuristic_ducks_when_it_has_enough() {
        let mut r = round4(["9H 2C 3C", "QH AH 4D", "KH 2H 5D", "TH 3H 6D"]);
        apply_all(&mut r, &[Action::Bid(1), Action::Bid(1), Action::Bid(0)]);
        apply_all(&mut r, &[Action::Bid(0), play("9H"), play("AH")]);
        // Seat 2 bid 0: KH would lose to AH, so it sheds KH rather than 2H.
        assert_eq!(heuristic(&r), play("KH"));
    }

    #[test]
    fn heuristic_discards_its_most_dangerous_card_when_void() {
        let mut r = round4(["9H 2C 3C", "QH AH 4D", "KS 2S AD", "TH 3H 6D"]);
        apply_all(&mut r, &[Action::Bid(1), Action::Bid(1), Action::Bid(0)]);
        apply_all(&mut r, &[Action::Bid(0), play("9H"), play("AH")]);
        // Seat 2 has no hearts and bid 0: a trump would win, so it throws the ace of diamonds.
        assert_eq!(heuristic(&r), play("AD"));
    }

    #[test]
    fn heuristic_leads_high_when_needing_tricks_and_low_otherwise() {
        let mut r = round4(["AH 2C 3S", "QH KH 4D", "JH 2H 5D", "TH 3H 6D"]);
        apply_all(&mut r, &[Action::Bid(1), Action::Bid(0)]);
        apply_all(&mut r, &[Action::Bid(0), Action::Bid(0)]);
        assert_eq!(heuristic(&r), play("AH"));
        let mut r = round4(["AH 2C 3S", "QH KH 4D", "JH 2H 5D", "TH 3H 6D"]);
        apply_all(&mut r, &[Action::Bid(0), Action::Bid(0)]);
        apply_all(&mut r, &[Action::Bid(0), Action::Bid(1)]);
        // Lowest non-trump: 2C, not the 3 of trumps.
        assert_eq!(heuristic(&r), play("2C"));
    }

    #[test]
    fn heuristic_is_deterministic() {
        let cfg = RoundConfig::new(4, 5, Some(Suit::Hearts), 1).unwrap();
        for seed in 0..20 {
            let deal = Round::deal(cfg, &mut rng_from_seed(seed));
            let (mut a, mut b) = (deal, deal);
            let mut bots = [HeuristicBot; 4];
            let mut refs: Vec<&mut dyn Player> =
                bots.iter_mut().map(|b| b as &mut dyn Player).collect();
            let sa = play_round(&mut a, &mut refs);
            let sb = play_round(&mut b, &mut refs);
            assert_eq!(sa, sb);
            assert_eq!(a, b);
        }
    }

    /// Mean and half-width of the 95% confidence interval of `xs`.
    fn mean_ci95(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
        (mean, 1.96 * (var / n).sqrt())
    }

    #[test]
    fn heuristic_beats_random() {
        const ROUNDS: usize = 2_000;
        let mut rng = rng_from_seed(2024);
        let mut randoms: Vec<RandomBot> = (0..4).map(|s| RandomBot::new(100 + s)).collect();
        // Per round: heuristic's score minus the mean score of the three random seats
        // (paired, so deal luck cancels).
        let mut diffs = Vec::with_capacity(ROUNDS);
        let (mut h_made, mut r_made) = (0usize, 0usize);
        for i in 0..ROUNDS {
            let h_seat = i % 4;
            let cfg = RoundConfig::new(4, 5, TRUMP_ROTATION[i % 5], ((i / 4) % 4) as u64).unwrap();
            let mut r = Round::deal(cfg, &mut rng);
            let mut heuristic = HeuristicBot;
            let mut bots: Vec<&mut dyn Player> =
                randoms.iter_mut().map(|b| b as &mut dyn Player).collect();
            bots[h_seat] = &mut heuristic;
            let scores = play_round(&mut r, &mut bots);
            let h = scores[h_seat] as f64;
            let others: Vec<f64> = (0..4)
                .filter(|&s| s != h_seat)
                .map(|s| scores[s] as f64)
                .collect();
            diffs.push(h - others.iter().sum::<f64>() / 3.0);
            h_made += (scores[h_seat] > 0) as usize;
            r_made += others.iter().filter(|&&s| s > 0.0).count();
        }
        let (mean, half) = mean_ci95(&diffs);
        assert!(
            mean - half > 0.0,
            "heuristic - random = {mean:.2} +- {half:.2} points per round"
        );
        let h_rate = h_made as f64 / ROUNDS as f64;
        let r_rate = r_made as f64 / (3 * ROUNDS) as f64;
        // Two proportions over thousands of rounds: a 10-point gap is far outside the noise.
        assert!(
            h_rate > r_rate + 0.10,
            "bids made: heuristic {h_rate:.3}, random {r_rate:.3}"
        );
    }
}

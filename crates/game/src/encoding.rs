//! The network's input: an observation as 256 floats, and the 52-wide legal mask.
//!
//! Layout and bounds are documented in `docs/encoding.md`; the offsets below are the single
//! source of truth. Seats are relative to the observer (slot 0 = the observer, slot k = k
//! seats to its left). Every feature is divided by a bound that stays fixed for the whole
//! round (17, 8, or the hand size C, never the cards left), so every value lies in [-1, 1].

use crate::action::{ActionSet, NUM_ACTIONS};
use crate::observation::Observation;
use crate::round::Phase;
use crate::setup::{MAX_CARDS, MAX_PLAYERS};

pub const ENCODING_LEN: usize = 256;

/// Start of each block of the encoding (see docs/encoding.md).
pub mod offset {
    pub const HAND: usize = 0; // 52: own hand
    pub const PLAYED: usize = 52; // 52: cards of completed tricks
    pub const TRICK: usize = 104; // 52: cards of the current trick
    pub const LED_SUIT: usize = 156; // 4: suit led in the current trick
    pub const VOIDS: usize = 160; // 7 x 4: suits relative seats 1..=7 have shown void in
    pub const OWN_NEED: usize = 188; // 4: own bid - tricks won, one-hot: < 0, 0, 1, >= 2
    pub const BIDS: usize = 192; // 8: bid / C, 0 before bidding
    pub const HAS_BID: usize = 200; // 8: 1 once the seat has bid
    pub const NEEDED: usize = 208; // 8: (bid - tricks won) / C, 0 before bidding
    pub const TRUMP: usize = 216; // 5: S H C D none
    pub const PLAYERS: usize = 221; // 1: P / 8
    pub const CARDS: usize = 222; // 1: C / 17
    pub const TO_ACT: usize = 223; // 8: relative seat to act, one-hot (0 = the observer)
    pub const DEALER: usize = 231; // 8: dealer's relative seat, one-hot
    pub const TRICK_WINNER: usize = 239; // 8: relative seat winning the current trick so far
    pub const ROUND_INDEX: usize = 247; // 1: round index / 34
    pub const ROUNDS_LEFT: usize = 248; // 1: rounds after this one / 34
    pub const SCORE_DIFF: usize = 249; // 7: (total of relative seat k - own total) / 200, k = 1..7
    pub const END: usize = 256;
}

/// Bound on a game's round index: the longest schedule (P = 3, S = 17) has 35 rounds.
pub const MAX_ROUND_INDEX: f32 = 34.0;
/// Score differences are divided by this and saturate beyond it: a 200-point lead is about
/// ten rounds' worth, by which point the game is decided.
pub const SCORE_DIFF_BOUND: f32 = 200.0;

/// Encodes what the observer knows as 256 floats in [-1, 1].
pub fn encode(obs: &Observation) -> [f32; ENCODING_LEN] {
    let mut x = [0.0f32; ENCODING_LEN];
    encode_into(obs, &mut x);
    x
}

/// Like [`encode`], writing into `x` (every element is written).
pub fn encode_into(obs: &Observation, x: &mut [f32; ENCODING_LEN]) {
    use offset::*;
    x.fill(0.0);
    let pb = &obs.public;
    let p = pb.players();
    let me = obs.seat();
    let rel = |seat: usize| (seat + p - me) % p;
    let card_bound = MAX_CARDS as f32;

    for c in obs.hand {
        x[HAND + c.index()] = 1.0;
    }
    let (_, trick) = pb.current_trick();
    let completed = pb.plays().len() - trick.len();
    for c in &pb.plays()[..completed] {
        x[PLAYED + c.index()] = 1.0;
    }
    for c in trick {
        x[TRICK + c.index()] = 1.0;
    }
    if let Some(led) = pb.led_suit() {
        x[LED_SUIT + led.index()] = 1.0;
    }
    // Bids and tricks are divided by the hand size, so one trick is a step of 1/C (the
    // network must tell "needs one more" from "needs none" at a glance, not from 1/17).
    let c = pb.cards() as f32;
    for seat in 0..p {
        let r = rel(seat);
        // The observer's own voids are plain from its hand: only the others' are encoded.
        if r > 0 {
            let voids = pb.voids(seat);
            for s in 0..4 {
                if voids >> s & 1 == 1 {
                    x[VOIDS + 4 * (r - 1) + s] = 1.0;
                }
            }
        }
        if let Some(bid) = pb.bid(seat) {
            let need = bid as i32 - pb.tricks_won(seat) as i32;
            x[BIDS + r] = bid as f32 / c;
            x[HAS_BID + r] = 1.0;
            x[NEEDED + r] = need as f32 / c;
            if r == 0 {
                // What to do with this trick turns on these cases: already over the bid,
                // must lose every trick left, needs exactly one, needs several.
                x[OWN_NEED + (need.clamp(-1, 2) + 1) as usize] = 1.0;
            }
        }
    }
    let trump_slot = pb.trump().map_or(4, |s| s.index());
    x[TRUMP + trump_slot] = 1.0;
    x[PLAYERS] = p as f32 / MAX_PLAYERS as f32;
    x[CARDS] = pb.cards() as f32 / card_bound;
    // Whose turn it is: always the observer for a mover, but the search also asks a seat
    // for its value while another one acts, and then it matters whether the seat has still
    // to play to this trick.
    if pb.phase() != Phase::Over {
        x[TO_ACT + rel(pb.to_act())] = 1.0;
    }
    x[DEALER + rel(pb.dealer())] = 1.0;
    if let Some((_, seat)) = pb.trick_winner_so_far() {
        x[TRICK_WINNER + rel(seat)] = 1.0;
    }
    if let Some(g) = &obs.game {
        x[ROUND_INDEX] = g.round_index as f32 / MAX_ROUND_INDEX;
        let left = g.num_rounds.saturating_sub(g.round_index + 1);
        x[ROUNDS_LEFT] = left as f32 / MAX_ROUND_INDEX;
        let mine = g.totals[me] as f32;
        for seat in (0..p).filter(|&s| s != me) {
            let diff = (g.totals[seat] as f32 - mine) / SCORE_DIFF_BOUND;
            x[SCORE_DIFF + rel(seat) - 1] = diff.clamp(-1.0, 1.0);
        }
    }
}

/// The player count of an encoded position.
pub fn players_of(x: &[f32]) -> usize {
    (x[offset::PLAYERS] * MAX_PLAYERS as f32).round() as usize
}

/// The hand size C of an encoded position.
pub fn cards_of(x: &[f32]) -> usize {
    (x[offset::CARDS] * MAX_CARDS as f32).round() as usize
}

/// Whether an encoded position is in the play phase: the seat to act has bid.
pub fn is_play_phase(x: &[f32]) -> bool {
    (0..MAX_PLAYERS).any(|k| x[offset::TO_ACT + k] > 0.5 && x[offset::HAS_BID + k] > 0.5)
}

/// Whether an encoded position is a round of a full game: a game has at least three rounds,
/// so a round of one has an index or rounds after it.
pub fn is_in_game(x: &[f32]) -> bool {
    x[offset::ROUND_INDEX] > 0.0 || x[offset::ROUNDS_LEFT] > 0.0
}

/// The legal mask of the observer: 1.0 where the action is legal (only the seat to act has
/// legal actions).
pub fn legal_mask(obs: &Observation) -> [f32; NUM_ACTIONS] {
    mask_of(obs.legal_actions())
}

/// An action set as a 0/1 mask.
pub fn mask_of(actions: ActionSet) -> [f32; NUM_ACTIONS] {
    std::array::from_fn(|i| if actions.contains(i) { 1.0 } else { 0.0 })
}

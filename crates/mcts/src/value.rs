//! The value scale, defined once: terminals, the network's targets and the search all use it.
//!
//! A round score s (0, or 10 + bid) in a round of C cards has value `2 s / (10 + C) - 1`:
//! 0 points is -1, the best score the round allows (10 + C) is +1. Values are per seat.
//!
//! In a full game what counts in the end is the standing, not one round's points, but a
//! round's points are what a seat controls now. The value of a round inside a game blends
//! both: `(1 - w) * round value + w * standing value`, with `w = GAME_STANDING_WEIGHT`. The
//! standing value of a seat is its share of the other seats it is ahead of (a tie counts
//! half), mapped to [-1, 1]. The search, at the end of a round, uses the standing after that
//! round; the training target uses the final standing of the game. Both use the same formula.

use game::{GameContext, MAX_CARDS, MAX_PLAYERS, PublicRound};

/// Classes of a tricks distribution: a seat wins 0..=17 more tricks in a round.
pub const TRICK_CLASSES: usize = MAX_CARDS + 1;

/// Weight of the standing in the value of a round played inside a full game.
pub const GAME_STANDING_WEIGHT: f32 = 0.5;

/// The value of one round score in a round of `cards` cards.
#[inline]
pub fn score_value(score: u8, cards: usize) -> f32 {
    2.0 * score as f32 / (10 + cards) as f32 - 1.0
}

/// The expected value of a seat that bid `bid`, has `won` tricks and wins `future[k]` more
/// with probability `future[k]`, in a round of `cards` cards: it scores `10 + bid` exactly
/// when it wins `bid - won` more, so the value is `P(bid - won) * score_value(10 + bid) +
/// (1 - P(bid - won)) * score_value(0)`. This is exact given the distribution: a tricks head
/// turns into values with no second network output to learn.
pub fn value_from_tricks(future: &[f32], bid: usize, won: usize, cards: usize) -> f32 {
    let p_made = bid
        .checked_sub(won)
        .and_then(|need| future.get(need))
        .copied()
        .unwrap_or(0.0)
        .clamp(0.0, 1.0);
    let made = score_value((10 + bid) as u8, cards);
    let missed = score_value(0, cards);
    p_made * made + (1.0 - p_made) * missed
}

/// Per-seat values (absolute seats) of a finished round; seats beyond the players are 0.
pub fn terminal_values(round: &PublicRound) -> Option<[f32; MAX_PLAYERS]> {
    let scores = round.scores()?;
    let p = round.players();
    Some(std::array::from_fn(|s| {
        if s < p {
            score_value(scores[s], round.cards())
        } else {
            0.0
        }
    }))
}

/// Standing values of seats with these totals: +1 ahead of everyone, -1 behind everyone.
pub fn standing_values(totals: &[u16; MAX_PLAYERS], players: usize) -> [f32; MAX_PLAYERS] {
    std::array::from_fn(|s| {
        if s >= players || players < 2 {
            return 0.0;
        }
        let mut ahead = 0.0;
        for o in (0..players).filter(|&o| o != s) {
            ahead += match totals[s].cmp(&totals[o]) {
                std::cmp::Ordering::Greater => 1.0,
                std::cmp::Ordering::Equal => 0.5,
                std::cmp::Ordering::Less => 0.0,
            };
        }
        2.0 * ahead / (players - 1) as f32 - 1.0
    })
}

/// Blends round values with standing values (see the module notes).
pub fn blend(round: &[f32; MAX_PLAYERS], standing: &[f32; MAX_PLAYERS]) -> [f32; MAX_PLAYERS] {
    let w = GAME_STANDING_WEIGHT;
    std::array::from_fn(|s| (1.0 - w) * round[s] + w * standing[s])
}

/// Per-seat values of a finished round, inside a game if `game` is given (blended with the
/// standing after this round), else the round values alone.
pub fn terminal_values_in(
    round: &PublicRound,
    game: Option<&GameContext>,
) -> Option<[f32; MAX_PLAYERS]> {
    let values = terminal_values(round)?;
    let Some(ctx) = game else { return Some(values) };
    let scores = round.scores()?;
    let totals: [u16; MAX_PLAYERS] = std::array::from_fn(|s| ctx.totals[s] + scores[s] as u16);
    Some(blend(&values, &standing_values(&totals, round.players())))
}

/// Turns values indexed by seat relative to `mover` (index k = k seats left of the mover, as
/// the network outputs them) into values indexed by absolute seat.
#[inline]
pub fn to_absolute(
    relative: &[f32; MAX_PLAYERS],
    mover: usize,
    players: usize,
) -> [f32; MAX_PLAYERS] {
    let mut abs = [0.0; MAX_PLAYERS];
    for (k, &v) in relative.iter().enumerate().take(players) {
        abs[(mover + k) % players] = v;
    }
    abs
}

/// The inverse of [`to_absolute`]: absolute seats to seats relative to `mover`.
#[inline]
pub fn to_relative(
    absolute: &[f32; MAX_PLAYERS],
    mover: usize,
    players: usize,
) -> [f32; MAX_PLAYERS] {
    let mut rel = [0.0; MAX_PLAYERS];
    for (k, r) in rel.iter_mut().enumerate().take(players) {
        *r = absolute[(mover + k) % players];
    }
    rel
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_spans_minus_one_to_one() {
        assert_eq!(score_value(0, 5), -1.0);
        assert_eq!(score_value(15, 5), 1.0);
        assert!((score_value(10, 5) - (2.0 * 10.0 / 15.0 - 1.0)).abs() < 1e-6);
    }

    #[test]
    fn values_from_tricks_weigh_the_exact_bid() {
        let mut future = [0.0f32; TRICK_CLASSES];
        // Bid 2 with 1 won: made exactly when 1 more trick comes, with probability 0.7.
        future[0] = 0.2;
        future[1] = 0.7;
        future[2] = 0.1;
        let v = value_from_tricks(&future, 2, 1, 5);
        let want = 0.7 * score_value(12, 5) + 0.3 * score_value(0, 5);
        assert!((v - want).abs() < 1e-6);
        // Already over the bid: no chance left.
        assert_eq!(value_from_tricks(&future, 1, 2, 5), -1.0);
        // A sure thing is worth the made score.
        future = [0.0; TRICK_CLASSES];
        future[0] = 1.0;
        assert_eq!(value_from_tricks(&future, 0, 0, 5), score_value(10, 5));
    }

    #[test]
    fn standing_ranks_seats() {
        let mut totals = [0u16; MAX_PLAYERS];
        totals[..4].copy_from_slice(&[30, 10, 30, 0]);
        let v = standing_values(&totals, 4);
        assert_eq!(v[0], 2.0 * 2.5 / 3.0 - 1.0);
        assert_eq!(v[0], v[2]);
        assert_eq!(v[3], -1.0);
        assert!(v[1] > v[3] && v[1] < v[0]);
        assert_eq!(v[4], 0.0);
    }

    #[test]
    fn relative_absolute_round_trip() {
        let rel = [0.1, 0.2, 0.3, 0.4, 0.0, 0.0, 0.0, 0.0];
        let abs = to_absolute(&rel, 2, 4);
        assert_eq!(abs[2], 0.1);
        assert_eq!(abs[3], 0.2);
        assert_eq!(abs[0], 0.3);
        assert_eq!(abs[1], 0.4);
        assert_eq!(to_relative(&abs, 2, 4), rel);
    }
}

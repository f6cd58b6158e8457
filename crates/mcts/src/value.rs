//! The value scale, defined once: terminals, the network's targets and the search all use it.
//!
//! A round score s (0, or 10 + bid) in a round of C cards has value `2 s / (10 + C) - 1`:
//! 0 points is -1, the best score the round allows (10 + C) is +1. Values are per seat.

use game::{MAX_PLAYERS, PublicRound};

/// The value of one round score in a round of `cards` cards.
#[inline]
pub fn score_value(score: u8, cards: usize) -> f32 {
    2.0 * score as f32 / (10 + cards) as f32 - 1.0
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

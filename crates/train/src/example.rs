//! One training example, compact: what the mover saw, what the search preferred, and what
//! happened.

use game::{Card, ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS, Round};
use half::f16;

/// A position from self-play. Holds only the mover's own information state (its encoding):
/// never another seat's hidden cards.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// `game::encode` of the mover's observation, in half precision (every value lies in
    /// [-1, 1]; f16 keeps 3 significant digits, plenty for inputs).
    pub encoding: [f16; ENCODING_LEN],
    /// Legal actions (bit k = action k); 0 for a value-only example (a seat's view while
    /// another seat is to act).
    pub legal: u64,
    /// The search's visit distribution over the 52 actions (all 0 for a value-only example).
    pub policy: [f32; NUM_ACTIONS],
    /// Value target per seat, relative to the mover (index 0 = the mover).
    pub value: [f32; MAX_PLAYERS],
    /// Tricks each seat (relative to the mover) won from this position to the end of the
    /// round: the tricks head's target. [`NO_TRICKS`] where unknown.
    pub tricks: [u8; MAX_PLAYERS],
    /// For each card (by index), who held it at this position, relative to the mover: the
    /// owners head's target ([`owners_of`]). [`NO_OWNER`] where the mover knows already.
    pub owners: [u8; Card::COUNT],
}

/// A seat with no tricks target (beyond the player count, or an example made without one).
pub const NO_TRICKS: u8 = u8::MAX;

/// A card with no owners target: the mover's own, one already played, or an example made
/// without the targets.
pub const NO_OWNER: u8 = u8::MAX;

/// The owners class of a card that nobody holds (it was not dealt); class k (1..P) is the
/// seat k places to the mover's left.
pub const UNDEALT: u8 = 0;

/// Bytes of one example in the buffer file.
pub const EXAMPLE_BYTES: usize = EXAMPLE_BYTES_V2 + Card::COUNT;

/// Bytes of one example in a version-2 buffer file (before the owners targets).
pub const EXAMPLE_BYTES_V2: usize =
    ENCODING_LEN * 2 + 8 + NUM_ACTIONS * 4 + MAX_PLAYERS * 4 + MAX_PLAYERS;

/// The owners targets of `viewer` at this point of `round`: for every card the viewer cannot
/// see (not in its hand, not played), the seat holding it relative to the viewer, or
/// [`UNDEALT`]; [`NO_OWNER`] for the cards it sees. Hidden cards are a target here, never an
/// input.
pub fn owners_of(round: &Round, viewer: usize) -> [u8; Card::COUNT] {
    let players = round.public().players();
    let mut owners = [UNDEALT; Card::COUNT];
    for k in 1..players {
        for card in round.hand((viewer + k) % players) {
            owners[card.index()] = k as u8;
        }
    }
    for card in round.hand(viewer).union(round.public().played()) {
        owners[card.index()] = NO_OWNER;
    }
    owners
}

impl Example {
    pub fn new(
        encoding: &[f32; ENCODING_LEN],
        legal: u64,
        policy: [f32; NUM_ACTIONS],
        value: [f32; MAX_PLAYERS],
    ) -> Example {
        Example {
            encoding: std::array::from_fn(|i| f16::from_f32(encoding[i])),
            legal,
            policy,
            value,
            tricks: [NO_TRICKS; MAX_PLAYERS],
            owners: [NO_OWNER; Card::COUNT],
        }
    }

    /// The same example with owners targets.
    pub fn with_owners(mut self, owners: [u8; Card::COUNT]) -> Example {
        self.owners = owners;
        self
    }

    /// The same example with a tricks target.
    pub fn with_tricks(mut self, tricks: [u8; MAX_PLAYERS]) -> Example {
        self.tricks = tricks;
        self
    }

    /// Whether the example trains the policy (it was the mover's decision).
    pub fn has_policy(&self) -> bool {
        self.legal != 0
    }

    pub fn encoding_f32(&self, out: &mut [f32]) {
        for (o, x) in out.iter_mut().zip(&self.encoding) {
            *o = x.to_f32();
        }
    }

    pub fn mask_f32(&self, out: &mut [f32]) {
        for (k, o) in out.iter_mut().enumerate().take(NUM_ACTIONS) {
            *o = (self.legal >> k & 1) as f32;
        }
    }

    /// Appends the little-endian bytes of this example.
    pub fn write_to(&self, out: &mut Vec<u8>) {
        for x in &self.encoding {
            out.extend_from_slice(&x.to_bits().to_le_bytes());
        }
        out.extend_from_slice(&self.legal.to_le_bytes());
        for x in self.policy.iter().chain(&self.value) {
            out.extend_from_slice(&x.to_le_bytes());
        }
        out.extend_from_slice(&self.tricks);
        out.extend_from_slice(&self.owners);
    }

    /// Reads one example from exactly `EXAMPLE_BYTES` bytes, or `EXAMPLE_BYTES_V2` (a
    /// version-2 example: no owners targets).
    pub fn read_from(b: &[u8]) -> Option<Example> {
        if b.len() != EXAMPLE_BYTES && b.len() != EXAMPLE_BYTES_V2 {
            return None;
        }
        let u16_at = |i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
        let f32_at = |i: usize| f32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes"));
        let encoding = std::array::from_fn(|i| f16::from_bits(u16_at(2 * i)));
        let at = 2 * ENCODING_LEN;
        let legal = u64::from_le_bytes(b[at..at + 8].try_into().ok()?);
        let at = at + 8;
        let policy = std::array::from_fn(|i| f32_at(at + 4 * i));
        let at = at + 4 * NUM_ACTIONS;
        let value = std::array::from_fn(|i| f32_at(at + 4 * i));
        let at = at + 4 * MAX_PLAYERS;
        let tricks = b[at..at + MAX_PLAYERS].try_into().ok()?;
        let at = at + MAX_PLAYERS;
        let owners = match b.get(at..at + Card::COUNT) {
            Some(o) => o.try_into().ok()?,
            None => [NO_OWNER; Card::COUNT],
        };
        Some(Example {
            encoding,
            legal,
            policy,
            value,
            tricks,
            owners,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(s: &str) -> Card {
        s.parse().expect("a card")
    }

    #[test]
    fn owners_name_the_seat_holding_each_unseen_card() {
        // 3 players, 2 cards, dealer 2: seat 0 leads. Seat 1 views.
        let hands = [
            vec![card("AS"), card("2H")],
            vec![card("KS"), card("3C")],
            vec![card("QS"), card("4D")],
        ];
        let config = game::RoundConfig::new(3, 2, None, 2).unwrap();
        let mut round = Round::with_hands(config, &hands).unwrap();
        let owners = owners_of(&round, 1);
        let at = |s: &str| owners[card(s).index()];
        assert_eq!((at("KS"), at("3C")), (NO_OWNER, NO_OWNER), "its own cards");
        assert_eq!((at("QS"), at("4D")), (1, 1), "seat 2 is one to its left");
        assert_eq!((at("AS"), at("2H")), (2, 2), "seat 0 is two to its left");
        assert_eq!(owners.iter().filter(|&&o| o == UNDEALT).count(), 52 - 6);
        for bid in [0, 0, 0] {
            round.apply_bid(bid).unwrap();
        }
        round.apply(game::Action::Play(card("AS"))).unwrap();
        let owners = owners_of(&round, 1);
        assert_eq!(
            owners[card("AS").index()],
            NO_OWNER,
            "a played card is seen"
        );
        assert_eq!(owners[card("2H").index()], 2);
        // From seat 2's chair the same card is seat 0's, one place to the left.
        assert_eq!(owners_of(&round, 2)[card("2H").index()], 1);
    }

    #[test]
    fn version_2_bytes_read_without_owners() {
        let e = Example::new(
            &[0.5; ENCODING_LEN],
            7,
            [0.0; NUM_ACTIONS],
            [0.25; MAX_PLAYERS],
        )
        .with_owners([3; Card::COUNT]);
        let mut bytes = Vec::new();
        e.write_to(&mut bytes);
        let old = Example::read_from(&bytes[..EXAMPLE_BYTES_V2]).unwrap();
        assert_eq!(old.owners, [NO_OWNER; Card::COUNT]);
        assert_eq!(old.encoding, e.encoding);
        assert_eq!(Example::read_from(&bytes).unwrap().owners, [3; Card::COUNT]);
    }

    #[test]
    fn bytes_round_trip() {
        let mut enc = [0.0f32; ENCODING_LEN];
        enc[3] = 1.0;
        enc[200] = 3.0 / 17.0;
        let mut policy = [0.0; NUM_ACTIONS];
        policy[5] = 0.75;
        policy[9] = 0.25;
        let e = Example::new(
            &enc,
            (1 << 5) | (1 << 9),
            policy,
            [0.5, -1.0, 0.0, 0.25, 0.0, 0.0, 0.0, 0.0],
        )
        .with_tricks([2, 0, 1, 3, NO_TRICKS, NO_TRICKS, NO_TRICKS, NO_TRICKS])
        .with_owners(std::array::from_fn(|c| (c % 9) as u8));
        let mut bytes = Vec::new();
        e.write_to(&mut bytes);
        assert_eq!(bytes.len(), EXAMPLE_BYTES);
        assert_eq!(Example::read_from(&bytes), Some(e.clone()));
        assert_eq!(Example::read_from(&bytes[1..]), None);
        let mut back = [0.0f32; ENCODING_LEN];
        e.encoding_f32(&mut back);
        assert!((back[200] - 3.0 / 17.0).abs() < 1e-3);
    }
}

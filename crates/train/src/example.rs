//! One training example, compact: what the mover saw, what the search preferred, and what
//! happened.

use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS};
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
}

/// A seat with no tricks target (beyond the player count, or an example made without one).
pub const NO_TRICKS: u8 = u8::MAX;

/// Bytes of one example in the buffer file.
pub const EXAMPLE_BYTES: usize =
    ENCODING_LEN * 2 + 8 + NUM_ACTIONS * 4 + MAX_PLAYERS * 4 + MAX_PLAYERS;

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
        }
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
    }

    /// Reads one example from exactly `EXAMPLE_BYTES` bytes.
    pub fn read_from(b: &[u8]) -> Option<Example> {
        if b.len() != EXAMPLE_BYTES {
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
        Some(Example {
            encoding,
            legal,
            policy,
            value,
            tricks,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        .with_tricks([2, 0, 1, 3, NO_TRICKS, NO_TRICKS, NO_TRICKS, NO_TRICKS]);
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

//! The replay buffer: fixed capacity (oldest examples leave first), uniform sampling, saved
//! and restored with the checkpoint.
//!
//! File format (little endian): magic `BLOBBUF3`, capacity u64, next write slot u64, count
//! u64, total ever added u64, then `count` examples of `EXAMPLE_BYTES` each, in slot order.
//! A version-2 file (`BLOBBUF2`, examples without owners targets) still loads.

use crate::example::{EXAMPLE_BYTES, EXAMPLE_BYTES_V2, Example};
use rand::{Rng, RngExt};
use std::path::{Path, PathBuf};

// Version 2 added the tricks targets to each example, version 3 the owners targets.
const MAGIC: &[u8; 8] = b"BLOBBUF3";
const MAGIC_V2: &[u8; 8] = b"BLOBBUF2";
const HEADER: usize = 8 + 4 * 8;

/// The most examples a buffer may hold (a config asking for more is refused, and so is a file
/// whose header claims more): 8.2 GB of examples.
pub const MAX_CAPACITY: usize = 10_000_000;

#[derive(Clone, Debug, PartialEq)]
pub struct ReplayBuffer {
    capacity: usize,
    slots: Vec<Example>,
    /// Where the next example goes once the buffer is full.
    next: usize,
    /// Examples ever added (the buffer's clock).
    added: u64,
}

/// Why a buffer file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum BufferError {
    #[error("replay buffer {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("replay buffer {path} is not a buffer file or is damaged: {why}")]
    Format { path: PathBuf, why: String },
}

impl ReplayBuffer {
    pub fn new(capacity: usize) -> ReplayBuffer {
        ReplayBuffer {
            capacity: capacity.max(1),
            slots: Vec::new(),
            next: 0,
            added: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Examples ever added.
    pub fn added(&self) -> u64 {
        self.added
    }

    pub fn push(&mut self, e: Example) {
        if self.slots.len() < self.capacity {
            self.slots.push(e);
        } else {
            self.slots[self.next] = e;
            self.next = (self.next + 1) % self.capacity;
        }
        self.added += 1;
    }

    pub fn extend(&mut self, examples: impl IntoIterator<Item = Example>) {
        for e in examples {
            self.push(e);
        }
    }

    /// `n` examples drawn uniformly with replacement.
    pub fn sample<'a, R: Rng + ?Sized>(&'a self, n: usize, rng: &mut R) -> Vec<&'a Example> {
        if self.slots.is_empty() {
            return Vec::new();
        }
        (0..n)
            .map(|_| &self.slots[rng.random_range(0..self.slots.len())])
            .collect()
    }

    /// Writes the buffer to `path` atomically (a temporary file, then a rename).
    pub fn save(&self, path: &Path) -> Result<(), BufferError> {
        model::files::write_atomic_io(path, &self.to_bytes()).map_err(|source| BufferError::Io {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The buffer file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(HEADER + self.slots.len() * EXAMPLE_BYTES);
        bytes.extend_from_slice(MAGIC);
        for v in [
            self.capacity as u64,
            self.next as u64,
            self.slots.len() as u64,
            self.added,
        ] {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        for e in &self.slots {
            e.write_to(&mut bytes);
        }
        bytes
    }

    pub fn load(path: &Path) -> Result<ReplayBuffer, BufferError> {
        let bytes = std::fs::read(path).map_err(|source| BufferError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        ReplayBuffer::from_bytes(&bytes, path)
    }

    /// Reads a buffer file's bytes; `path` names it in errors.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<ReplayBuffer, BufferError> {
        let bad = |why: String| BufferError::Format {
            path: path.to_path_buf(),
            why,
        };
        let example_bytes = match bytes.get(..8) {
            Some(m) if m == MAGIC && bytes.len() >= HEADER => EXAMPLE_BYTES,
            Some(m) if m == MAGIC_V2 && bytes.len() >= HEADER => EXAMPLE_BYTES_V2,
            _ => return Err(bad("it does not start with the buffer header".into())),
        };
        let word = |i: usize| {
            u64::from_le_bytes(bytes[8 + 8 * i..16 + 8 * i].try_into().expect("8 bytes"))
        };
        let (capacity, next, count, added) = (
            word(0) as usize,
            word(1) as usize,
            word(2) as usize,
            word(3),
        );
        if capacity > MAX_CAPACITY {
            return Err(bad(format!(
                "its header claims a capacity of {capacity} examples (at most {MAX_CAPACITY})"
            )));
        }
        if capacity == 0 || count > capacity || next >= capacity.max(1) || (added as usize) < count
        {
            return Err(bad(format!(
                "inconsistent header (capacity {capacity}, next {next}, count {count}, added {added})"
            )));
        }
        let body = &bytes[HEADER..];
        if Some(body.len()) != count.checked_mul(example_bytes) {
            return Err(bad(format!(
                "expected {count} examples ({} bytes), found {} bytes",
                count * example_bytes,
                body.len()
            )));
        }
        let slots = body
            .chunks_exact(example_bytes)
            .map(|c| Example::read_from(c).expect("exact chunk size"))
            .collect();
        Ok(ReplayBuffer {
            capacity,
            slots,
            next,
            added,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use game::{MAX_PLAYERS, NUM_ACTIONS};

    fn ex(i: usize) -> Example {
        let mut enc = [0.0f32; game::ENCODING_LEN];
        enc[i % 256] = 1.0;
        let mut policy = [0.0; NUM_ACTIONS];
        policy[i % 52] = 1.0;
        Example::new(
            &enc,
            1 << (i % 52),
            policy,
            [i as f32 / 1000.0; MAX_PLAYERS],
        )
    }

    #[test]
    fn oldest_examples_leave_first() {
        let mut b = ReplayBuffer::new(3);
        b.extend((0..5).map(ex));
        assert_eq!(b.len(), 3);
        assert_eq!(b.added(), 5);
        let values: Vec<f32> = b.slots.iter().map(|e| e.value[0]).collect();
        assert_eq!(values, [0.003, 0.004, 0.002]);
    }

    #[test]
    fn save_load_round_trip_and_damage_is_reported() {
        let dir = std::env::temp_dir().join(format!("blob-buffer-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("buffer.bin");
        let mut b = ReplayBuffer::new(4);
        b.extend((0..6).map(ex));
        b.save(&path).unwrap();
        assert!(!dir.join("buffer.bin.tmp").exists());
        assert_eq!(ReplayBuffer::load(&path).unwrap(), b);
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let err = ReplayBuffer::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("buffer.bin") && err.contains("expected"),
            "{err}"
        );
        // A crafted header claiming 2^62 slots is refused before anything is allocated.
        let mut crafted = bytes.clone();
        crafted[8..16].copy_from_slice(&(1u64 << 62).to_le_bytes());
        std::fs::write(&path, &crafted).unwrap();
        let err = ReplayBuffer::load(&path).unwrap_err().to_string();
        assert!(err.contains("capacity"), "{err}");
        std::fs::write(&path, b"not a buffer").unwrap();
        assert!(ReplayBuffer::load(&path).is_err());
        assert!(ReplayBuffer::load(&dir.join("missing.bin")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_version_2_file_loads_without_owners_targets() {
        let mut b = ReplayBuffer::new(4);
        b.extend((0..3).map(|i| ex(i).with_owners([2; game::Card::COUNT])));
        // The same buffer as version 2 wrote it: the old magic, examples without owners.
        let now = b.to_bytes();
        let mut old = MAGIC_V2.to_vec();
        old.extend_from_slice(&now[8..HEADER]);
        for e in now[HEADER..].chunks_exact(EXAMPLE_BYTES) {
            old.extend_from_slice(&e[..EXAMPLE_BYTES_V2]);
        }
        let back = ReplayBuffer::from_bytes(&old, Path::new("old.bin")).unwrap();
        assert_eq!(back.len(), 3);
        for (e, was) in back.slots.iter().zip(&b.slots) {
            assert_eq!(e.owners, [crate::example::NO_OWNER; game::Card::COUNT]);
            assert_eq!((e.encoding, e.value), (was.encoding, was.value));
        }
        // Version-3 bytes under the old magic are refused, not misread.
        let mut mixed = now.clone();
        mixed[..8].copy_from_slice(MAGIC_V2);
        assert!(ReplayBuffer::from_bytes(&mixed, Path::new("mixed.bin")).is_err());
    }

    #[test]
    fn sampling_is_uniform_and_seeded() {
        let mut b = ReplayBuffer::new(10);
        b.extend((0..10).map(ex));
        let mut r1 = game::rng_from_seed(1);
        let mut r2 = game::rng_from_seed(1);
        let s1: Vec<f32> = b.sample(5000, &mut r1).iter().map(|e| e.value[0]).collect();
        let s2: Vec<f32> = b.sample(5000, &mut r2).iter().map(|e| e.value[0]).collect();
        assert_eq!(s1, s2);
        for i in 0..10 {
            let n = s1.iter().filter(|&&v| v == i as f32 / 1000.0).count();
            assert!(
                (380..620).contains(&n),
                "example {i} drawn {n} times of 5000"
            );
        }
    }
}

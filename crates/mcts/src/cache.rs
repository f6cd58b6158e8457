//! An evaluation cache: equal requests share one evaluation, within a batch, within a search
//! and across every search that holds the same cache (a self-play stage's threads, an arena's
//! agents of one network, an engine's decisions).
//!
//! Why it pays: a network sees only the encoding of one seat's own observation and its legal
//! actions, and many of those repeat. The searcher's own view after a given public history is
//! the same in every sampled world (every world's root, its own later turns, the values it asks
//! at other seats' leaves), and the next decision's root was often a leaf of the last search.
//!
//! Only evaluators whose answer is a function of the encoding and the legal actions may be
//! cached ([`ObservationEvaluator`]: a network; never rollouts, which read the sampled world).
//!
//! The cache is bounded: sharded CLOCK (second chance), so a hit costs a lock and a copy and
//! never a list update. A key is a 128-bit hash (XXH3) of the encoding's bits and the legal
//! set: two different requests share a key with probability about n^2 / 2^129 for n entries
//! (below 1e-26 for a million), far below anything a run could notice, and it saves storing
//! 1 KiB of encoding per entry. Keys are only valid for one set of weights: whoever swaps the
//! network makes a new cache (or calls [`EvalCache::clear`]).

use crate::evaluator::{EvalRequest, Evaluation, Evaluator, UniformEvaluator};
use game::ENCODING_LEN;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// An evaluator whose answer depends only on the request's encoding and legal actions (not on
/// the sampled world or the seat), so equal encodings may share one answer.
pub trait ObservationEvaluator: Evaluator {}

impl ObservationEvaluator for UniformEvaluator {}
impl<E: ObservationEvaluator + ?Sized> ObservationEvaluator for &mut E {}

/// Shards, so threads rarely wait on one lock. A power of two.
const SHARDS: usize = 16;

/// The counters of a cache (or of one stretch of its use: see [`CacheStats::since`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Requests answered without the network: found in the cache, or equal to another request
    /// of the same batch.
    pub hits: u64,
    /// Requests sent to the network.
    pub misses: u64,
}

impl CacheStats {
    /// Hits over all requests (0 when there were none).
    pub fn hit_rate(&self) -> f64 {
        let all = self.hits + self.misses;
        if all == 0 {
            0.0
        } else {
            self.hits as f64 / all as f64
        }
    }

    /// The counts between `earlier` and `self`.
    pub fn since(&self, earlier: &CacheStats) -> CacheStats {
        CacheStats {
            hits: self.hits - earlier.hits,
            misses: self.misses - earlier.misses,
        }
    }
}

/// A bounded, thread-safe map from requests to evaluations.
pub struct EvalCache {
    shards: Vec<Mutex<Shard>>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl EvalCache {
    /// A cache of at most `capacity` entries (rounded up to a multiple of the shard count); 0
    /// turns it off ([`CachedEvaluator`] then passes every request through and counts none).
    pub fn new(capacity: usize) -> EvalCache {
        let per_shard = capacity.div_ceil(SHARDS);
        EvalCache {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(Shard::new(per_shard)))
                .collect(),
            capacity: per_shard * SHARDS,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Entries held now.
    pub fn len(&self) -> usize {
        self.shards.iter().map(|s| lock(s).slots.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn stats(&self) -> CacheStats {
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// Forgets every entry (new weights); the counters stay.
    pub fn clear(&self) {
        for s in &self.shards {
            let mut s = lock(s);
            s.slots.clear();
            s.index.clear();
            s.hand = 0;
        }
    }

    /// The key of a request: what a network sees of it (the encoding's bits, seeded with the
    /// legal set).
    pub fn key(request: &EvalRequest) -> Key {
        let bytes: &[u8] = bytemuck::cast_slice(&request.encoding[..]);
        debug_assert_eq!(bytes.len(), ENCODING_LEN * 4);
        Key(xxhash_rust::xxh3::xxh3_128_with_seed(
            bytes,
            request.legal.bits(),
        ))
    }

    pub fn get(&self, key: Key) -> Option<Evaluation> {
        lock(self.shard(key)).get(key)
    }

    pub fn insert(&self, key: Key, evaluation: Evaluation) {
        lock(self.shard(key)).insert(key, evaluation)
    }

    fn shard(&self, key: Key) -> &Mutex<Shard> {
        // The high bits: the shard's map hashes the whole key again.
        &self.shards[(key.0 >> 120) as usize % SHARDS]
    }

    fn count(&self, hits: u64, misses: u64) {
        self.hits.fetch_add(hits, Ordering::Relaxed);
        self.misses.fetch_add(misses, Ordering::Relaxed);
    }
}

/// A request's key: a 128-bit hash of its encoding and legal actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key(u128);

/// Maps keyed by [`Key`]: a key is already a uniform hash, so its low bits are the map's hash
/// (no second hash of the key on every lookup).
type KeyMap<V> = HashMap<Key, V, BuildHasherDefault<KeyHasher>>;

#[derive(Default)]
struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write_u128(&mut self, i: u128) {
        self.0 = i as u64;
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `Key` is hashed here, through `write_u128`; mix anything else in anyway.
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
}

fn lock(shard: &Mutex<Shard>) -> std::sync::MutexGuard<'_, Shard> {
    // A panic elsewhere cannot leave a shard half-updated in a way that matters: every entry
    // is a whole evaluation.
    shard.lock().unwrap_or_else(|e| e.into_inner())
}

/// One shard: slots in a ring, swept by the clock hand.
struct Shard {
    capacity: usize,
    slots: Vec<Slot>,
    index: KeyMap<usize>,
    hand: usize,
}

struct Slot {
    key: Key,
    evaluation: Evaluation,
    /// Set on every hit; the hand clears it once before evicting (the second chance).
    referenced: bool,
}

impl Shard {
    fn new(capacity: usize) -> Shard {
        Shard {
            capacity,
            slots: Vec::new(),
            index: KeyMap::default(),
            hand: 0,
        }
    }

    fn get(&mut self, key: Key) -> Option<Evaluation> {
        let &i = self.index.get(&key)?;
        let slot = &mut self.slots[i];
        slot.referenced = true;
        Some(slot.evaluation)
    }

    fn insert(&mut self, key: Key, evaluation: Evaluation) {
        if self.capacity == 0 {
            return;
        }
        if let Some(&i) = self.index.get(&key) {
            self.slots[i].evaluation = evaluation;
            return;
        }
        let slot = Slot {
            key,
            evaluation,
            referenced: false,
        };
        if self.slots.len() < self.capacity {
            self.index.insert(key, self.slots.len());
            self.slots.push(slot);
            return;
        }
        // Sweep: each referenced slot loses its mark and is passed over once; the first
        // unmarked one is evicted. Ends within one turn and a step.
        while self.slots[self.hand].referenced {
            self.slots[self.hand].referenced = false;
            self.hand = (self.hand + 1) % self.slots.len();
        }
        let old = std::mem::replace(&mut self.slots[self.hand], slot);
        self.index.remove(&old.key);
        self.index.insert(key, self.hand);
        self.hand = (self.hand + 1) % self.slots.len();
    }
}

/// An evaluator behind a cache: answers what the cache holds, sends each distinct remaining
/// request to `inner` once, and keeps its answers.
pub struct CachedEvaluator<E> {
    inner: E,
    cache: Arc<EvalCache>,
    // Reused between batches.
    keys: Vec<Key>,
    misses: Vec<EvalRequest>,
    /// The request row of each distinct miss.
    miss_rows: Vec<usize>,
    /// For each request, where its answer comes from.
    sources: Vec<Source>,
    found: Vec<Evaluation>,
    first_miss: KeyMap<usize>,
    answers: Vec<Evaluation>,
}

#[derive(Clone, Copy)]
enum Source {
    /// The nth answer found in the cache.
    Cached(usize),
    /// The nth distinct miss.
    Miss(usize),
}

impl<E: ObservationEvaluator> CachedEvaluator<E> {
    pub fn new(inner: E, cache: Arc<EvalCache>) -> CachedEvaluator<E> {
        CachedEvaluator {
            inner,
            cache,
            keys: Vec::new(),
            misses: Vec::new(),
            miss_rows: Vec::new(),
            sources: Vec::new(),
            found: Vec::new(),
            first_miss: KeyMap::default(),
            answers: Vec::new(),
        }
    }

    pub fn inner(&self) -> &E {
        &self.inner
    }

    pub fn cache(&self) -> &Arc<EvalCache> {
        &self.cache
    }
}

impl<E: ObservationEvaluator> Evaluator for CachedEvaluator<E> {
    fn evaluate(&mut self, requests: &[EvalRequest], out: &mut Vec<Evaluation>) {
        if self.cache.capacity == 0 {
            return self.inner.evaluate(requests, out);
        }
        self.keys.clear();
        self.keys.extend(requests.iter().map(EvalCache::key));
        self.misses.clear();
        self.sources.clear();
        self.found.clear();
        self.first_miss.clear();
        self.miss_rows.clear();
        for (row, &key) in self.keys.iter().enumerate() {
            let source = match self.cache.get(key) {
                Some(evaluation) => {
                    self.found.push(evaluation);
                    Source::Cached(self.found.len() - 1)
                }
                None => Source::Miss(*self.first_miss.entry(key).or_insert_with(|| {
                    self.miss_rows.push(row);
                    self.miss_rows.len() - 1
                })),
            };
            self.sources.push(source);
        }
        let misses = self.miss_rows.len();
        self.cache
            .count((requests.len() - misses) as u64, misses as u64);
        if misses == requests.len() {
            // Nothing found and nothing repeated (the usual batch when little repeats): the
            // batch goes as it is, uncopied; its answers in order are the misses' answers.
            self.inner.evaluate(requests, &mut self.answers);
        } else if misses > 0 {
            self.misses
                .extend(self.miss_rows.iter().map(|&row| requests[row].clone()));
            self.inner.evaluate(&self.misses, &mut self.answers);
        } else {
            self.answers.clear();
        }
        // Neutral stand-ins from a failed evaluator are never kept.
        if self.inner.failure().is_none() {
            for (miss, &row) in self.miss_rows.iter().enumerate() {
                self.cache.insert(self.keys[row], self.answers[miss]);
            }
        }
        out.clear();
        out.extend(self.sources.iter().map(|source| match *source {
            Source::Cached(i) => self.found[i],
            Source::Miss(i) => self.answers[i],
        }));
    }

    fn failure(&self) -> Option<String> {
        self.inner.failure()
    }
}

impl<E: ObservationEvaluator> ObservationEvaluator for CachedEvaluator<E> {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluator::EvalRequest;
    use game::{GameRng, Round, RoundConfig, TRUMP_ROTATION};
    use rand::SeedableRng;

    /// Answers from the encoding alone (so equal encodings get equal answers) and records how
    /// many rows it was sent.
    #[derive(Default)]
    struct Counting {
        rows: usize,
        calls: usize,
    }

    fn answer_of(request: &EvalRequest) -> Evaluation {
        let mut e = Evaluation::NEUTRAL;
        let sum: f32 = request
            .encoding
            .iter()
            .enumerate()
            .map(|(i, x)| x * (i as f32 + 1.0))
            .sum();
        e.values[0] = sum;
        e.logits[0] = request.legal.len() as f32;
        e
    }

    impl Evaluator for Counting {
        fn evaluate(&mut self, requests: &[EvalRequest], out: &mut Vec<Evaluation>) {
            self.rows += requests.len();
            self.calls += 1;
            out.clear();
            out.extend(requests.iter().map(answer_of));
        }
    }
    impl ObservationEvaluator for Counting {}

    /// Requests for every seat's own view of `count` random positions (from fresh deals).
    fn requests(count: usize, seed: u64) -> Vec<EvalRequest> {
        let mut rng = GameRng::seed_from_u64(seed);
        (0..count)
            .map(|k| {
                let round = Round::deal(
                    RoundConfig::new(4, 5, TRUMP_ROTATION[k % 5], (k % 4) as u64).unwrap(),
                    &mut rng,
                );
                EvalRequest::own_view(&round, k % 4, None)
            })
            .collect()
    }

    #[test]
    fn answers_equal_the_inner_evaluators_and_repeats_are_evaluated_once() {
        let cache = Arc::new(EvalCache::new(1000));
        let distinct = requests(10, 1);
        // Each request three times, two of them in the same batch.
        let batch: Vec<EvalRequest> = distinct.iter().chain(&distinct).cloned().collect();
        let mut cached = CachedEvaluator::new(Counting::default(), cache.clone());
        let mut out = Vec::new();
        cached.evaluate(&batch, &mut out);
        assert_eq!(cached.inner().rows, 10, "duplicates in a batch go once");
        let expected: Vec<Evaluation> = batch.iter().map(answer_of).collect();
        assert_eq!(out, expected);
        cached.evaluate(&distinct, &mut out);
        assert_eq!(
            cached.inner().rows,
            10,
            "a second batch is answered from the cache"
        );
        assert_eq!(cached.inner().calls, 1, "nothing left to send: no call");
        assert_eq!(out, expected[..10]);
        assert_eq!(
            cache.stats(),
            CacheStats {
                hits: 20,
                misses: 10
            }
        );
        assert!((cache.stats().hit_rate() - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn the_key_sees_the_encoding_and_the_legal_actions_only() {
        let a = requests(2, 7);
        assert_ne!(EvalCache::key(&a[0]), EvalCache::key(&a[1]));
        let mut b = a[0].clone();
        b.seat = 3;
        b.world = a[1].world;
        assert_eq!(
            EvalCache::key(&a[0]),
            EvalCache::key(&b),
            "world and seat unseen"
        );
        b.legal = game::ActionSet::from_bits(b.legal.bits() ^ 1);
        assert_ne!(EvalCache::key(&a[0]), EvalCache::key(&b));
        let mut c = a[0].clone();
        c.encoding[255] += 1.0;
        assert_ne!(EvalCache::key(&a[0]), EvalCache::key(&c));
    }

    #[test]
    fn the_cache_stays_within_its_capacity_and_keeps_what_is_used() {
        let cache = Arc::new(EvalCache::new(64));
        let shard_capacity = cache.capacity() / SHARDS;
        let all = requests(2000, 3);
        let hot = &all[..8];
        let mut cached = CachedEvaluator::new(Counting::default(), cache.clone());
        let mut out = Vec::new();
        for chunk in all[8..].chunks(16) {
            // The hot requests are asked between every batch of new ones.
            cached.evaluate(hot, &mut out);
            cached.evaluate(chunk, &mut out);
            assert!(cache.len() <= cache.capacity());
            for s in &cache.shards {
                let s = lock(s);
                assert!(s.slots.len() <= shard_capacity);
                assert_eq!(s.slots.len(), s.index.len());
            }
        }
        assert_eq!(
            cache.len(),
            cache.capacity(),
            "full after 2000 distinct requests"
        );
        let before = cached.inner().rows;
        cached.evaluate(hot, &mut out);
        assert_eq!(
            cached.inner().rows,
            before,
            "the hot entries survived the sweeps"
        );
        // Every stored answer is still the right one.
        for s in &cache.shards {
            let s = lock(s);
            for (key, &i) in &s.index {
                assert_eq!(s.slots[i].key, *key);
            }
        }
    }

    #[test]
    fn a_zero_capacity_cache_is_off() {
        let cache = Arc::new(EvalCache::new(0));
        let one = requests(1, 5);
        let batch = vec![one[0].clone(), one[0].clone()];
        let mut cached = CachedEvaluator::new(Counting::default(), cache.clone());
        let mut out = Vec::new();
        cached.evaluate(&batch, &mut out);
        cached.evaluate(&batch, &mut out);
        assert_eq!(cached.inner().rows, 4, "every request goes through");
        assert!(cache.is_empty());
        assert_eq!(cache.stats(), CacheStats::default());
    }

    /// Fails every call, answering neutrally, as a dead server does.
    struct Failing;
    impl Evaluator for Failing {
        fn evaluate(&mut self, requests: &[EvalRequest], out: &mut Vec<Evaluation>) {
            out.clear();
            out.resize(requests.len(), Evaluation::NEUTRAL);
        }
        fn failure(&self) -> Option<String> {
            Some("gone".into())
        }
    }
    impl ObservationEvaluator for Failing {}

    #[test]
    fn answers_from_a_failed_evaluator_are_not_kept() {
        let cache = Arc::new(EvalCache::new(100));
        let mut cached = CachedEvaluator::new(Failing, cache.clone());
        let mut out = Vec::new();
        cached.evaluate(&requests(5, 9), &mut out);
        assert_eq!(out.len(), 5);
        assert!(cache.is_empty());
        assert_eq!(cached.failure().as_deref(), Some("gone"));
    }

    #[test]
    fn a_search_through_the_cache_equals_one_without_it() {
        use crate::{SearchParams, search_blocking};
        let mut rng = GameRng::seed_from_u64(11);
        let cache = Arc::new(EvalCache::new(10_000));
        for k in 0..6 {
            let round = Round::deal(
                RoundConfig::new(4, 5, TRUMP_ROTATION[k % 5], (k % 4) as u64).unwrap(),
                &mut rng,
            );
            let obs = game::Observation::of_round(&round, round.to_act(), None);
            let params = SearchParams::new(3, 30);
            let plain = search_blocking(&obs, &params, &mut Counting::default(), k as u64)
                .expect("a search");
            let mut cached = CachedEvaluator::new(Counting::default(), cache.clone());
            let through = search_blocking(&obs, &params, &mut cached, k as u64).expect("a search");
            assert_eq!(plain.visits, through.visits);
        }
        assert!(
            cache.stats().hits > 0,
            "3 worlds share the searcher's root view"
        );
    }
}

//! Worlds: full deals consistent with everything one seat knows, drawn exactly uniformly.
//!
//! The searching seat knows its own hand, every card played, every void shown (the current
//! trick included) and how many cards each seat still holds. A world gives every other seat a
//! hand drawn from the unseen cards (those neither held nor played; the undealt rest of the
//! deck is unseen too) that respects those facts. The true hidden hands are never read: the
//! sampler only gets an [`Observation`].
//!
//! Every consistent deal (assignment of the unseen cards to the other seats and the undealt
//! pile) is equally likely. Method:
//!
//! - **Groups.** The holders are the other seats (room: the cards each still holds; they take
//!   the suits they have not shown void in) and the undealt pile (room: the rest; any suit).
//!   Holders that take the same suits (among those with unseen cards) are interchangeable, so
//!   they form one group whose room is the sum of theirs. Without voids everything is one
//!   group and a world is a plain shuffle.
//! - **Counting.** Given how many cards of each suit each group gets (a matrix k), the deals
//!   number `prod_s n_s! / prod_g k[g][s]!` times a factor that does not depend on k (the ways
//!   to split each group's cards among its members). A dynamic programme over the groups,
//!   whose state is how many unseen cards of each suit are still unplaced, sums these weights:
//!   `W(g, left) = sum_k prod_s 1/k_s! * W(g + 1, left - k)` over the splits k of group g's
//!   room among its suits, the last group taking exactly what is left. It depends only on the
//!   observation, so [`WorldSampler`] computes it once and then draws many worlds.
//! - **Drawing.** Group by group, the split k is drawn with probability proportional to its
//!   term, so the whole matrix comes up with the probability of its share of the deals; each
//!   suit's cards for the group are a uniform subset of those left, and the group's cards are
//!   cut among its members uniformly, so every deal with that matrix is equally likely. Hence
//!   every deal has probability 1 / (number of deals).
//!
//! Weights are `f64`: a term is a product of `1/k!` with the ks of one suit summing to at
//! most 13, so it lies between `(1/13!)^4` (about 1e-39) and 1, far from underflow, and the
//! only inexactness is rounding (relative 1e-15) in the choice of k.

use game::{Card, CardSet, MAX_PLAYERS, Observation, PublicRound, Round, Suit};
use rand::{Rng, RngExt};

/// Up to 7 other seats plus the undealt pile.
const MAX_HOLDERS: usize = MAX_PLAYERS;

/// Stands for the undealt pile where a seat is expected.
const PILE: u8 = u8::MAX;

/// `1/k!` for k = 0..=13: no group takes more than the 13 cards of a suit.
const INV_FACT: [f64; 14] = {
    let mut t = [1.0; 14];
    let mut k = 1;
    while k < 14 {
        t[k] = t[k - 1] / k as f64;
        k += 1;
    }
    t
};

/// Holders that take the same suits, treated as one.
#[derive(Clone, Copy, Debug)]
struct Group {
    /// Bit s set: the group takes suit s (only suits with unseen cards are set).
    accepts: u8,
    /// Cards the group receives: the sum of its members' rooms.
    room: u8,
    /// `(seat or PILE, room)` of each member; the pile, if a member, is last.
    members: [(u8, u8); MAX_HOLDERS],
    len: u8,
}

/// One way to fill a group: cards of each suit, with `prod_s 1/k_s!`.
#[derive(Clone, Copy, Debug)]
struct Split {
    k: [u8; 4],
    weight: f64,
}

/// Draws worlds uniformly among the deals consistent with one observation.
///
/// Building it counts the deals (cheap, and free without voids); [`WorldSampler::sample`]
/// then draws a world in about the time of a shuffle plus one weighted choice per group. Use
/// one sampler for all the worlds of a decision. The draw depends only on the observation and
/// the random number generator: the same seed gives the same world.
#[derive(Clone, Debug)]
pub struct WorldSampler {
    seat: usize,
    hand: CardSet,
    public: PublicRound,
    /// The unseen cards of each suit (first `count[s]` entries of row s).
    cards: [[Card; 13]; 4],
    count: [u8; 4],
    /// Groups with a choice first; the last one takes whatever is left.
    groups: [Group; MAX_HOLDERS],
    num_groups: usize,
    /// `splits[g]`: every way to fill group g (all groups but the last).
    splits: Vec<Vec<Split>>,
    /// `W(g, left)` for the middle groups 1..num_groups-1 (see `slot`); NaN for states that
    /// no draw reaches.
    memo: Vec<f64>,
    /// `W(0, count)`: the number of deals divided by a constant.
    total: f64,
}

impl WorldSampler {
    /// Prepares to draw worlds for `obs`.
    ///
    /// # Panics
    /// If no deal is consistent with `obs`, which cannot happen for the observation of a state
    /// reached by legal play.
    pub fn new(obs: &Observation) -> WorldSampler {
        let pb = &obs.public;
        let unseen = obs.unseen();
        let mut cards = [[Card::default(); 13]; 4];
        let mut count = [0u8; 4];
        let mut present = 0u8;
        for s in Suit::ALL {
            for (slot, c) in cards[s.index()].iter_mut().zip(unseen.of_suit(s)) {
                *slot = c;
                count[s.index()] += 1;
            }
            if count[s.index()] > 0 {
                present |= 1 << s.index();
            }
        }

        // Holders with room, keyed by the suits they take; seats in order, the pile last.
        let mut holders = [(0u8, 0u8, 0u8); MAX_HOLDERS];
        let mut num_holders = 0;
        let mut needed = 0;
        for seat in (0..pb.players()).filter(|&s| s != obs.seat()) {
            let room = pb.hand_size(seat);
            needed += room;
            if room > 0 {
                holders[num_holders] = (seat as u8, room as u8, !pb.voids(seat) & present);
                num_holders += 1;
            }
        }
        let pile = (unseen.len() as usize)
            .checked_sub(needed)
            .expect("the observation admits no deal: more cards held than unseen");
        if pile > 0 {
            holders[num_holders] = (PILE, pile as u8, present);
            num_holders += 1;
        }

        let empty = Group {
            accepts: 0,
            room: 0,
            members: [(0, 0); MAX_HOLDERS],
            len: 0,
        };
        let mut groups = [empty; MAX_HOLDERS];
        let mut num_groups = 0;
        for &(seat, room, accepts) in &holders[..num_holders] {
            let g = match groups[..num_groups]
                .iter()
                .position(|g| g.accepts == accepts)
            {
                Some(g) => g,
                None => {
                    groups[num_groups].accepts = accepts;
                    num_groups += 1;
                    num_groups - 1
                }
            };
            let group = &mut groups[g];
            group.members[group.len as usize] = (seat, room);
            group.len += 1;
            group.room += room;
        }
        // The broadest group last: it takes the rest in closed form, so the choices left to
        // the dynamic programme are those of the narrower groups, which have fewer splits.
        groups[..num_groups].sort_by_key(|g| (g.accepts.count_ones(), g.room, g.accepts));

        let splits = match num_groups {
            0 => Vec::new(),
            n => groups[..n - 1]
                .iter()
                .map(|g| splits_of(g, &count))
                .collect(),
        };
        let layer = layer_size(&count);
        let mut sampler = WorldSampler {
            seat: obs.seat(),
            hand: obs.hand,
            public: *pb,
            cards,
            count,
            groups,
            num_groups,
            splits,
            memo: vec![f64::NAN; num_groups.saturating_sub(2) * layer],
            total: 0.0,
        };
        sampler.total = sampler.fill(0, count);
        assert!(
            sampler.total > 0.0,
            "the observation admits no deal: the voids leave some cards nowhere to go"
        );
        sampler
    }

    /// The number of deals consistent with the observation (the undealt pile's content counts:
    /// two deals that differ only there are two). As `f64`: it can exceed `u64`.
    pub fn deals(&self) -> f64 {
        let mut n = self.total;
        for &c in &self.count {
            n /= INV_FACT[c as usize];
        }
        // Each group's cards can be split among its members in room! / prod member_room! ways.
        for g in &self.groups[..self.num_groups] {
            n *= factorial(g.room);
            for &(_, room) in &g.members[..g.len as usize] {
                n /= factorial(room);
            }
        }
        // A count: round off the floating-point residue (1 deal must not read 0.9999...).
        n.round()
    }

    /// Draws one world: the observer's own hand and, for the other seats, a deal drawn
    /// uniformly among those consistent with the observation.
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> Round {
        let mut hands = [CardSet::EMPTY; MAX_PLAYERS];
        hands[self.seat] = self.hand;
        let mut cards = self.cards;
        // Cards of each suit already given out: the first `used[s]` of row s.
        let mut used = [0u8; 4];
        let mut left = self.count;
        let last = self.num_groups.wrapping_sub(1);
        for (g, group) in self.groups[..self.num_groups].iter().enumerate() {
            let k = if g == last {
                left
            } else {
                self.choose(g, &left, rng)
            };
            let mut pool = [Card::default(); 52];
            let mut n = 0;
            for s in 0..4 {
                let (from, to) = (used[s] as usize, (used[s] + k[s]) as usize);
                for i in from..to {
                    // Partial Fisher-Yates: a uniform subset of the suit's cards still left.
                    // The last group takes all that is left, so it needs no draw.
                    if g != last {
                        let j = rng.random_range(i..self.count[s] as usize);
                        cards[s].swap(i, j);
                    }
                    pool[n] = cards[s][i];
                    n += 1;
                }
                used[s] += k[s];
                left[s] -= k[s];
            }
            cut(group, &mut pool[..n], &mut hands, rng);
        }
        Round::from_parts(self.public, hands)
    }

    /// Draws how many cards of each suit group g (not the last) gets, given `left`:
    /// proportionally to the share of deals each choice leads to.
    fn choose<R: Rng + ?Sized>(&self, g: usize, left: &[u8; 4], rng: &mut R) -> [u8; 4] {
        let mut u = rng.random::<f64>() * self.weight(g, left);
        let mut chosen = None;
        for split in &self.splits[g] {
            let Some(rest) = minus(left, &split.k) else {
                continue;
            };
            let term = split.weight * self.weight(g + 1, &rest);
            if term > 0.0 {
                chosen = Some(split.k);
                if u < term {
                    break;
                }
                u -= term;
            }
        }
        // Rounding can leave u just past the last term: that term is then the choice.
        chosen.expect("a reachable state has a choice of positive weight")
    }

    /// `W(g, left)` once computed (every state a draw can reach was, when building).
    fn weight(&self, g: usize, left: &[u8; 4]) -> f64 {
        if g == 0 {
            self.total
        } else if g + 1 == self.num_groups {
            self.last_weight(left)
        } else {
            self.memo[self.slot(g, left)]
        }
    }

    /// Computes `W(g, left)`, memoised for the middle groups (group 0 has one state, the last
    /// is in closed form).
    fn fill(&mut self, g: usize, left: [u8; 4]) -> f64 {
        if g + 1 >= self.num_groups {
            // The last group (or none: then nothing may be left).
            return self.last_weight(&left);
        }
        let slot = (g > 0).then(|| self.slot(g, &left));
        if let Some(w) = slot.map(|i| self.memo[i]).filter(|w| !w.is_nan()) {
            return w;
        }
        let mut w = 0.0;
        for i in 0..self.splits[g].len() {
            let split = self.splits[g][i];
            if let Some(rest) = minus(&left, &split.k) {
                w += split.weight * self.fill(g + 1, rest);
            }
        }
        if let Some(i) = slot {
            self.memo[i] = w;
        }
        w
    }

    /// `W` of the last group: 1/prod left_s! if it can take exactly what is left, else 0.
    fn last_weight(&self, left: &[u8; 4]) -> f64 {
        let Some(group) = self.num_groups.checked_sub(1).map(|g| &self.groups[g]) else {
            return if *left == [0; 4] { 1.0 } else { 0.0 };
        };
        let mut sum = 0;
        let mut w = 1.0;
        for s in 0..4 {
            if left[s] > 0 && group.accepts >> s & 1 == 0 {
                return 0.0;
            }
            sum += left[s];
            w *= INV_FACT[left[s] as usize];
        }
        if sum == group.room { w } else { 0.0 }
    }

    /// Index of `W(g, left)` in the memo. Within a group's layer the cards left sum to a known
    /// total, so three suits fix the state.
    fn slot(&self, g: usize, left: &[u8; 4]) -> usize {
        let c = &self.count;
        let within = left[0] as usize
            + (c[0] as usize + 1) * (left[1] as usize + (c[1] as usize + 1) * left[2] as usize);
        (g - 1) * layer_size(c) + within
    }
}

/// Samples one world consistent with `obs`, uniformly among the consistent deals. Building a
/// [`WorldSampler`] once is cheaper when drawing several worlds for the same observation.
pub fn sample_world<R: Rng + ?Sized>(obs: &Observation, rng: &mut R) -> Round {
    WorldSampler::new(obs).sample(rng)
}

/// Entries in one layer of the memo.
fn layer_size(count: &[u8; 4]) -> usize {
    (0..3).map(|s| count[s] as usize + 1).product()
}

/// `left - k`, if no suit goes below zero.
fn minus(left: &[u8; 4], k: &[u8; 4]) -> Option<[u8; 4]> {
    let mut out = [0; 4];
    for s in 0..4 {
        out[s] = left[s].checked_sub(k[s])?;
    }
    Some(out)
}

fn factorial(n: u8) -> f64 {
    (1..=n).map(f64::from).product()
}

/// Every way to fill `group`'s room from its suits, at most `count[s]` cards of suit s.
fn splits_of(group: &Group, count: &[u8; 4]) -> Vec<Split> {
    fn go(
        s: usize,
        room: u8,
        group: &Group,
        count: &[u8; 4],
        k: &mut [u8; 4],
        out: &mut Vec<Split>,
    ) {
        if s == 4 {
            if room == 0 {
                let weight = k.iter().map(|&x| INV_FACT[x as usize]).product();
                out.push(Split { k: *k, weight });
            }
            return;
        }
        let most = if group.accepts >> s & 1 == 1 {
            room.min(count[s])
        } else {
            0
        };
        for x in 0..=most {
            k[s] = x;
            go(s + 1, room - x, group, count, k, out);
        }
        k[s] = 0;
    }
    let mut out = Vec::new();
    go(0, group.room, group, count, &mut [0; 4], &mut out);
    out
}

/// Gives a group's cards to its members: each member but the last takes a uniform random
/// subset of its room's size from those left (partial Fisher-Yates); the last (the pile, when
/// it is a member) takes the rest without a draw.
fn cut<R: Rng + ?Sized>(
    group: &Group,
    pool: &mut [Card],
    hands: &mut [CardSet; MAX_PLAYERS],
    rng: &mut R,
) {
    let members = &group.members[..group.len as usize];
    let mut i = 0;
    for (m, &(seat, room)) in members.iter().enumerate() {
        let last = m + 1 == members.len();
        if last && seat == PILE {
            break;
        }
        for _ in 0..room {
            if !last {
                let j = rng.random_range(i..pool.len());
                pool.swap(i, j);
            }
            hands[seat as usize].insert(pool[i]);
            i += 1;
        }
    }
}

/// Whether `world` is consistent with what `obs`'s seat knows: same public state, the seat's
/// own hand, every other hand of the right size, made of unseen cards and free of shown voids.
pub fn is_consistent(world: &Round, obs: &Observation) -> bool {
    let pb = &obs.public;
    if world.public() != pb || world.hand(obs.seat()) != obs.hand {
        return false;
    }
    let unseen = obs.unseen();
    let mut seen = CardSet::EMPTY;
    for seat in 0..pb.players() {
        let hand = world.hand(seat);
        if hand.len() as usize != pb.hand_size(seat) || !hand.intersection(seen).is_empty() {
            return false;
        }
        seen = seen.union(hand);
        if seat != obs.seat() {
            let voids = pb.voids(seat);
            let breaks_void = Suit::ALL
                .iter()
                .any(|&s| voids >> s.index() & 1 == 1 && hand.has_suit(s));
            if breaks_void || hand.difference(unseen) != CardSet::EMPTY {
                return false;
            }
        }
    }
    (pb.players()..MAX_PLAYERS).all(|s| world.hand(s).is_empty())
}

//! Subtree reuse between two decisions of the same seat in the same round.
//!
//! Each world tree of the earlier search is a sampled deal. When the actions taken since are
//! all legal in that deal, the deal is still consistent with what the seat now knows, and
//! keeping it is sound: worlds sampled from the old information and filtered by the new
//! facts are samples from the new information (rejection sampling). Its subtree below those
//! actions holds statistics gathered in that very deal, so it is kept too. Worlds the new
//! facts rule out are replaced by fresh samples.
//!
//! In practice bids rule out no deal, so worlds and subtrees survive the bidding; a card
//! played by another seat rules out most worlds (that seat rarely held it there), so during
//! play reuse mostly falls back to fresh worlds.

use crate::params::SearchParams;
use crate::search::{Search, SearchError};
use crate::tree::{NodeKind, Tree};
use crate::worlds::{WorldSampler, is_consistent};
use game::{GameRng, Observation};
use rand::SeedableRng;

/// The actions taken between two observations of one seat in one round, or `None` if `new`
/// does not continue `old`.
pub fn actions_between(old: &Observation, new: &Observation) -> Option<Vec<usize>> {
    let (a, b) = (&old.public, &new.public);
    if old.seat != new.seat || a.config() != b.config() || old.game != new.game {
        return None;
    }
    let p = a.players();
    let mut actions = Vec::new();
    for i in 1..=p {
        let seat = (a.dealer() + i) % p;
        match (a.bid(seat), b.bid(seat)) {
            (Some(x), Some(y)) if x == y => {}
            (None, Some(y)) => actions.push(y),
            (None, None) => break,
            _ => return None,
        }
    }
    let (old_plays, new_plays) = (a.plays(), b.plays());
    if !new_plays.starts_with(old_plays) {
        return None;
    }
    let mut own_played = game::CardSet::EMPTY;
    for (i, c) in new_plays.iter().enumerate().skip(old_plays.len()) {
        if b.player_of_play(i) == new.seat() {
            own_played.insert(*c);
        }
        actions.push(c.index());
    }
    // The seat's hand must be the old one less what it played since: same deal.
    (old.hand.difference(own_played) == new.hand && own_played.difference(old.hand).is_empty())
        .then_some(actions)
}

/// A search for `obs` that keeps what `previous` learnt where it is still sound (see the
/// module notes); each kept tree is topped up to `params.simulations` visits below its root.
/// Falls back to a fresh search when `obs` does not continue `previous`'s observation.
pub fn reuse(
    previous: Search,
    obs: &Observation,
    params: &SearchParams,
    seed: u64,
) -> Result<Search, SearchError> {
    let mut search = Search::new(obs, params, seed)?;
    let (old_obs, old_trees) = previous.into_trees();
    let Some(actions) = actions_between(&old_obs, obs) else {
        return Ok(search);
    };
    let mut rng = GameRng::seed_from_u64(seed ^ 0x5EED_F02E_05E0);
    let mut trees: Vec<Tree> = old_trees
        .into_iter()
        .filter_map(|tree| follow(tree, &actions, obs))
        .take(params.worlds)
        .collect();
    if trees.len() < params.worlds {
        let sampler = WorldSampler::new(obs);
        while trees.len() < params.worlds {
            trees.push(Tree::new(sampler.sample(&mut rng)));
        }
    }
    search.set_trees(trees);
    Ok(search)
}

/// Plays `actions` in the tree's world; `None` if one is illegal there (the world is ruled
/// out). Otherwise the tree re-rooted at the node reached, or a fresh tree on the new state.
fn follow(mut tree: Tree, actions: &[usize], obs: &Observation) -> Option<Tree> {
    let mut state = tree.world;
    let mut node = Some(tree.root);
    for &a in actions {
        if !state.legal_actions().contains(a) {
            return None;
        }
        state.apply_index(a).ok()?;
        node = node.and_then(|n| tree.child(n, a));
    }
    if !is_consistent(&state, obs) {
        return None;
    }
    match node {
        Some(n) if tree.nodes[n as usize].kind == NodeKind::Expanded => {
            tree.root = n;
            tree.world = state;
            tree.in_flight = 0;
            tree.simulations = tree.nodes[n as usize].visits as usize - 1;
            Some(tree)
        }
        _ => Some(Tree::new(state)),
    }
}

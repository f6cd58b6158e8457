//! Information-set MCTS without a network: the textbook baseline (Cowling, Powley & Whitehouse
//! 2012, single-observer IS-MCTS).
//!
//! One tree over the searcher's information set: a node is the searcher's view after a
//! sequence of public actions (in Blob every action is public: bids and cards played), so the
//! same node serves every sampled world. Each simulation samples a fresh world from the
//! searcher's observation, descends the tree choosing only among actions legal in that world
//! (an opponent's cards differ between worlds), expands one untried action, plays the rest of
//! the round out at random, and backs the per-seat values up. Selection is UCB1 with
//! *availability* counts: a child's exploration term uses how often it could have been
//! chosen, not how often its parent was visited, since an opponent's card is only available
//! in the worlds that give it to them.
//!
//! The worlds come from [`crate::worlds`], uniform over the cards the searcher cannot see
//! given everything it has seen: the search never learns which unseen cards are in play.

use crate::evaluator::random_playout;
use crate::params::ParamsError;
use crate::result::SearchResult;
use crate::search::SearchError;
use crate::value::terminal_values_in;
use crate::worlds::WorldSampler;
use game::{ActionSet, GameRng, MAX_PLAYERS, NUM_ACTIONS, Observation};
use rand::{RngExt, SeedableRng};

/// The settings of the network-free IS-MCTS.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IsmctsParams {
    /// Simulations (sampled worlds) per decision.
    pub simulations: usize,
    /// UCB1 exploration constant on the value scale of [`crate::value`] (-1..1). Cowling et
    /// al. use 0.7 for rewards in 0..1; the same exploration on a scale twice as wide is 1.4.
    pub exploration: f32,
}

impl IsmctsParams {
    pub const fn new(simulations: usize) -> IsmctsParams {
        IsmctsParams {
            simulations,
            exploration: 1.4,
        }
    }

    pub fn validate(&self) -> Result<(), ParamsError> {
        if self.simulations == 0 {
            return Err(ParamsError {
                name: "simulations",
                why: "must be at least 1".into(),
            });
        }
        if !(self.exploration.is_finite() && self.exploration >= 0.0) {
            return Err(ParamsError {
                name: "exploration",
                why: format!("must be a number >= 0, not {}", self.exploration),
            });
        }
        Ok(())
    }
}

const NONE: u32 = u32::MAX;

/// A node: the searcher's information set after the actions from the root to here.
#[derive(Clone, Copy, Debug)]
struct Node {
    parent: u32,
    /// Children are added lazily, as worlds make their actions available: a linked list.
    first_child: u32,
    next_sibling: u32,
    /// The action leading here from the parent.
    action: u8,
    visits: u32,
    /// Times the parent was visited in a world where this action was legal.
    available: u32,
    /// Sum of backed-up values, per absolute seat.
    value_sum: [f32; MAX_PLAYERS],
}

impl Node {
    fn new(parent: u32, action: u8) -> Node {
        Node {
            parent,
            first_child: NONE,
            next_sibling: NONE,
            action,
            visits: 0,
            available: 0,
            value_sum: [0.0; MAX_PLAYERS],
        }
    }
}

/// The tree of one decision.
struct InfoSetTree {
    nodes: Vec<Node>,
}

impl InfoSetTree {
    fn new() -> InfoSetTree {
        let mut nodes = Vec::with_capacity(1024);
        nodes.push(Node::new(NONE, 0));
        InfoSetTree { nodes }
    }

    fn children(&self, node: u32) -> impl Iterator<Item = u32> + '_ {
        let mut c = self.nodes[node as usize].first_child;
        std::iter::from_fn(move || {
            (c != NONE).then(|| {
                let this = c;
                c = self.nodes[c as usize].next_sibling;
                this
            })
        })
    }

    fn add_child(&mut self, parent: u32, action: usize) -> u32 {
        let id = self.nodes.len() as u32;
        let mut child = Node::new(parent, action as u8);
        child.next_sibling = self.nodes[parent as usize].first_child;
        self.nodes.push(child);
        self.nodes[parent as usize].first_child = id;
        id
    }

    /// Marks every child legal in this world as available and returns the legal actions that
    /// have no child yet.
    fn mark_available(&mut self, node: u32, legal: ActionSet) -> ActionSet {
        let mut untried = legal.bits();
        let mut c = self.nodes[node as usize].first_child;
        while c != NONE {
            let child = &mut self.nodes[c as usize];
            if legal.contains(child.action as usize) {
                child.available += 1;
                untried &= !(1u64 << child.action);
            }
            c = child.next_sibling;
        }
        ActionSet::from_bits(untried)
    }

    /// UCB1 with availability among the children legal in this world, for `mover`.
    fn select(&self, node: u32, legal: ActionSet, mover: usize, exploration: f32) -> u32 {
        let mut best = NONE;
        let mut best_score = f32::NEG_INFINITY;
        for c in self.children(node) {
            let child = &self.nodes[c as usize];
            if !legal.contains(child.action as usize) {
                continue;
            }
            let n = child.visits.max(1) as f32;
            let q = child.value_sum[mover] / n;
            let score = q + exploration * ((child.available.max(1) as f32).ln() / n).sqrt();
            if score > best_score {
                best_score = score;
                best = c;
            }
        }
        best
    }

    fn backup(&mut self, leaf: u32, values: &[f32; MAX_PLAYERS]) {
        let mut node = leaf;
        while node != NONE {
            let n = &mut self.nodes[node as usize];
            n.visits += 1;
            for (s, v) in n.value_sum.iter_mut().zip(values) {
                *s += v;
            }
            node = n.parent;
        }
    }

    fn root_visits(&self) -> [u32; NUM_ACTIONS] {
        let mut visits = [0; NUM_ACTIONS];
        for c in self.children(0) {
            let child = &self.nodes[c as usize];
            visits[child.action as usize] = child.visits;
        }
        visits
    }
}

/// Searches the decision of `obs`'s seat with IS-MCTS and random playouts.
pub fn ismcts_search(
    obs: &Observation,
    params: &IsmctsParams,
    seed: u64,
) -> Result<SearchResult, SearchError> {
    params.validate()?;
    crate::search::ensure_to_act(obs)?;
    let legal = obs.legal_actions();
    if legal.len() == 1 {
        return Ok(SearchResult::forced(legal.nth(0).unwrap_or(0)));
    }
    let mut rng = GameRng::seed_from_u64(seed);
    let sampler = WorldSampler::new(obs);
    let mut tree = InfoSetTree::new();
    let game = obs.game.as_ref();
    let (mut depth_sum, mut max_depth) = (0u64, 0u32);
    for _ in 0..params.simulations {
        let mut state = sampler.sample(&mut rng);
        let mut node = 0u32;
        let mut depth = 0u32;
        let values = loop {
            if state.is_over() {
                break terminal_values_in(state.public(), game).expect("the round is over");
            }
            let legal = state.legal_actions();
            let mover = state.to_act();
            let untried = tree.mark_available(node, legal);
            if !untried.is_empty() {
                // Expansion: one untried action, then a random playout from there.
                let a = untried
                    .nth(rng.random_range(0..untried.len()))
                    .expect("untried is not empty");
                node = tree.add_child(node, a);
                tree.nodes[node as usize].available = 1;
                state.apply_index(a).expect("a legal action applies");
                depth += 1;
                break random_playout(&state, game, &mut rng);
            }
            node = tree.select(node, legal, mover, params.exploration);
            state
                .apply_index(tree.nodes[node as usize].action as usize)
                .expect("selection keeps to legal actions");
            depth += 1;
        };
        tree.backup(node, &values);
        depth_sum += depth as u64;
        max_depth = max_depth.max(depth);
    }
    let root = &tree.nodes[0];
    let root_values = std::array::from_fn(|s| root.value_sum[s] / root.visits.max(1) as f32);
    let visits = tree.root_visits();
    let mut q = [0.0; NUM_ACTIONS];
    let mut priors = [0.0; NUM_ACTIONS];
    for c in tree.children(0) {
        let child = &tree.nodes[c as usize];
        q[child.action as usize] = child.value_sum[obs.seat()] / child.visits.max(1) as f32;
        // No network: every legal action is equally likely a priori.
        priors[child.action as usize] = 1.0 / legal.len() as f32;
    }
    Ok(SearchResult {
        visits,
        q,
        priors,
        searched: true,
        simulations: params.simulations as u32,
        evaluations: params.simulations as u32,
        root_values,
        max_depth,
        depth_sum,
    })
}

/// The network-free IS-MCTS as a player: `simulations` per decision, the most visited move.
#[derive(Clone, Debug)]
pub struct IsmctsAgent {
    params: IsmctsParams,
    seed: u64,
    decisions: u64,
    name: String,
    last: Option<game::Analysis>,
}

impl IsmctsAgent {
    pub fn new(simulations: usize, seed: u64) -> IsmctsAgent {
        IsmctsAgent::with_params(IsmctsParams::new(simulations), seed)
    }

    pub fn with_params(params: IsmctsParams, seed: u64) -> IsmctsAgent {
        IsmctsAgent {
            name: format!("ismcts:{}", params.simulations),
            params,
            seed,
            decisions: 0,
            last: None,
        }
    }

    pub fn params(&self) -> &IsmctsParams {
        &self.params
    }

    /// Searches the decision of `obs`'s seat and returns the most visited action, or why
    /// `obs` is no decision of its seat.
    pub fn try_act(&mut self, obs: &Observation) -> Result<usize, SearchError> {
        self.decisions += 1;
        let seed = game::seeds::decision(self.seed, self.decisions);
        let result = ismcts_search(obs, &self.params, seed)?;
        self.last = Some(result.analysis(obs.public.players()));
        Ok(result.best_action())
    }
}

crate::agent::player_of_search_agent!(IsmctsAgent);

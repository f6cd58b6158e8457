//! One world's search tree as a plain array of nodes (mctx-style): selection by PUCT with
//! virtual loss, expansion from an evaluation, and backup of per-seat values.
//!
//! Values are vectors indexed by absolute seat; a node chooses among its children by the
//! component of its own mover.

use crate::evaluator::Evaluation;
use crate::params::{Fpu, SearchParams};
use crate::value::to_absolute;
use game::{ActionSet, MAX_PLAYERS, NUM_ACTIONS, Round};

pub(crate) const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NodeKind {
    /// Not evaluated yet.
    Leaf,
    /// Its evaluation has been requested and not answered yet.
    Pending,
    /// Evaluated; its children exist.
    Expanded,
    /// The round is over here; its value is exact.
    Terminal,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    pub parent: u32,
    pub first_child: u32,
    pub num_children: u8,
    /// The action that leads here from the parent.
    pub action: u8,
    /// The seat to act here (set on expansion).
    pub mover: u8,
    pub kind: NodeKind,
    pub prior: f32,
    /// Evaluations backed up through this node (its own included).
    pub visits: u32,
    /// Pending paths through this node, each counted as `virtual_loss` lost visits.
    pub in_flight: u32,
    /// Sum of backed-up values, per absolute seat.
    pub value_sum: [f32; MAX_PLAYERS],
}

impl Node {
    fn new(parent: u32, action: u8, prior: f32) -> Node {
        Node {
            parent,
            first_child: NONE,
            num_children: 0,
            action,
            mover: 0,
            kind: NodeKind::Leaf,
            prior,
            visits: 0,
            in_flight: 0,
            value_sum: [0.0; MAX_PLAYERS],
        }
    }

    fn children(&self) -> std::ops::Range<usize> {
        let start = self.first_child as usize;
        start..start + self.num_children as usize
    }
}

/// The search tree of one world.
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    pub nodes: Vec<Node>,
    pub root: u32,
    /// The world's state at the root.
    pub world: Round,
    /// Simulations completed in this tree (visits below the root).
    pub simulations: usize,
    /// Simulations whose leaf is pending.
    pub in_flight: usize,
}

impl Tree {
    pub fn new(world: Round) -> Tree {
        let mut nodes = Vec::with_capacity(256);
        nodes.push(Node::new(NONE, 0, 1.0));
        Tree {
            nodes,
            root: 0,
            world,
            simulations: 0,
            in_flight: 0,
        }
    }

    pub fn root(&self) -> &Node {
        &self.nodes[self.root as usize]
    }

    /// Walks from the root to a node that is not expanded, choosing by PUCT and applying the
    /// chosen actions to `state` (a copy of the root world). Returns the node and its depth.
    pub fn descend(&self, params: &SearchParams, state: &mut Round) -> (u32, u32) {
        let mut node = self.root;
        let mut depth = 0;
        while self.nodes[node as usize].kind == NodeKind::Expanded {
            let child = self.best_child(node, params);
            let action = self.nodes[child as usize].action as usize;
            state
                .apply_index(action)
                .expect("tree actions are legal in their world");
            node = child;
            depth += 1;
        }
        (node, depth)
    }

    /// The child maximising Q + U for the node's mover, virtual losses included.
    fn best_child(&self, node: u32, params: &SearchParams) -> u32 {
        let n = &self.nodes[node as usize];
        let m = n.mover as usize;
        let vl = params.virtual_loss;
        let parent_visits = n.visits as f32 + vl * n.in_flight as f32;
        let sqrt_n = parent_visits.max(1.0).sqrt();
        let visited_mass = || {
            self.nodes[n.children()]
                .iter()
                .filter(|c| c.visits + c.in_flight > 0)
                .map(|c| c.prior)
                .sum()
        };
        let fpu = first_play_value(params.fpu, n.value_sum[m], n.visits, visited_mass);
        let mut best = n.first_child;
        let mut best_score = f32::NEG_INFINITY;
        for i in n.children() {
            let c = &self.nodes[i];
            let (q, visits) = q_with_virtual_loss(c.value_sum[m], c.visits, c.in_flight, vl, fpu);
            let score = q + params.c_puct * c.prior * sqrt_n / (1.0 + visits);
            if score > best_score {
                best_score = score;
                best = i as u32;
            }
        }
        best
    }

    /// Marks the path from `leaf` to the root as carrying one more pending evaluation.
    pub fn add_in_flight(&mut self, leaf: u32) {
        self.walk_up(leaf, |n| n.in_flight += 1);
    }

    /// Takes back one pending evaluation from the path (a collision that was not evaluated).
    pub fn remove_in_flight(&mut self, leaf: u32) {
        self.walk_up(leaf, |n| n.in_flight -= 1);
    }

    /// Adds one visit with `values` (absolute seats) to every node from `leaf` to the root.
    pub fn backup(&mut self, leaf: u32, values: &[f32; MAX_PLAYERS], was_in_flight: bool) {
        self.walk_up(leaf, |n| {
            n.visits += 1;
            for (s, v) in n.value_sum.iter_mut().zip(values) {
                *s += v;
            }
            if was_in_flight {
                n.in_flight -= 1;
            }
        });
    }

    fn walk_up(&mut self, leaf: u32, mut f: impl FnMut(&mut Node)) {
        let mut node = leaf;
        loop {
            f(&mut self.nodes[node as usize]);
            if node == self.root {
                break;
            }
            node = self.nodes[node as usize].parent;
        }
    }

    /// Expands `leaf` (whose state is `state`) with an evaluation: children for every legal
    /// action with softmax priors, and returns the leaf's values by absolute seat.
    pub fn expand(&mut self, leaf: u32, state: &Round, eval: &Evaluation) -> [f32; MAX_PLAYERS] {
        let legal = state.legal_actions();
        let mover = state.to_act();
        let priors = masked_softmax(&eval.logits, legal);
        let first = self.nodes.len() as u32;
        for a in legal.iter() {
            self.nodes.push(Node::new(leaf, a as u8, priors[a]));
        }
        let n = &mut self.nodes[leaf as usize];
        n.first_child = first;
        n.num_children = legal.len() as u8;
        n.mover = mover as u8;
        n.kind = NodeKind::Expanded;
        to_absolute(&eval.values, mover, state.public().players())
    }

    /// Mixes `noise` (one weight per root child) into the root's priors with weight `epsilon`.
    pub fn add_root_noise(&mut self, noise: &[f32], epsilon: f32) {
        let children = self.root().children();
        for (i, &eta) in children.zip(noise) {
            let p = &mut self.nodes[i].prior;
            *p = (1.0 - epsilon) * *p + epsilon * eta;
        }
    }

    /// Visits of each root child, by action index.
    pub fn root_visits(&self, out: &mut [u32; NUM_ACTIONS]) {
        for c in &self.nodes[self.root().children()] {
            out[c.action as usize] += c.visits;
        }
    }

    /// Adds each root child's value sum for `seat` to `out`, by action index.
    pub fn root_value_sums(&self, seat: usize, out: &mut [f32; NUM_ACTIONS]) {
        for c in &self.nodes[self.root().children()] {
            out[c.action as usize] += c.value_sum[seat];
        }
    }

    /// The priors of the root's children, by action index.
    pub fn root_priors(&self) -> [f32; NUM_ACTIONS] {
        let mut p = [0.0; NUM_ACTIONS];
        for c in &self.nodes[self.root().children()] {
            p[c.action as usize] = c.prior;
        }
        p
    }
}

/// Softmax of `logits` over the legal actions (0 elsewhere). Non-finite logits count as very
/// unlikely rather than poisoning the sum.
pub fn masked_softmax(logits: &[f32; NUM_ACTIONS], legal: ActionSet) -> [f32; NUM_ACTIONS] {
    let mut p = [0.0f32; NUM_ACTIONS];
    let clean = |x: f32| if x.is_finite() { x } else { -1e9 };
    let max = legal
        .iter()
        .map(|a| clean(logits[a]))
        .fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0;
    for a in legal.iter() {
        let e = (clean(logits[a]) - max).exp();
        p[a] = e;
        sum += e;
    }
    if sum > 0.0 {
        for a in legal.iter() {
            p[a] /= sum;
        }
    }
    p
}

/// The value an unvisited child is given (first-play urgency): a fixed value, or the parent's
/// mean value for the chooser less `r` times the square root of the prior mass already visited
/// (`visited_mass`, evaluated only then).
pub(crate) fn first_play_value(
    fpu: Fpu,
    parent_value_sum: f32,
    parent_visits: u32,
    visited_mass: impl FnOnce() -> f32,
) -> f32 {
    match fpu {
        Fpu::Absolute(v) => v,
        Fpu::Reduction(r) => {
            let parent_q = if parent_visits > 0 {
                parent_value_sum / parent_visits as f32
            } else {
                0.0
            };
            parent_q - r * visited_mass().sqrt()
        }
    }
}

/// A child's Q for the chooser and its visits, each of its `in_flight` pending evaluations
/// counted as `vl` visits that lost (-1); `fpu` when it has neither.
pub(crate) fn q_with_virtual_loss(
    value_sum: f32,
    visits: u32,
    in_flight: u32,
    vl: f32,
    fpu: f32,
) -> (f32, f32) {
    let virtual_visits = vl * in_flight as f32;
    let visits = visits as f32 + virtual_visits;
    let q = if visits > 0.0 {
        (value_sum - virtual_visits) / visits
    } else {
        fpu
    };
    (q, visits)
}

//! The resumable search: one decision of one seat. [`Search`] is either kind (the
//! determinized one here, the information-set one in `crate::info_set`).
//!
//! `Search::step(answers)` runs until it needs evaluations and hands them back
//! (`Step::NeedEval`), or finishes (`Step::Done`). A caller can drive many searches on one
//! thread and send all their requests to the evaluator in one batch.
//!
//! The determinized search's order of work: worlds are sampled and every world's root is
//! evaluated first (the root is expanded before any leaf is collected); after that each step
//! collects up to `parallel_batch_size` leaves per world, steering later descents away from
//! pending leaves with virtual loss and never sending the same leaf twice.

use crate::evaluator::{EvalRequest, Evaluation};
use crate::info_set::InfoSetSearch;
use crate::params::{ParamsError, SearchKind, SearchParams};
use crate::result::SearchResult;
use crate::tree::{NodeKind, Tree};
use crate::value::terminal_values_in;
use crate::worlds::WorldSampler;
use game::{GameRng, NUM_ACTIONS, Observation, Round};
use rand::SeedableRng;
use rand_distr::{Distribution, Gamma};

/// What a search needs next.
#[allow(clippy::large_enum_variant)] // Done comes once per search: boxing buys nothing.
pub enum Step<'a> {
    /// Evaluate these and call `step` again with the answers, in the same order.
    NeedEval(&'a [EvalRequest]),
    Done(SearchResult),
}

/// Why a search cannot start.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SearchError {
    #[error("seat {seat} is not to act (seat {to_act} is), so it has no decision to search")]
    NotToAct { seat: usize, to_act: usize },
    #[error("the round is over: there is no decision to search")]
    RoundOver,
    #[error(transparent)]
    Params(#[from] ParamsError),
}

/// A leaf waiting for its evaluation.
#[derive(Clone, Copy, Debug)]
struct PendingLeaf {
    tree: u32,
    node: u32,
    depth: u32,
    /// Index of the request for the mover's observation, and of the one for the searcher's
    /// own observation when it is asked separately (see `SearchParams::searcher_values`).
    request: u32,
    searcher_request: Option<u32>,
}

/// One decision's search, resumable: determinized (a tree per sampled world) or over the
/// searcher's information set (one tree, a world per simulation), as `SearchParams::kind`
/// says. Both are driven the same way.
// The variants are of similar size (both hold their trees in vectors); self-play keeps one
// per round in flight, inline, and boxing would add an indirection to every step.
#[allow(clippy::large_enum_variant)]
pub enum Search {
    Determinized(Determinized),
    InfoSet(InfoSetSearch),
}

impl Search {
    /// A search for the decision of `obs`'s seat, which must be the seat to act. It reads
    /// nothing but the observation, so states that differ only in cards the seat cannot see
    /// give identical searches for the same seed.
    pub fn new(obs: &Observation, params: &SearchParams, seed: u64) -> Result<Search, SearchError> {
        params.validate()?;
        ensure_to_act(obs)?;
        let legal = obs.legal_actions();
        let forced = (legal.len() == 1 && !params.search_single_action)
            .then(|| SearchResult::forced(legal.nth(0).unwrap_or(0)));
        Ok(match params.kind {
            SearchKind::Determinized => {
                Search::Determinized(Determinized::new(obs, params, seed, forced))
            }
            SearchKind::InfoSet => Search::InfoSet(InfoSetSearch::new(obs, params, seed, forced)),
        })
    }

    /// A search over given worlds (perfect information in tests, or worlds kept from an
    /// earlier search). Every world must be consistent with `obs`. The determinized search
    /// searches each in its own tree; the information-set search draws each simulation's
    /// world from them.
    pub fn with_worlds(
        obs: &Observation,
        params: &SearchParams,
        worlds: &[Round],
        seed: u64,
    ) -> Result<Search, SearchError> {
        let mut s = Search::new(obs, params, seed)?;
        debug_assert!(worlds.iter().all(|w| crate::worlds::is_consistent(w, obs)));
        match &mut s {
            Search::Determinized(d) => d.trees = worlds.iter().map(|&w| Tree::new(w)).collect(),
            Search::InfoSet(i) => i.set_worlds(worlds),
        }
        Ok(s)
    }

    pub fn observation(&self) -> &Observation {
        match self {
            Search::Determinized(d) => &d.obs,
            Search::InfoSet(i) => i.observation(),
        }
    }

    /// Advances the search with the answers to the last requests (none on the first call).
    ///
    /// Panics if `answers` does not hold exactly one answer per request of the last step:
    /// that is a bug in the caller, not bad input.
    pub fn step(&mut self, answers: &[Evaluation]) -> Step<'_> {
        match self {
            Search::Determinized(d) => d.step(answers),
            Search::InfoSet(i) => i.step(answers),
        }
    }

    /// The worlds searched (at their roots) by a determinized search; empty until the first
    /// step samples them, and always empty for an information-set search.
    pub fn worlds(&self) -> impl Iterator<Item = &Round> {
        self.worlds_trees().iter().map(|t| &t.world)
    }

    /// Visits below each world's root so far; empty for an information-set search.
    pub fn world_visits(&self) -> Vec<usize> {
        self.worlds_trees().iter().map(|t| t.simulations).collect()
    }

    /// The determinized search's world trees (none for an information-set search).
    fn worlds_trees(&self) -> &[Tree] {
        match self {
            Search::Determinized(d) => &d.trees,
            Search::InfoSet(_) => &[],
        }
    }
}

/// The determinized search: W sampled worlds, each searched in its own tree.
pub struct Determinized {
    params: SearchParams,
    obs: Observation,
    rng: GameRng,
    trees: Vec<Tree>,
    requests: Vec<EvalRequest>,
    pending: Vec<PendingLeaf>,
    /// Leaves hit again while pending in this batch: their virtual loss stays until the
    /// answers come, so later descents look elsewhere.
    collided: Vec<(u32, u32)>,
    started: bool,
    result: Option<SearchResult>,
    /// The root priors before noise (the same in every world: the root is the searcher's
    /// own view).
    priors: Option<[f32; NUM_ACTIONS]>,
    evaluations: u32,
    depth_sum: u64,
    max_depth: u32,
}

impl Determinized {
    fn new(
        obs: &Observation,
        params: &SearchParams,
        seed: u64,
        forced: Option<SearchResult>,
    ) -> Determinized {
        Determinized {
            params: *params,
            obs: *obs,
            rng: GameRng::seed_from_u64(seed),
            trees: Vec::new(),
            requests: Vec::new(),
            pending: Vec::new(),
            collided: Vec::new(),
            started: false,
            result: forced,
            priors: None,
            evaluations: 0,
            depth_sum: 0,
            max_depth: 0,
        }
    }

    fn step(&mut self, answers: &[Evaluation]) -> Step<'_> {
        if let Some(r) = &self.result {
            return Step::Done(r.clone());
        }
        assert_eq!(
            answers.len(),
            self.requests.len(),
            "one answer per request of the last step"
        );
        self.absorb(answers);
        self.requests.clear();
        self.pending.clear();
        if !self.started {
            self.start();
        }
        for t in 0..self.trees.len() {
            if self.trees[t].root().kind == NodeKind::Expanded {
                self.gather(t);
            }
        }
        if self.requests.is_empty() {
            let r = self.finish();
            self.result = Some(r.clone());
            return Step::Done(r);
        }
        self.evaluations += self.requests.len() as u32;
        Step::NeedEval(&self.requests)
    }

    /// Samples the worlds (unless given) and asks for the evaluation of every root not
    /// expanded yet (a reused root already is: it only gets fresh noise).
    fn start(&mut self) {
        self.started = true;
        if self.trees.is_empty() {
            // One sampler for all the worlds: the deal count is computed once.
            let sampler = WorldSampler::new(&self.obs);
            self.trees = (0..self.params.worlds)
                .map(|_| Tree::new(sampler.sample(&mut self.rng)))
                .collect();
        }
        for t in 0..self.trees.len() {
            let tree = &mut self.trees[t];
            let root = tree.root;
            if tree.root().kind == NodeKind::Expanded {
                self.add_noise(t);
                continue;
            }
            tree.nodes[root as usize].kind = NodeKind::Pending;
            let world = tree.world;
            self.request(t, root, 0, &world);
        }
    }

    fn add_noise(&mut self, t: usize) {
        if self.params.dirichlet_epsilon > 0.0 {
            let n = self.trees[t].root().num_children as usize;
            let noise = dirichlet(self.params.dirichlet_alpha, n, &mut self.rng);
            self.trees[t].add_root_noise(&noise, self.params.dirichlet_epsilon);
        }
    }

    fn request(&mut self, tree: usize, node: u32, depth: u32, state: &Round) {
        let mover = state.to_act();
        let request = self.push_request(state, mover);
        // The mover's observation cannot know the searcher's hand, so its estimate of the
        // searcher's value is blind to it: ask the searcher's own observation for that one.
        let searcher = self.obs.seat();
        let searcher_request = (self.params.searcher_values && mover != searcher)
            .then(|| self.push_request(state, searcher));
        self.pending.push(PendingLeaf {
            tree: tree as u32,
            node,
            depth,
            request,
            searcher_request,
        });
    }

    /// Adds a request for `seat`'s own observation in `state`; returns its index.
    fn push_request(&mut self, state: &Round, seat: usize) -> u32 {
        self.requests
            .push(EvalRequest::own_view(state, seat, self.obs.game));
        (self.requests.len() - 1) as u32
    }

    /// Expands every pending leaf with its answer and backs the values up.
    fn absorb(&mut self, answers: &[Evaluation]) {
        let mut roots = Vec::new();
        for leaf in &self.pending {
            let tree = &mut self.trees[leaf.tree as usize];
            let state = &self.requests[leaf.request as usize].world;
            let mut values = tree.expand(leaf.node, state, &answers[leaf.request as usize]);
            if let Some(r) = leaf.searcher_request {
                values[self.obs.seat()] = answers[r as usize].values[0];
            }
            mix_playout(
                &self.params,
                state,
                self.obs.game.as_ref(),
                &mut values,
                &mut self.rng,
            );
            if leaf.node == tree.root {
                tree.backup(leaf.node, &values, false);
                roots.push(leaf.tree as usize);
            } else {
                tree.backup(leaf.node, &values, true);
                tree.in_flight -= 1;
                tree.simulations += 1;
                self.depth_sum += leaf.depth as u64;
                self.max_depth = self.max_depth.max(leaf.depth);
            }
        }
        for (t, node) in self.collided.drain(..) {
            self.trees[t as usize].remove_in_flight(node);
        }
        for t in roots {
            self.priors
                .get_or_insert_with(|| self.trees[t].root_priors());
            self.add_noise(t);
        }
    }

    /// Collects up to `parallel_batch_size` new leaves from tree `t`; terminal leaves are
    /// backed up at once.
    fn gather(&mut self, t: usize) {
        let params = self.params;
        let mut collisions = 0;
        let mut leaves = 0;
        let evidence = (self.trees[t].simulations as f32 * params.in_flight_ratio) as usize;
        let batch = params.parallel_batch_size.min(evidence.max(1));
        loop {
            let tree = &self.trees[t];
            let remaining = params
                .simulations
                .saturating_sub(tree.simulations + tree.in_flight);
            if remaining == 0 || leaves == batch {
                break;
            }
            let mut state = tree.world;
            let (node, depth) = tree.descend(&params, &mut state);
            let tree = &mut self.trees[t];
            match tree.nodes[node as usize].kind {
                NodeKind::Pending => {
                    // Same leaf again: never evaluate it twice. Keep the virtual loss on this
                    // path for the rest of the batch so the next descent goes elsewhere.
                    tree.add_in_flight(node);
                    self.collided.push((t as u32, node));
                    collisions += 1;
                    if collisions >= params.parallel_batch_size {
                        break;
                    }
                }
                NodeKind::Terminal | NodeKind::Leaf if state.is_over() => {
                    tree.nodes[node as usize].kind = NodeKind::Terminal;
                    let values = terminal_values_in(state.public(), self.obs.game.as_ref())
                        .expect("the round is over");
                    tree.backup(node, &values, false);
                    tree.simulations += 1;
                    self.depth_sum += depth as u64;
                    self.max_depth = self.max_depth.max(depth);
                }
                NodeKind::Leaf => {
                    tree.nodes[node as usize].kind = NodeKind::Pending;
                    tree.add_in_flight(node);
                    tree.in_flight += 1;
                    leaves += 1;
                    self.request(t, node, depth, &state);
                }
                NodeKind::Terminal | NodeKind::Expanded => {
                    unreachable!(
                        "descend stops at a node that is not expanded, terminal ones being over"
                    )
                }
            }
        }
    }

    fn finish(&mut self) -> SearchResult {
        let mut visits = [0u32; NUM_ACTIONS];
        let mut root_values = [0.0f32; game::MAX_PLAYERS];
        let mut q = [0.0f32; NUM_ACTIONS];
        let mut simulations = 0;
        for tree in &self.trees {
            tree.root_visits(&mut visits);
            tree.root_value_sums(self.obs.seat(), &mut q);
            simulations += tree.simulations as u32;
            let root = tree.root();
            for (acc, v) in root_values.iter_mut().zip(&root.value_sum) {
                *acc += v / root.visits.max(1) as f32;
            }
        }
        for v in root_values.iter_mut() {
            *v /= self.trees.len().max(1) as f32;
        }
        for (q, &n) in q.iter_mut().zip(&visits) {
            *q /= n.max(1) as f32;
        }
        let priors = self.priors.unwrap_or_else(|| {
            self.trees
                .first()
                .map_or([0.0; NUM_ACTIONS], Tree::root_priors)
        });
        SearchResult {
            visits,
            searched: true,
            simulations,
            evaluations: self.evaluations,
            root_values,
            q,
            priors,
            max_depth: self.max_depth,
            depth_sum: self.depth_sum,
        }
    }
}

/// Mixes one random playout of `state` into a leaf's `values` with weight
/// `params.rollout_mix` (nothing when it is 0).
pub(crate) fn mix_playout(
    params: &SearchParams,
    state: &Round,
    game: Option<&game::GameContext>,
    values: &mut [f32; game::MAX_PLAYERS],
    rng: &mut GameRng,
) {
    let w = params.rollout_mix;
    if w > 0.0 {
        let playout = crate::evaluator::random_playout(state, game, rng);
        for (v, p) in values.iter_mut().zip(playout) {
            *v = (1.0 - w) * *v + w * p;
        }
    }
}

/// A sample from a symmetric Dirichlet distribution with `n` components.
pub(crate) fn dirichlet(alpha: f32, n: usize, rng: &mut GameRng) -> Vec<f32> {
    let gamma = Gamma::new(alpha, 1.0).expect("alpha was validated positive");
    let mut x: Vec<f32> = (0..n).map(|_| gamma.sample(rng)).collect();
    let sum: f32 = x.iter().sum();
    if sum > 0.0 {
        x.iter_mut().for_each(|v| *v /= sum);
    } else {
        x.iter_mut().for_each(|v| *v = 1.0 / n as f32);
    }
    x
}

/// A search is asked for the decision of the seat to act, in a round not yet over.
pub(crate) fn ensure_to_act(obs: &Observation) -> Result<(), SearchError> {
    if obs.public.is_over() {
        return Err(SearchError::RoundOver);
    }
    if obs.public.to_act() != obs.seat() {
        return Err(SearchError::NotToAct {
            seat: obs.seat(),
            to_act: obs.public.to_act(),
        });
    }
    Ok(())
}

//! Information-set search with a network: one tree over the searcher's information set, a
//! fresh world every simulation, availability-aware PUCT, resumable and batched like the
//! determinized search ([`crate::search`]).
//!
//! A node is the searcher's view after a sequence of public actions (every action of Blob is
//! public), so it serves every world. Each simulation samples a world from the searcher's
//! observation and descends, choosing only among actions legal in that world:
//!
//! - at the searcher's own nodes the legal actions are the same in every world (its hand and
//!   the public state fix them), so one evaluation of its own view gives the priors;
//! - at another seat's node the legal actions depend on the cards that world gives it. The
//!   first world to reach the node, and every later world that makes an action legal that
//!   has no child yet, asks for the mover's own view in that world; its policy gives the new
//!   actions their priors, and its values are that simulation's leaf values.
//!
//! Selection is PUCT with *availability*: a child's exploration term uses the number of times
//! it was legal when its parent was visited (Cowling et al. 2012), and the priors are
//! renormalised over the children legal in the current world.
//!
//! Leaf values: each seat's component comes from the mover's own view, except the searcher's,
//! which comes from the searcher's own view of the node (the mover cannot see the searcher's
//! hand; `SearchParams::searcher_values`). That view is the node's, whatever the world, so it
//! is asked once per node and kept. (Evaluators that see the world, like rollouts, turn
//! `searcher_values` off: then every value comes from the leaf's own evaluation.)

use crate::evaluator::{EvalRequest, Evaluation};
use crate::params::SearchParams;
use crate::result::SearchResult;
use crate::search::{Step, dirichlet, mix_playout};
use crate::tree::{first_play_value, masked_softmax, q_with_virtual_loss};
use crate::value::{terminal_values_in, to_absolute};
use crate::worlds::WorldSampler;
use game::{ActionSet, GameRng, MAX_PLAYERS, NUM_ACTIONS, Observation, Round};
use rand::{RngExt, SeedableRng};

const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Never evaluated.
    Fresh,
    /// An evaluation for it is in flight (its first, or one that adds children).
    Pending,
    /// Evaluated at least once; it has children for the actions seen so far.
    Expanded,
    /// The round is over here.
    Terminal,
}

#[derive(Clone, Copy, Debug)]
struct Node {
    parent: u32,
    first_child: u32,
    next_sibling: u32,
    /// The action leading here from the parent.
    action: u8,
    /// The seat to act here (the same in every world: it is public).
    mover: u8,
    kind: Kind,
    prior: f32,
    visits: u32,
    /// Times the parent was visited in a world where this action was legal.
    available: u32,
    in_flight: u32,
    /// Actions that have a child.
    children: u64,
    value_sum: [f32; MAX_PLAYERS],
    /// The searcher's value from its own view of this node, once asked.
    searcher_value: Option<f32>,
}

impl Node {
    fn new(parent: u32, action: u8, prior: f32) -> Node {
        Node {
            parent,
            first_child: NONE,
            next_sibling: NONE,
            action,
            mover: 0,
            kind: Kind::Fresh,
            prior,
            visits: 0,
            available: 0,
            in_flight: 0,
            children: 0,
            value_sum: [0.0; MAX_PLAYERS],
            searcher_value: None,
        }
    }
}

/// A leaf waiting for its evaluation.
#[derive(Clone, Copy, Debug)]
struct Pending {
    node: u32,
    depth: u32,
    /// The world's state at the node.
    state: Round,
    /// The mover's view (the searcher's own when it moves), and the searcher's view when it
    /// is asked separately.
    request: u32,
    searcher_request: Option<u32>,
    /// Its path's entries in `InfoSetSearch::paths`.
    path: (u32, u32),
}

/// Where worlds come from: the exact sampler, or (in tests) a fixed list drawn from.
enum Worlds {
    Sampled(Box<WorldSampler>),
    Given(Vec<Round>),
}

/// One decision's information-set search, resumable (see the module notes).
pub struct InfoSetSearch {
    params: SearchParams,
    obs: Observation,
    rng: GameRng,
    worlds: Worlds,
    nodes: Vec<Node>,
    requests: Vec<EvalRequest>,
    pending: Vec<Pending>,
    /// Pending nodes reached again in this batch: their virtual loss stays until the answers.
    collided: Vec<u32>,
    /// The nodes each pending simulation chose at, with the actions legal there in its world:
    /// their children's availability is counted when the simulation is backed up (counting it
    /// at selection would let the descents of a big batch inflate it).
    paths: Vec<(u32, u64)>,
    started: bool,
    result: Option<SearchResult>,
    /// The root priors before noise.
    priors: [f32; NUM_ACTIONS],
    /// Simulations completed (visits below the root) and in flight.
    simulations: usize,
    in_flight: usize,
    evaluations: u32,
    depth_sum: u64,
    max_depth: u32,
}

impl InfoSetSearch {
    /// A search for the decision of `obs`'s seat (which must be the seat to act). `forced`
    /// holds the result when there is one legal action (no search).
    pub(crate) fn new(
        obs: &Observation,
        params: &SearchParams,
        seed: u64,
        forced: Option<SearchResult>,
    ) -> InfoSetSearch {
        InfoSetSearch {
            params: *params,
            obs: *obs,
            rng: GameRng::seed_from_u64(seed),
            worlds: Worlds::Given(Vec::new()),
            nodes: Vec::new(),
            requests: Vec::new(),
            pending: Vec::new(),
            collided: Vec::new(),
            paths: Vec::new(),
            started: false,
            result: forced,
            priors: [0.0; NUM_ACTIONS],
            simulations: 0,
            in_flight: 0,
            evaluations: 0,
            depth_sum: 0,
            max_depth: 0,
        }
    }

    /// Draws the worlds of every simulation from `worlds` (uniformly) instead of sampling
    /// them: for tests (one world is perfect information). None: sampled as usual.
    pub(crate) fn set_worlds(&mut self, worlds: &[Round]) {
        self.worlds = Worlds::Given(worlds.to_vec());
    }

    pub fn observation(&self) -> &Observation {
        &self.obs
    }

    fn budget(&self) -> usize {
        self.params.total_simulations()
    }

    pub(crate) fn step(&mut self, answers: &[Evaluation]) -> Step<'_> {
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
        } else if self.nodes[0].kind == Kind::Expanded {
            self.gather();
        }
        if self.requests.is_empty() {
            let r = self.finish();
            self.result = Some(r.clone());
            return Step::Done(r);
        }
        self.evaluations += self.requests.len() as u32;
        Step::NeedEval(&self.requests)
    }

    /// Asks for the root: the searcher's own view, the same in every world.
    fn start(&mut self) {
        self.started = true;
        if let Worlds::Given(w) = &self.worlds
            && w.is_empty()
        {
            self.worlds = Worlds::Sampled(Box::new(WorldSampler::new(&self.obs)));
        }
        let mut root = Node::new(NONE, 0, 1.0);
        root.kind = Kind::Pending;
        root.mover = self.obs.seat() as u8;
        self.nodes.push(root);
        let world = self.sample();
        let request = self.push_request(&world, self.obs.seat());
        self.pending.push(Pending {
            node: 0,
            depth: 0,
            state: world,
            request,
            searcher_request: None,
            path: (0, 0),
        });
    }

    fn sample(&mut self) -> Round {
        match &self.worlds {
            Worlds::Sampled(s) => s.sample(&mut self.rng),
            Worlds::Given(w) => w[self.rng.random_range(0..w.len())],
        }
    }

    fn push_request(&mut self, state: &Round, seat: usize) -> u32 {
        self.requests
            .push(EvalRequest::own_view(state, seat, self.obs.game));
        (self.requests.len() - 1) as u32
    }

    /// Expands each answered leaf (children for the actions its world made legal and that
    /// had none) and backs its values up.
    fn absorb(&mut self, answers: &[Evaluation]) {
        let searcher = self.obs.seat();
        let pending = std::mem::take(&mut self.pending);
        for leaf in &pending {
            let answer = &answers[leaf.request as usize];
            let state = &leaf.state;
            let mover = state.to_act();
            let players = state.public().players();
            self.add_children(leaf.node, state.legal_actions(), &answer.logits);
            let node = &mut self.nodes[leaf.node as usize];
            node.kind = Kind::Expanded;
            node.mover = mover as u8;
            let mut values = to_absolute(&answer.values, mover, players);
            if self.params.searcher_values {
                if mover == searcher {
                    node.searcher_value.get_or_insert(values[searcher]);
                } else if let Some(r) = leaf.searcher_request {
                    node.searcher_value = Some(answers[r as usize].values[0]);
                }
                if let Some(v) = node.searcher_value {
                    values[searcher] = v;
                }
            }
            mix_playout(
                &self.params,
                state,
                self.obs.game.as_ref(),
                &mut values,
                &mut self.rng,
            );
            if leaf.node == 0 && node.visits == 0 {
                // The root's own evaluation is not a simulation.
                self.backup(0, &values, false);
                for c in self.children(0).collect::<Vec<_>>() {
                    let child = &self.nodes[c as usize];
                    self.priors[child.action as usize] = child.prior;
                }
                self.add_root_noise();
            } else {
                let (start, len) = leaf.path;
                self.count_available(start as usize..(start + len) as usize);
                self.backup(leaf.node, &values, true);
                self.in_flight -= 1;
                self.simulations += 1;
                self.depth_sum += leaf.depth as u64;
                self.max_depth = self.max_depth.max(leaf.depth);
            }
        }
        self.pending = pending;
        self.paths.clear();
        for node in self.collided.drain(..).collect::<Vec<_>>() {
            self.walk_up(node, |n| n.in_flight -= 1);
        }
    }

    /// Counts one availability for every child legal at each step of a finished simulation's
    /// path.
    fn count_available(&mut self, path: std::ops::Range<usize>) {
        for i in path {
            let (node, legal) = self.paths[i];
            let mut c = self.nodes[node as usize].first_child;
            while c != NONE {
                let child = &mut self.nodes[c as usize];
                if legal >> child.action & 1 == 1 {
                    child.available += 1;
                }
                c = child.next_sibling;
            }
        }
    }

    /// Adds a child for each action in `legal` without one, with its prior from `logits`
    /// (softmax over `legal`).
    fn add_children(&mut self, node: u32, legal: ActionSet, logits: &[f32; NUM_ACTIONS]) {
        let priors = masked_softmax(logits, legal);
        let new = legal.bits() & !self.nodes[node as usize].children;
        for a in ActionSet::from_bits(new).iter() {
            let id = self.nodes.len() as u32;
            let mut child = Node::new(node, a as u8, priors[a]);
            child.next_sibling = self.nodes[node as usize].first_child;
            self.nodes.push(child);
            let parent = &mut self.nodes[node as usize];
            parent.first_child = id;
            parent.children |= 1 << a;
        }
    }

    fn add_root_noise(&mut self) {
        if self.params.dirichlet_epsilon <= 0.0 {
            return;
        }
        let children: Vec<u32> = self.children(0).collect();
        let noise = dirichlet(self.params.dirichlet_alpha, children.len(), &mut self.rng);
        let eps = self.params.dirichlet_epsilon;
        for (c, eta) in children.into_iter().zip(noise) {
            let p = &mut self.nodes[c as usize].prior;
            *p = (1.0 - eps) * *p + eps * eta;
        }
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

    fn walk_up(&mut self, leaf: u32, mut f: impl FnMut(&mut Node)) {
        let mut node = leaf;
        while node != NONE {
            f(&mut self.nodes[node as usize]);
            node = self.nodes[node as usize].parent;
        }
    }

    fn backup(&mut self, leaf: u32, values: &[f32; MAX_PLAYERS], was_in_flight: bool) {
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

    /// Runs new simulations until `parallel_batch_size` leaves wait for evaluations (fewer
    /// while the evidence is thin) or the budget is spent; terminal leaves are backed up at
    /// once.
    fn gather(&mut self) {
        let params = self.params;
        let evidence = (self.simulations as f32 * params.in_flight_ratio) as usize;
        let batch = params.parallel_batch_size.min(evidence.max(1));
        let (mut leaves, mut collisions) = (0, 0);
        while self.simulations + self.in_flight < self.budget() && leaves < batch {
            let world = self.sample();
            match self.descend(world) {
                Descent::Leaf => leaves += 1,
                Descent::Terminal => {}
                Descent::Collision => {
                    collisions += 1;
                    if collisions >= params.parallel_batch_size {
                        break;
                    }
                }
            }
        }
    }

    /// One simulation's descent in `state` (a fresh world at the root).
    fn descend(&mut self, mut state: Round) -> Descent {
        let searcher = self.obs.seat();
        let mut node = 0u32;
        let mut depth = 0u32;
        let path_start = self.paths.len();
        loop {
            if state.is_over() {
                let values = terminal_values_in(state.public(), self.obs.game.as_ref())
                    .expect("the round is over");
                self.nodes[node as usize].kind = Kind::Terminal;
                self.count_available(path_start..self.paths.len());
                self.paths.truncate(path_start);
                self.backup(node, &values, false);
                self.simulations += 1;
                self.depth_sum += depth as u64;
                self.max_depth = self.max_depth.max(depth);
                return Descent::Terminal;
            }
            let legal = state.legal_actions();
            let n = self.nodes[node as usize];
            let needs_eval = match n.kind {
                Kind::Fresh => true,
                Kind::Expanded => legal.bits() & !n.children != 0,
                Kind::Pending => {
                    // Never the same node twice in a batch; its virtual loss stays on this
                    // path so later descents look elsewhere.
                    self.walk_up(node, |n| n.in_flight += 1);
                    self.collided.push(node);
                    self.paths.truncate(path_start);
                    return Descent::Collision;
                }
                Kind::Terminal => unreachable!("a terminal node's state is over"),
            };
            if needs_eval {
                let mover = state.to_act();
                let request = self.push_request(&state, mover);
                let searcher_request = (self.params.searcher_values
                    && mover != searcher
                    && n.searcher_value.is_none())
                .then(|| self.push_request(&state, searcher));
                self.nodes[node as usize].kind = Kind::Pending;
                self.walk_up(node, |n| n.in_flight += 1);
                self.in_flight += 1;
                self.pending.push(Pending {
                    node,
                    depth,
                    state,
                    request,
                    searcher_request,
                    path: (path_start as u32, (self.paths.len() - path_start) as u32),
                });
                return Descent::Leaf;
            }
            self.paths.push((node, legal.bits()));
            let child = self.select(node, legal);
            state
                .apply_index(self.nodes[child as usize].action as usize)
                .expect("children are legal actions of this world");
            node = child;
            depth += 1;
        }
    }

    /// PUCT over the children legal in this world, with availability counts (pending
    /// simulations through the parent count as virtual availability) and virtual loss.
    fn select(&self, node: u32, legal: ActionSet) -> u32 {
        let params = self.params;
        let vl = params.virtual_loss;
        let n = self.nodes[node as usize];
        let m = n.mover as usize;
        let (mut prior_sum, mut visited_mass) = (0.0f32, 0.0f32);
        let mut c = n.first_child;
        while c != NONE {
            let child = &self.nodes[c as usize];
            if legal.contains(child.action as usize) {
                prior_sum += child.prior;
                if child.visits + child.in_flight > 0 {
                    visited_mass += child.prior;
                }
            }
            c = child.next_sibling;
        }
        let prior_sum = prior_sum.max(1e-12);
        let fpu = first_play_value(params.fpu, n.value_sum[m], n.visits, || {
            visited_mass / prior_sum
        });
        let mut best = NONE;
        let mut best_score = f32::NEG_INFINITY;
        for c in self.children(node) {
            let child = &self.nodes[c as usize];
            if !legal.contains(child.action as usize) {
                continue;
            }
            let (q, visits) =
                q_with_virtual_loss(child.value_sum[m], child.visits, child.in_flight, vl, fpu);
            let exploration = (child.available as f32 + vl * n.in_flight as f32)
                .max(1.0)
                .sqrt();
            let score =
                q + params.c_puct * (child.prior / prior_sum) * exploration / (1.0 + visits);
            if score > best_score {
                best_score = score;
                best = c;
            }
        }
        debug_assert_ne!(
            best, NONE,
            "an expanded node has a child for every legal action"
        );
        best
    }

    fn finish(&self) -> SearchResult {
        let mut visits = [0u32; NUM_ACTIONS];
        let mut q = [0.0f32; NUM_ACTIONS];
        let searcher = self.obs.seat();
        for c in self.children(0) {
            let child = &self.nodes[c as usize];
            visits[child.action as usize] = child.visits;
            q[child.action as usize] = child.value_sum[searcher] / child.visits.max(1) as f32;
        }
        let root = &self.nodes[0];
        let root_values = std::array::from_fn(|s| root.value_sum[s] / root.visits.max(1) as f32);
        SearchResult {
            visits,
            searched: true,
            simulations: self.simulations as u32,
            evaluations: self.evaluations,
            root_values,
            q,
            priors: self.priors,
            max_depth: self.max_depth,
            depth_sum: self.depth_sum,
        }
    }
}

/// How one simulation's descent ended.
enum Descent {
    /// At a node that needs an evaluation (requested).
    Leaf,
    /// At the end of the round (backed up at once).
    Terminal,
    /// At a node already waiting for an evaluation in this batch.
    Collision,
}

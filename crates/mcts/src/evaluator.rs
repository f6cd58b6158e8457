//! The seam between the search and whatever scores positions (a network, rollouts, tests).
//!
//! No Burn here: a request is the mover's encoded observation and legal actions (plus the
//! sampled world, for evaluators that simulate); an answer is 52 policy logits and a value per
//! seat, relative to the mover.

use crate::value::{terminal_values_in, to_relative};
use game::{ActionSet, ENCODING_LEN, GameContext, GameRng, MAX_PLAYERS, NUM_ACTIONS, Round};
use rand::{RngExt, SeedableRng};

/// One position to evaluate, from one seat's point of view.
#[derive(Clone, Debug)]
pub struct EvalRequest {
    /// The encoding of `seat`'s own observation in the world (`game::encode`): the mover's,
    /// or the searcher's when its value is asked from its own view.
    pub encoding: [f32; ENCODING_LEN],
    /// `seat`'s legal actions (empty when it is not to act).
    pub legal: ActionSet,
    /// The seat whose observation this is; values come back relative to it.
    pub seat: u8,
    /// The sampled world the position lies in. Only simulating evaluators (rollouts) read it;
    /// a network sees the encoding alone. It holds no true hidden card of the searcher's
    /// opponents: it was sampled from the searcher's observation.
    pub world: Round,
    /// The game context, in a full game.
    pub game: Option<GameContext>,
}

impl EvalRequest {
    /// The request for `seat`'s own observation of `world` (the only view the search ever
    /// sends: the mover's, or the searcher's at another seat's turn).
    pub fn own_view(world: &Round, seat: usize, game: Option<GameContext>) -> EvalRequest {
        let obs = game::Observation::of_round(world, seat, game);
        EvalRequest {
            encoding: game::encode(&obs),
            legal: obs.legal_actions(),
            seat: seat as u8,
            world: *world,
            game,
        }
    }
}

/// The answer to one request.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    /// Policy logits over the 52 actions; the search applies a softmax over legal actions.
    pub logits: [f32; NUM_ACTIONS],
    /// Value per seat, index k = the seat k places left of the request's seat (index 0 = that
    /// seat), on the scale of [`crate::value`]. Entries at or beyond the player count are
    /// ignored.
    pub values: [f32; MAX_PLAYERS],
}

impl Evaluation {
    pub const NEUTRAL: Evaluation = Evaluation {
        logits: [0.0; NUM_ACTIONS],
        values: [0.0; MAX_PLAYERS],
    };
}

/// Scores batches of positions. `out` is cleared and receives one answer per request, in order.
pub trait Evaluator {
    fn evaluate(&mut self, requests: &[EvalRequest], out: &mut Vec<Evaluation>);

    /// Why answers given so far cannot be trusted, if they cannot: a remote network that went
    /// away is answered neutrally (a search cannot stop mid-step), and whoever drives the
    /// search must check this and stop.
    fn failure(&self) -> Option<String> {
        None
    }
}

impl<E: Evaluator + ?Sized> Evaluator for &mut E {
    fn evaluate(&mut self, requests: &[EvalRequest], out: &mut Vec<Evaluation>) {
        (**self).evaluate(requests, out)
    }

    fn failure(&self) -> Option<String> {
        (**self).failure()
    }
}

/// Uniform priors and zero values: the zero-cost evaluator (search speed benchmarks).
#[derive(Clone, Copy, Debug, Default)]
pub struct UniformEvaluator;

impl Evaluator for UniformEvaluator {
    fn evaluate(&mut self, requests: &[EvalRequest], out: &mut Vec<Evaluation>) {
        out.clear();
        out.resize(requests.len(), Evaluation::NEUTRAL);
    }
}

/// Random logits and values from a seeded generator: a stand-in for an untrained network.
#[derive(Clone, Debug)]
pub struct RandomEvaluator {
    rng: GameRng,
}

impl RandomEvaluator {
    pub fn new(seed: u64) -> RandomEvaluator {
        RandomEvaluator {
            rng: GameRng::seed_from_u64(seed),
        }
    }
}

impl Evaluator for RandomEvaluator {
    fn evaluate(&mut self, requests: &[EvalRequest], out: &mut Vec<Evaluation>) {
        out.clear();
        for _ in requests {
            let mut e = Evaluation::NEUTRAL;
            for l in e.logits.iter_mut() {
                *l = self.rng.random_range(-2.0..2.0);
            }
            for v in e.values.iter_mut() {
                *v = self.rng.random_range(-1.0..1.0);
            }
            out.push(e);
        }
    }
}

/// Plays the world out with uniformly random legal moves and returns the exact per-seat values
/// of the result, with uniform priors: classic determinized Monte Carlo, no network.
#[derive(Clone, Debug)]
pub struct RolloutEvaluator {
    rng: GameRng,
}

impl RolloutEvaluator {
    pub fn new(seed: u64) -> RolloutEvaluator {
        RolloutEvaluator {
            rng: GameRng::seed_from_u64(seed),
        }
    }

    /// Values of one random playout from `world` (inside a game if `game` is given),
    /// indexed by absolute seat.
    pub fn rollout(&mut self, world: &Round, game: Option<&GameContext>) -> [f32; MAX_PLAYERS] {
        random_playout(world, game, &mut self.rng)
    }
}

/// Plays `world` to the end with uniformly random legal actions and returns the per-seat
/// values of the result (absolute seats; inside a game if `game` is given).
pub fn random_playout<R: rand::Rng + ?Sized>(
    world: &Round,
    game: Option<&GameContext>,
    rng: &mut R,
) -> [f32; MAX_PLAYERS] {
    let mut r = *world;
    while !r.is_over() {
        let legal = r.legal_actions();
        let k = legal
            .nth(rng.random_range(0..legal.len()))
            .expect("a round in progress has a legal action");
        r.apply_index(k).expect("a legal action applies");
    }
    terminal_values_in(r.public(), game).expect("the playout ended the round")
}

impl Evaluator for RolloutEvaluator {
    fn evaluate(&mut self, requests: &[EvalRequest], out: &mut Vec<Evaluation>) {
        out.clear();
        for req in requests {
            let abs = self.rollout(&req.world, req.game.as_ref());
            let p = req.world.public().players();
            out.push(Evaluation {
                logits: [0.0; NUM_ACTIONS],
                values: to_relative(&abs, req.seat as usize, p),
            });
        }
    }
}

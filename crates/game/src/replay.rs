//! Transcript replay (`shared/TRANSCRIPTS.md`): one JSON line in, one result out.
//!
//! This module only reads the transcript and drives the engine. Every rule (ranges, the
//! dealer's bid, follow-suit, trick winners, scores, the game schedule) is decided by
//! [`RoundConfig`], [`Round`], [`GameConfig`] and [`Game`]; here we only translate JSON into
//! engine calls and engine errors into result lines.

use crate::action::Action;
use crate::card::{Card, Suit};
use crate::full_game::{Game, NextRoundError};
use crate::round::{IllegalAction, Phase, Round};
use crate::setup::{GameConfig, RoundConfig, SetupError};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};

/// The result of one transcript line: the echoed `id` and what happened.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// The line's `id`, as given (null if absent or if the line is not a JSON object).
    pub id: Value,
    pub outcome: Outcome,
}

/// How a line ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// A round played to its end: tricks won and score per seat.
    Round { tricks: Vec<usize>, scores: Vec<u8> },
    /// A game played to its end.
    Game {
        round_scores: Vec<Vec<u8>>,
        totals: Vec<u16>,
        winners: Vec<usize>,
    },
    /// An illegal action, a malformed set-up or a bad line.
    Failed(Failure),
}

/// Why a line failed. `at` is the index of the first bad action (`None`: the set-up or the
/// line itself is at fault); `round` is the game round at fault, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    pub round: Option<usize>,
    pub at: Option<usize>,
    pub message: String,
}

impl Failure {
    /// A fault of the set-up or of the line (`error_at` null).
    fn setup(message: impl Into<String>) -> Failure {
        Failure {
            round: None,
            at: None,
            message: message.into(),
        }
    }

    /// The same fault, placed in game round `r`.
    fn in_round(self, r: usize) -> Failure {
        Failure {
            round: Some(r),
            message: format!("round {r}: {}", self.message),
            ..self
        }
    }
}

impl From<SetupError> for Failure {
    fn from(e: SetupError) -> Failure {
        Failure::setup(e.to_string())
    }
}

impl Replay {
    /// A failed line with no usable `id` (bad JSON, not an object, not UTF-8, empty).
    pub fn bad_line(message: impl Into<String>) -> Replay {
        Replay {
            id: Value::Null,
            outcome: Outcome::Failed(Failure::setup(message)),
        }
    }

    pub fn is_ok(&self) -> bool {
        !matches!(self.outcome, Outcome::Failed(_))
    }

    /// The result as a JSON value (the same fields as the written line).
    pub fn to_value(&self) -> Value {
        // Serializing plain numbers, strings and a `Value` into a `Value` cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// Written by hand so the keys come in the order of TRANSCRIPTS.md: `id`, `ok`, then the rest.
impl Serialize for Replay {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("ok", &self.is_ok())?;
        match &self.outcome {
            Outcome::Round { tricks, scores } => {
                map.serialize_entry("tricks", tricks)?;
                map.serialize_entry("scores", scores)?;
            }
            Outcome::Game {
                round_scores,
                totals,
                winners,
            } => {
                map.serialize_entry("round_scores", round_scores)?;
                map.serialize_entry("totals", totals)?;
                map.serialize_entry("winners", winners)?;
            }
            Outcome::Failed(f) => {
                if let Some(r) = f.round {
                    map.serialize_entry("error_round", &r)?;
                }
                map.serialize_entry("error_at", &f.at)?;
                map.serialize_entry("error", &f.message)?;
            }
        }
        map.end()
    }
}

/// Replays one transcript line (a round or a game). Never panics; every fault becomes a
/// [`Failure`].
pub fn replay_line(line: &str) -> Replay {
    if line.trim().is_empty() {
        return Replay::bad_line("empty line: expected one JSON object (a round or a game)");
    }
    let value: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return Replay::bad_line(format!("bad JSON: {e}")),
    };
    let Value::Object(obj) = value else {
        return Replay::bad_line(format!(
            "expected a JSON object (a round or a game), not {}",
            describe(&value)
        ));
    };
    let id = obj.get("id").cloned().unwrap_or(Value::Null);
    let outcome = replay_object(&obj).unwrap_or_else(Outcome::Failed);
    Replay { id, outcome }
}

fn replay_object(obj: &Map<String, Value>) -> Result<Outcome, Failure> {
    match field(obj, "kind")? {
        Value::String(k) if k == "round" => replay_round(obj),
        Value::String(k) if k == "game" => replay_game(obj),
        Value::String(k) => Err(Failure::setup(format!(
            "unknown kind {k:?}: expected \"round\" or \"game\""
        ))),
        other => Err(Failure::setup(format!(
            "field \"kind\" must be \"round\" or \"game\", not {}",
            describe(other)
        ))),
    }
}

fn replay_round(obj: &Map<String, Value>) -> Result<Outcome, Failure> {
    let players = uint_field(obj, "players")?;
    let cards = uint_field(obj, "cards")?;
    let trump = trump_field(obj)?;
    let dealer = uint_field(obj, "dealer")?;
    let config = RoundConfig::new(players, cards, trump, dealer)?;
    let hands = parse_hands(field(obj, "hands")?)?;
    let mut round = Round::with_hands(config, &hands)?;
    run_actions(&mut round, field(obj, "actions")?)?;
    let p = config.players();
    let scores = round
        .scores()
        .ok_or_else(|| Failure::setup("internal: the round ended without scores"))?;
    Ok(Outcome::Round {
        tricks: (0..p).map(|s| round.public().tricks_won(s)).collect(),
        scores: scores[..p].to_vec(),
    })
}

fn replay_game(obj: &Map<String, Value>) -> Result<Outcome, Failure> {
    let players = uint_field(obj, "players")?;
    let start_cards = uint_field(obj, "start_cards")?;
    let config = GameConfig::new(players, start_cards)?;
    let rounds = match field(obj, "rounds")? {
        Value::Array(rounds) => rounds,
        other => {
            return Err(Failure::setup(format!(
                "field \"rounds\" must be an array of rounds, not {}",
                describe(other)
            )));
        }
    };
    // The round count is a fault of the whole game, found before any round is played (the
    // conformance cases expect no `error_round` for it).
    if rounds.len() != config.num_rounds() {
        return Err(Failure::setup(format!(
            "wrong number of rounds [schedule]: a game of {} players starting with {} cards has {} \
             rounds, but \"rounds\" holds {}",
            config.players(),
            config.start_cards(),
            config.num_rounds(),
            rounds.len()
        )));
    }
    let mut game: Option<Game> = None;
    for (r, round) in rounds.iter().enumerate() {
        game = Some(play_round(config, game, round).map_err(|f| f.in_round(r))?);
    }
    match game {
        Some(g) if g.is_over() => Ok(Outcome::Game {
            round_scores: g
                .round_scores()
                .iter()
                .map(|s| s[..config.players()].to_vec())
                .collect(),
            totals: g.totals().to_vec(),
            winners: g.winners(),
        }),
        _ => Err(Failure::setup(
            "internal: the game ended before its last round",
        )),
    }
}

/// Deals the game's next round (round 0 when there is no game yet) with the hands of the
/// transcript's round object, then plays its actions.
fn play_round(config: GameConfig, game: Option<Game>, round: &Value) -> Result<Game, Failure> {
    let Value::Object(round) = round else {
        return Err(Failure::setup(format!(
            "a round must be an object with \"hands\" and \"actions\", not {}",
            describe(round)
        )));
    };
    let hands = parse_hands(field(round, "hands")?)?;
    let mut game = match game {
        None => Game::with_first_hands(config, &hands)?,
        Some(mut g) => match g.deal_next_with_hands(&hands) {
            Ok(()) => g,
            Err(NextRoundError::Setup(e)) => return Err(e.into()),
            Err(e) => return Err(Failure::setup(format!("internal: {e}"))),
        },
    };
    run_actions(&mut game, field(round, "actions")?)?;
    Ok(game)
}

/// What the replay needs of a round or a game: the engine's two kinds of move and its state.
trait Table {
    fn bid(&mut self, bid: u64) -> Result<(), IllegalAction>;
    fn play(&mut self, card: Card) -> Result<(), IllegalAction>;
    fn round(&self) -> &Round;
}

impl Table for Round {
    fn bid(&mut self, bid: u64) -> Result<(), IllegalAction> {
        self.apply_bid(bid)
    }
    fn play(&mut self, card: Card) -> Result<(), IllegalAction> {
        self.apply(Action::Play(card))
    }
    fn round(&self) -> &Round {
        self
    }
}

impl Table for Game {
    fn bid(&mut self, bid: u64) -> Result<(), IllegalAction> {
        self.apply_bid(bid)
    }
    fn play(&mut self, card: Card) -> Result<(), IllegalAction> {
        self.apply(Action::Play(card))
    }
    fn round(&self) -> &Round {
        Game::round(self)
    }
}

/// Plays the transcript's `actions` to the end of the current round. The first action that is
/// not legal (or not an action at all) is the error; a list that stops short is an error at
/// its length.
fn run_actions<T: Table>(table: &mut T, actions: &Value) -> Result<(), Failure> {
    let actions = match actions {
        Value::Array(a) => a,
        other => {
            return Err(Failure::setup(format!(
                "field \"actions\" must be an array of bids and cards, not {}",
                describe(other)
            )));
        }
    };
    for (k, action) in actions.iter().enumerate() {
        let result = match action {
            Value::Number(n) => match n.as_u64() {
                // Any u64 goes to the engine untruncated: it refuses what is out of range.
                Some(bid) => table.bid(bid).map_err(|e| e.to_string()),
                None => Err(format!(
                    "{n} is not a bid: a bid is a whole number from 0 to the cards per hand"
                )),
            },
            Value::String(s) => match s.parse::<Card>() {
                Ok(card) => table.play(card).map_err(|e| e.to_string()),
                Err(e) => Err(format!("unknown card string: {e}")),
            },
            other => Err(format!(
                "{} is not an action: an action is a bid (a whole number) or a card (a string \
                 like \"TS\")",
                describe(other)
            )),
        };
        if let Err(message) = result {
            return Err(Failure {
                round: None,
                at: Some(k),
                message: format!("action {k}: {message}"),
            });
        }
    }
    let round = table.round();
    if round.is_over() {
        return Ok(());
    }
    let want = match round.phase() {
        Phase::Bidding => "bid",
        _ => "play a card",
    };
    Err(Failure {
        round: None,
        at: Some(actions.len()),
        message: format!(
            "the actions ended early: the round is not over after {} actions and seat {} was \
             still to {want} (more actions were expected)",
            actions.len(),
            round.to_act()
        ),
    })
}

fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a Value, Failure> {
    obj.get(name)
        .ok_or_else(|| Failure::setup(format!("missing field {name:?}")))
}

/// A non-negative integer field. Range checks are the engine's; here only the JSON type.
fn uint_field(obj: &Map<String, Value>, name: &str) -> Result<u64, Failure> {
    let v = field(obj, name)?;
    v.as_u64().ok_or_else(|| {
        Failure::setup(format!(
            "field {name:?} must be a non-negative integer, not {}",
            describe(v)
        ))
    })
}

/// `"S"`, `"H"`, `"C"`, `"D"`, or null for no trump.
fn trump_field(obj: &Map<String, Value>) -> Result<Option<Suit>, Failure> {
    let v = field(obj, "trump")?;
    let suit = match v {
        Value::Null => return Ok(None),
        Value::String(s) => {
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Suit::from_letter(c),
                _ => None,
            }
        }
        _ => None,
    };
    suit.map(Some).ok_or_else(|| {
        Failure::setup(format!(
            "bad trump: field \"trump\" must be \"S\", \"H\", \"C\", \"D\" or null (no trump), \
             not {}",
            describe(v)
        ))
    })
}

/// The hands as cards. Counts, sizes and duplicates are checked by the engine.
fn parse_hands(v: &Value) -> Result<Vec<Vec<Card>>, Failure> {
    let Value::Array(hands) = v else {
        return Err(Failure::setup(format!(
            "field \"hands\" must be an array of hands (arrays of card strings), not {}",
            describe(v)
        )));
    };
    let mut parsed = Vec::new();
    for (seat, hand) in hands.iter().enumerate() {
        let Value::Array(hand) = hand else {
            return Err(Failure::setup(format!(
                "hands[{seat}] must be an array of card strings, not {}",
                describe(hand)
            )));
        };
        let mut cards = Vec::new();
        for (i, card) in hand.iter().enumerate() {
            let Value::String(text) = card else {
                return Err(Failure::setup(format!(
                    "hands[{seat}][{i}] is not a card: expected a card string like \"TS\", not {}",
                    describe(card)
                )));
            };
            let card = text
                .parse::<Card>()
                .map_err(|e| Failure::setup(format!("hands[{seat}][{i}]: {e}")))?;
            cards.push(card);
        }
        parsed.push(cards);
    }
    Ok(parsed)
}

/// A short description of a JSON value for error sentences: its type and (cut) text.
fn describe(v: &Value) -> String {
    const MAX: usize = 40;
    let kind = match v {
        Value::Null => return "null".to_string(),
        Value::Bool(b) => return format!("the boolean {b}"),
        Value::Number(n) => return format!("the number {n}"),
        Value::String(_) => "the string",
        Value::Array(_) => "the array",
        Value::Object(_) => "the object",
    };
    let text = v.to_string();
    if text.chars().count() <= MAX {
        format!("{kind} {text}")
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{kind} {cut}...")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_cuts_long_values_on_char_boundaries() {
        let long = Value::String("é".repeat(100));
        let d = describe(&long);
        assert!(d.starts_with("the string \"é"));
        assert!(d.ends_with("..."));
        assert!(d.chars().count() < 60);
    }

    #[test]
    fn keys_are_written_in_transcript_order() {
        let r = Replay {
            id: Value::from("x"),
            outcome: Outcome::Failed(Failure {
                round: Some(2),
                at: Some(5),
                message: "m".into(),
            }),
        };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"id":"x","ok":false,"error_round":2,"error_at":5,"error":"m"}"#
        );
    }
}

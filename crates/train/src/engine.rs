//! `train engine --agent SPEC`: an agent behind a JSON-lines protocol on stdin and stdout, one
//! answer line for each request line (docs/engine.md).
//!
//! A request holds only what one seat can know: the set-up, its seat, its hand as dealt and
//! every public action of the round so far. There is no field for another seat's cards, and
//! an unknown field is refused rather than ignored, so nothing hidden can be slipped in. The
//! seat's account is checked with `game::Observation::from_public_actions` (every rule the
//! seat can check); bad input gets `{"ok": false, "error": ...}` naming the field or the rule.

use crate::agents::{AgentSpec, NetAgentFactory};
use game::{
    Action, Card, CardSet, GameConfig, GameContext, MAX_PLAYERS, Observation, RoundConfig, Suit,
    action_of,
};
use serde_json::{Map, Value, json};
use std::io::{BufRead, Write};
use std::time::Instant;

/// The fields a request may hold.
const FIELDS: &[&str] = &[
    "id",
    "players",
    "cards",
    "trump",
    "dealer",
    "seat",
    "hand",
    "actions",
    "game",
    "simulations",
    "seed",
];

/// Answers every request line of `input` on `output`, one line each, until the input ends.
/// `seed` seeds the agent's choices where a request gives none (request k gets a seed derived
/// from it and k).
pub fn serve(
    agent: &AgentSpec,
    seed: u64,
    net: Option<&dyn NetAgentFactory>,
    mut input: impl BufRead,
    mut output: impl Write,
) -> std::io::Result<()> {
    let mut line = Vec::new();
    let mut count = 0u64;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        if text.trim().is_empty() {
            continue;
        }
        count += 1;
        let answer = answer(agent, game::seeds::decision(seed, count), net, &text);
        writeln!(output, "{answer}")?;
        output.flush()?;
    }
}

/// The answer line to one request line: never a panic, always one JSON object.
pub fn answer(
    agent: &AgentSpec,
    seed: u64,
    net: Option<&dyn NetAgentFactory>,
    line: &str,
) -> String {
    let request: Result<Map<String, Value>, String> = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err("a request is one JSON object per line".to_string()),
        Err(e) => Err(format!("not JSON: {e}")),
    };
    let id = request
        .as_ref()
        .ok()
        .and_then(|m| m.get("id").cloned())
        .unwrap_or(Value::Null);
    let t0 = Instant::now();
    let result = request.and_then(|m| decide(agent, seed, net, &m));
    match result {
        Ok((action, analysis)) => {
            let mut a = json!({
                "id": id,
                "ok": true,
                "action": action,
                "millis": t0.elapsed().as_secs_f64() * 1000.0,
            });
            if let (Some(extra), Some(a)) = (analysis, a.as_object_mut()) {
                a.extend(extra);
            }
            a
        }
        Err(error) => json!({ "id": id, "ok": false, "error": error }),
    }
    .to_string()
}

/// The agent's action for a request, as the protocol writes it (a bid number or card text),
/// and, from a searching agent, its policy, values and simulations.
fn decide(
    agent: &AgentSpec,
    seed: u64,
    net: Option<&dyn NetAgentFactory>,
    m: &Map<String, Value>,
) -> Result<(Value, Option<Map<String, Value>>), String> {
    if let Some(extra) = m.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(format!(
            "unknown field `{extra}` (a request holds only {}; no field can carry another seat's cards)",
            FIELDS.join(", ")
        ));
    }
    let int = |name: &str| -> Result<u64, String> {
        m.get(name)
            .ok_or_else(|| format!("`{name}` is missing"))?
            .as_u64()
            .ok_or_else(|| format!("`{name}` must be a whole number >= 0"))
    };
    let players = int("players")?;
    let cards = int("cards")?;
    let dealer = int("dealer")?;
    let seat = int("seat")?;
    let trump = match m.get("trump") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.chars().count() == 1 => Some(
            Suit::from_letter(s.chars().next().expect("one char"))
                .ok_or_else(|| format!("`trump` {s:?} is not a suit letter (S, H, D or C)"))?,
        ),
        Some(other) => {
            return Err(format!(
                "`trump` must be a suit letter or null, not {other}"
            ));
        }
    };
    let config = RoundConfig::new(players, cards, trump, dealer)
        .map_err(|e| format!("players / cards / dealer: {e}"))?;
    let hand_list = m
        .get("hand")
        .ok_or("`hand` is missing")?
        .as_array()
        .ok_or("`hand` must be a list of cards such as \"QS\"")?;
    let mut hand = CardSet::EMPTY;
    for (i, c) in hand_list.iter().enumerate() {
        let card = card_of(c).map_err(|e| format!("hand[{i}]: {e}"))?;
        if hand.contains(card) {
            return Err(format!("hand[{i}]: {card} is listed twice"));
        }
        hand.insert(card);
    }
    let actions = m
        .get("actions")
        .map(|a| a.as_array().ok_or("`actions` must be a list"))
        .transpose()?
        .map(|a| a.as_slice())
        .unwrap_or(&[]);
    let actions = actions
        .iter()
        .enumerate()
        .map(|(i, a)| match a {
            Value::Number(n) => n
                .as_u64()
                .filter(|&b| b <= u8::MAX as u64)
                .map(|b| Action::Bid(b as u8))
                .ok_or_else(|| format!("actions[{i}]: the bid {n} is out of range")),
            Value::String(_) => card_of(a)
                .map(Action::Play)
                .map_err(|e| format!("actions[{i}]: {e}")),
            other => Err(format!(
                "actions[{i}]: {other} is neither a bid (a number) nor a card (text)"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let seed = match m.get("seed") {
        None | Some(Value::Null) => seed,
        Some(v) => v.as_u64().ok_or("`seed` must be a whole number >= 0")?,
    };
    let mut obs = Observation::from_public_actions(config, seat as usize, hand, &actions)
        .map_err(|e| e.to_string())?;
    if let Some(g) = m.get("game") {
        obs.game = Some(game_context(g, &config)?);
    }
    let agent = match m.get("simulations") {
        None | Some(Value::Null) => agent.clone(),
        Some(v) => with_budget(
            agent,
            v.as_u64()
                .filter(|&n| (1..=crate::agents::MAX_SIMULATIONS as u64).contains(&n))
                .ok_or_else(|| {
                    format!(
                        "`simulations` must be 1 to {}",
                        crate::agents::MAX_SIMULATIONS
                    )
                })? as usize,
        )?,
    };
    if obs.public.is_over() {
        return Err("the round is over: nothing to decide".into());
    }
    let to_act = obs.public.to_act();
    if to_act != obs.seat() {
        return Err(format!("seat {seat} is not to act: seat {to_act} is"));
    }
    let mut player = agent.build(seed, net).map_err(|e| format!("{e:#}"))?;
    let index = player.act(&obs);
    if !obs.legal_actions().contains(index) {
        return Err(format!(
            "{} chose action {index}, which is not legal here",
            player.name()
        ));
    }
    let text = |i: usize| match action_of(&obs, i) {
        Action::Bid(b) => b.to_string(),
        Action::Play(card) => card.to_string(),
    };
    let analysis = player.analysis().map(|a| {
        let mut extra = Map::new();
        let policy: Map<String, Value> =
            a.policy.iter().map(|&(i, p)| (text(i), json!(p))).collect();
        extra.insert("policy".into(), Value::Object(policy));
        extra.insert("value".into(), json!(a.values));
        extra.insert("simulations".into(), json!(a.simulations));
        extra
    });
    let action = match action_of(&obs, index) {
        Action::Bid(b) => json!(b),
        Action::Play(card) => json!(card.to_string()),
    };
    Ok((action, analysis))
}

/// The request line that asks for `obs`'s decision: the seat's hand as dealt (its hand now
/// and the cards it played) and every public action so far (bids in bidding order, then the
/// cards in play order). Single rounds only.
pub fn request_of(obs: &Observation, id: u64) -> Value {
    let pb = &obs.public;
    let p = pb.players();
    let mut dealt = obs.hand;
    let mut actions: Vec<Value> = Vec::new();
    for k in 1..=p {
        let s = (pb.dealer() + k) % p;
        if let Some(b) = pb.bid(s) {
            actions.push(json!(b));
        }
    }
    for (i, card) in pb.plays().iter().enumerate() {
        if pb.player_of_play(i) == obs.seat() {
            dealt.insert(*card);
        }
        actions.push(json!(card.to_string()));
    }
    let mut request = json!({
        "id": id,
        "players": p,
        "cards": pb.cards(),
        "trump": pb.trump().map(|t| t.letter().to_string()),
        "dealer": pb.dealer(),
        "seat": obs.seat(),
        "hand": dealt.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
        "actions": actions,
    });
    // In a game: the starting hand size whose schedule holds this round.
    if let Some(g) = obs.game {
        let r = g.round_index as usize;
        let start = (1..=52 / p as u64).find(|&s| {
            GameConfig::new(p as u64, s).is_ok_and(|gc| {
                gc.num_rounds() == g.num_rounds as usize
                    && gc.round_config(r).as_ref() == Some(pb.config())
            })
        });
        if let (Some(start), Some(r_obj)) = (start, request.as_object_mut()) {
            r_obj.insert(
                "game".into(),
                json!({"start_cards": start, "round": r, "totals": &g.totals[..p]}),
            );
        }
    }
    request
}

/// An external program that speaks this protocol, as a player (`cmd:PROGRAM ARGS`): started on
/// its first decision, asked one line per decision, restarted once if it has died. An error
/// answer, a dead program or an unreadable answer is reported through `Player::failure` (the
/// arena stops with it), never taken as a move.
pub struct CommandAgent {
    name: String,
    words: Vec<String>,
    process: Option<Process>,
    failure: Option<String>,
    asked: u64,
}

struct Process {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl CommandAgent {
    pub fn new(words: &[String]) -> CommandAgent {
        CommandAgent {
            name: format!("cmd:{}", words.join(" ")),
            words: words.to_vec(),
            process: None,
            failure: None,
            asked: 0,
        }
    }

    fn start(&self) -> Result<Process, String> {
        use std::process::{Command, Stdio};
        let mut child = Command::new(&self.words[0])
            .args(&self.words[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("cannot start {:?}: {e}", self.words[0]))?;
        let stdin = child.stdin.take().expect("piped");
        let stdout = std::io::BufReader::new(child.stdout.take().expect("piped"));
        Ok(Process {
            child,
            stdin,
            stdout,
        })
    }

    /// One request and its answer line, starting the program if needed.
    fn exchange(&mut self, request: &str) -> Result<String, String> {
        if self.process.is_none() {
            self.process = Some(self.start()?);
        }
        let process = self.process.as_mut().expect("started");
        writeln!(process.stdin, "{request}")
            .and_then(|_| process.stdin.flush())
            .map_err(|e| format!("cannot write to the program: {e}"))?;
        let mut line = String::new();
        match process.stdout.read_line(&mut line) {
            Ok(0) => Err("the program ended without answering".into()),
            Ok(_) => Ok(line),
            Err(e) => Err(format!("cannot read the program's answer: {e}")),
        }
    }

    fn ask(&mut self, obs: &Observation) -> Result<usize, String> {
        self.asked += 1;
        let request = request_of(obs, self.asked).to_string();
        let line = match self.exchange(&request) {
            Ok(line) => line,
            Err(first) => {
                // Restarted once: a program that died between decisions gets another chance.
                self.process = None;
                self.exchange(&request)
                    .map_err(|again| format!("{first}; restarted, then: {again}"))?
            }
        };
        let answer: Value = serde_json::from_str(&line)
            .map_err(|e| format!("its answer is not JSON ({e}): {:?}", line.trim()))?;
        if answer["ok"] != true {
            return Err(format!(
                "it answered with an error: {}",
                answer["error"].as_str().unwrap_or("(no message)")
            ));
        }
        let index = match &answer["action"] {
            Value::Number(n) => n.as_u64().map(|b| b as usize),
            Value::String(s) => s.parse::<Card>().ok().map(Card::index),
            _ => None,
        }
        .ok_or_else(|| format!("its action {} is not a bid or a card", answer["action"]))?;
        if !obs.legal_actions().contains(index) {
            return Err(format!(
                "it chose {}, which is not legal here",
                answer["action"]
            ));
        }
        Ok(index)
    }
}

impl game::Player for CommandAgent {
    fn act(&mut self, obs: &Observation) -> usize {
        match self.ask(obs) {
            Ok(index) => {
                self.failure = None;
                index
            }
            Err(why) => {
                self.failure = Some(why);
                usize::MAX
            }
        }
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn failure(&self) -> Option<String> {
        self.failure.clone()
    }
}

/// The game context of a request's `game` field: `{"start_cards": S, "round": R, "totals":
/// [...]}` (round counted from 0, totals of the rounds before it), checked against the
/// schedule of the rules: round R of a game from S cards deals the request's cards, trump and
/// dealer.
fn game_context(g: &Value, config: &RoundConfig) -> Result<GameContext, String> {
    let g = g
        .as_object()
        .ok_or("`game` must be an object with start_cards, round and totals")?;
    if let Some(extra) = g
        .keys()
        .find(|k| !["start_cards", "round", "totals"].contains(&k.as_str()))
    {
        return Err(format!("game: unknown field `{extra}`"));
    }
    let int = |name: &str| {
        g.get(name)
            .and_then(Value::as_u64)
            .ok_or_else(|| format!("game.{name} must be a whole number >= 0"))
    };
    let start = int("start_cards")?;
    let round = int("round")? as usize;
    let schedule = GameConfig::new(config.players() as u64, start)
        .map_err(|e| format!("game.start_cards: {e}"))?;
    let expected = schedule.round_config(round).ok_or_else(|| {
        format!(
            "game.round {round}: a game from {start} cards has {} rounds (counted from 0)",
            schedule.num_rounds()
        )
    })?;
    if expected != *config {
        return Err(format!(
            "game: round {round} of a game from {start} cards deals {} cards, trump {}, dealer {}; the request says {} cards, trump {}, dealer {}",
            expected.cards(),
            expected
                .trump()
                .map_or("none".into(), |t| t.letter().to_string()),
            expected.dealer(),
            config.cards(),
            config
                .trump()
                .map_or("none".into(), |t| t.letter().to_string()),
            config.dealer()
        ));
    }
    let list = g
        .get("totals")
        .and_then(Value::as_array)
        .ok_or("game.totals must be a list, one total per seat")?;
    if list.len() != config.players() {
        return Err(format!(
            "game.totals holds {} totals for {} seats",
            list.len(),
            config.players()
        ));
    }
    let mut totals = [0u16; MAX_PLAYERS];
    for (s, t) in list.iter().enumerate() {
        totals[s] = t
            .as_u64()
            .filter(|&t| t <= u16::MAX as u64)
            .ok_or_else(|| format!("game.totals[{s}] must be a whole number 0 to 65535"))?
            as u16;
    }
    Ok(GameContext {
        round_index: round as u8,
        num_rounds: schedule.num_rounds() as u8,
        totals,
    })
}

/// `agent` with a budget of `simulations` per decision (a network's preset keeps its worlds
/// and spreads the budget over them); agents that do not search refuse one.
fn with_budget(agent: &AgentSpec, simulations: usize) -> Result<AgentSpec, String> {
    Ok(match agent {
        AgentSpec::Rollout { .. } => AgentSpec::Rollout { simulations },
        AgentSpec::Ismcts { .. } => AgentSpec::Ismcts { simulations },
        AgentSpec::Net { checkpoint, preset } => {
            let mut preset = *preset;
            if preset.kind == mcts::SearchKind::Determinized {
                preset.simulations = simulations.div_ceil(preset.worlds.max(1)).max(1);
            } else {
                preset.simulations = simulations;
            }
            AgentSpec::Net {
                checkpoint: checkpoint.clone(),
                preset,
            }
        }
        other => return Err(format!("`simulations`: {other} does not search")),
    })
}

fn card_of(v: &Value) -> Result<Card, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("{v} is not a card (text such as \"QS\")"))?;
    s.parse::<Card>().map_err(|e| format!("{s:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    fn heuristic() -> AgentSpec {
        AgentSpec::Heuristic
    }

    fn ask(line: &str) -> Value {
        serde_json::from_str(&answer(&heuristic(), 1, None, line)).expect("one JSON answer")
    }

    const GOOD: &str = r#"{"id": 7, "players": 3, "cards": 2, "trump": "H", "dealer": 2, "seat": 0, "hand": ["AS", "2C"], "actions": []}"#;

    #[test]
    fn a_good_request_gets_a_legal_move() {
        let a = ask(GOOD);
        assert_eq!(a["id"], 7);
        assert_eq!(a["ok"], true, "{a}");
        assert!(a["action"].as_u64().is_some_and(|b| b <= 2), "a bid: {a}");
        // Later in the round: its card as text.
        let a = ask(
            r#"{"id": "x", "players": 3, "cards": 2, "trump": "H", "dealer": 2, "seat": 0, "hand": ["AS", "2C"], "actions": [1, 0, 0]}"#,
        );
        assert_eq!(a["ok"], true, "{a}");
        assert!(["AS", "2C"].contains(&a["action"].as_str().unwrap()), "{a}");
    }

    #[test]
    fn a_round_of_a_game_carries_its_context() {
        // The second round (index 1) of a 3-player game from 2 cards, as the rules schedule it.
        let schedule = GameConfig::new(3, 2).unwrap();
        let rc = schedule.round_config(1).unwrap();
        let mut round = game::Round::deal(rc, &mut game::rng_from_seed(2));
        let seat = round.to_act();
        let hand: Vec<String> = round.hand(seat).iter().map(|c| c.to_string()).collect();
        let line = json!({
            "id": 1, "players": 3, "cards": rc.cards(),
            "trump": rc.trump().map(|t| t.letter().to_string()),
            "dealer": rc.dealer(), "seat": seat, "hand": hand, "actions": [],
            "game": {"start_cards": 2, "round": 1, "totals": [10, 0, 11]},
        })
        .to_string();
        let a = ask(&line);
        assert_eq!(a["ok"], true, "{a}");
        round
            .apply_index(a["action"].as_u64().unwrap() as usize)
            .unwrap();
    }

    #[test]
    fn a_searching_agent_reports_its_policy_and_values() {
        let a: Value =
            serde_json::from_str(&answer(&"ismcts:64".parse().unwrap(), 1, None, GOOD)).unwrap();
        assert_eq!(a["ok"], true, "{a}");
        let policy = a["policy"].as_object().expect("a policy");
        let total: f64 = policy.values().map(|p| p.as_f64().unwrap()).sum();
        assert!((total - 1.0).abs() < 1e-4, "{a}");
        // The chosen move is the most visited one.
        let best = policy
            .iter()
            .max_by(|x, y| x.1.as_f64().partial_cmp(&y.1.as_f64()).unwrap())
            .unwrap()
            .0;
        assert_eq!(best, &a["action"].to_string(), "{a}");
        assert_eq!(a["value"].as_array().unwrap().len(), 3);
        assert_eq!(a["simulations"], 64);
        // A budget in the request replaces the spec's.
        let line = GOOD.replace(r#""actions": []"#, r#""actions": [], "simulations": 16"#);
        let a: Value =
            serde_json::from_str(&answer(&"ismcts:64".parse().unwrap(), 1, None, &line)).unwrap();
        assert_eq!(a["simulations"], 16, "{a}");
        // The heuristic does not search: no policy.
        assert!(ask(GOOD).get("policy").is_none());
    }

    #[test]
    fn bad_requests_name_the_field_or_the_rule() {
        for (line, says) in [
            ("not json", "not JSON"),
            ("[1, 2]", "one JSON object"),
            (r#"{"id": 1}"#, "`players` is missing"),
            (
                &GOOD.replace(r#""seat": 0"#, r#""seat": 1"#),
                "seat 1 is not to act",
            ),
            (
                &GOOD.replace(r#""trump": "H""#, r#""trump": "X""#),
                "suit letter",
            ),
            (&GOOD.replace(r#""AS""#, r#""KD", "QD""#), "holds 3 cards"),
            (
                &GOOD.replace(r#""actions": []"#, r#""actions": [5]"#),
                "action 0",
            ),
            (
                &GOOD.replace(r#""actions": []"#, r#""actions": [], "hands": [["KD"]]"#),
                "unknown field `hands`",
            ),
            (
                &GOOD.replace(r#""players": 3"#, r#""players": 9"#),
                "players",
            ),
            (
                &GOOD.replace(r#""actions": []"#, r#""actions": [], "simulations": 10"#),
                "heuristic does not search",
            ),
            (
                &GOOD.replace(
                    r#""actions": []"#,
                    r#""actions": [], "game": {"start_cards": 5, "round": 0, "totals": [0, 0, 0]}"#,
                ),
                "round 0 of a game from 5 cards deals 5 cards",
            ),
            (
                &GOOD.replace(
                    r#""actions": []"#,
                    r#""actions": [], "game": {"start_cards": 2, "round": 9, "totals": [0, 0, 0]}"#,
                ),
                "game.round 9",
            ),
        ] {
            let a = ask(line);
            assert_eq!(a["ok"], false, "{line}: {a}");
            let error = a["error"].as_str().unwrap();
            assert!(error.contains(says), "{line}: {error}");
        }
    }

    #[test]
    fn thousands_of_hostile_lines_each_get_one_well_formed_answer() {
        let mut rng = game::GameRng::seed_from_u64(3);
        let mut input = Vec::new();
        let mut sent = 0;
        for _ in 0..3000 {
            let mut bytes = GOOD.as_bytes().to_vec();
            match rng.random_range(0..4) {
                // Flip a few bytes (may break UTF-8, JSON, or a value).
                0 => {
                    for _ in 0..rng.random_range(1..4) {
                        let i = rng.random_range(0..bytes.len());
                        bytes[i] = rng.random();
                    }
                }
                // Cut it short.
                1 => bytes.truncate(rng.random_range(0..bytes.len())),
                // Swap two bytes.
                2 => {
                    let (i, j) = (
                        rng.random_range(0..bytes.len()),
                        rng.random_range(0..bytes.len()),
                    );
                    bytes.swap(i, j);
                }
                _ => {}
            }
            bytes.retain(|&b| b != b'\n');
            if String::from_utf8_lossy(&bytes).trim().is_empty() {
                continue;
            }
            input.extend_from_slice(&bytes);
            input.push(b'\n');
            sent += 1;
        }
        let mut out = Vec::new();
        serve(&heuristic(), 5, None, &input[..], &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let answers: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each answer is JSON"))
            .collect();
        assert_eq!(answers.len(), sent, "one answer per request line");
        assert!(answers.iter().all(|a| a["ok"].is_boolean()));
        assert!(answers.iter().any(|a| a["ok"] == true));
        assert!(answers.iter().any(|a| a["ok"] == false));
    }
}

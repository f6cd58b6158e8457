//! The replay tool on bad input: every fault is a result line with `ok: false` and a sentence
//! naming the problem, never a panic. Cases are built by breaking valid conformance cases.

mod replay_common;

use game::replay::replay_line;
use proptest::prelude::*;
use replay_common::{GAMES, ROUNDS, lines};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

fn replay(line: &str) -> Value {
    replay_line(line).to_value()
}

/// A valid round that plays to its end (the first such conformance case).
fn base_round() -> Value {
    valid_cases(ROUNDS)
        .into_iter()
        .next()
        .expect("a valid round")
}

/// The valid conformance game with the fewest rounds.
fn base_game() -> Value {
    valid_cases(GAMES)
        .into_iter()
        .min_by_key(|g| g["rounds"].as_array().map_or(usize::MAX, Vec::len))
        .expect("a valid game")
}

/// The conformance cases that play to their end (their `expect` removed).
fn valid_cases(file: &str) -> Vec<Value> {
    lines(file)
        .into_iter()
        .map(|l| serde_json::from_str::<Value>(l).expect("conformance line"))
        .filter(|c| c["expect"]["ok"] == json!(true))
        .map(|mut c| {
            c.as_object_mut().expect("object").remove("expect");
            c
        })
        .collect()
}

/// The result of a case that must fail: its `error` holds every word of `words`
/// (case-insensitive), and `error_at` / `error_round` are as given.
#[track_caller]
fn assert_fails(case: &Value, at: Option<usize>, round: Option<usize>, words: &[&str]) {
    let line = case.to_string();
    let r = replay(&line);
    assert_eq!(r["ok"], json!(false), "case {line}\nresult {r}");
    assert_eq!(r["error_at"], json!(at), "case {line}\nresult {r}");
    assert_eq!(
        r.get("error_round"),
        round.map(Value::from).as_ref(),
        "case {line}\nresult {r}"
    );
    let error = r["error"].as_str().unwrap_or_default().to_lowercase();
    for w in words {
        assert!(
            error.contains(&w.to_lowercase()),
            "error should name {w:?}: {r}"
        );
    }
}

fn with(mut case: Value, key: &str, value: Value) -> Value {
    case[key] = value;
    case
}

fn without(mut case: Value, key: &str) -> Value {
    case.as_object_mut().expect("object").remove(key);
    case
}

fn actions_len(case: &Value) -> usize {
    case["actions"].as_array().expect("actions").len()
}

// ---- lines that are not cases ----

#[test]
fn bad_json_is_a_failed_line_with_null_id() {
    for line in [
        r#"{"id": "x", "kind": "round""#,
        "{id: 1}",
        "not json",
        "{}}",
        "\u{0}",
    ] {
        let r = replay(line);
        assert_eq!(r["ok"], json!(false), "{line}");
        assert_eq!(r["id"], Value::Null, "{line}");
        assert_eq!(r["error_at"], Value::Null, "{line}");
        assert!(r["error"].as_str().unwrap().contains("JSON"), "{r}");
    }
}

#[test]
fn empty_and_blank_lines_fail() {
    for line in ["", " ", "\t  \r"] {
        let r = replay(line);
        assert_eq!(r["ok"], json!(false));
        assert_eq!(r["id"], Value::Null);
        assert!(r["error"].as_str().unwrap().contains("empty"), "{r}");
    }
}

#[test]
fn non_objects_fail() {
    for line in ["[1, 2]", "42", "\"round\"", "null", "true", "-1e400"] {
        let r = replay(line);
        assert_eq!(r["ok"], json!(false), "{line}");
        assert_eq!(r["id"], Value::Null);
        assert_eq!(r["error_at"], Value::Null);
        let e = r["error"].as_str().unwrap();
        assert!(e.contains("object") || e.contains("JSON"), "{r}");
    }
}

#[test]
fn id_is_echoed_as_given() {
    for id in [
        json!(7),
        json!(null),
        json!([1, {"a": 2}]),
        json!({"x": "y"}),
        json!("é"),
    ] {
        for case in [
            with(base_round(), "id", id.clone()),
            with(json!({}), "id", id.clone()),
        ] {
            assert_eq!(replay(&case.to_string())["id"], id);
        }
    }
    assert_eq!(
        replay(&without(base_round(), "id").to_string())["id"],
        Value::Null
    );
    assert_eq!(
        replay(&without(base_round(), "id").to_string())["ok"],
        json!(true)
    );
}

// ---- set-up fields ----

#[test]
fn missing_fields_are_named() {
    for key in [
        "kind", "players", "cards", "trump", "dealer", "hands", "actions",
    ] {
        assert_fails(&without(base_round(), key), None, None, &["missing", key]);
    }
    for key in ["kind", "players", "start_cards", "rounds"] {
        assert_fails(&without(base_game(), key), None, None, &["missing", key]);
    }
    for key in ["hands", "actions"] {
        let mut g = base_game();
        g["rounds"][0].as_object_mut().unwrap().remove(key);
        assert_fails(&g, None, Some(0), &["missing", key]);
    }
}

/// Values of every wrong JSON type, and numbers that are not a u64.
fn wrong_integers() -> Vec<Value> {
    vec![
        json!("3"),
        json!(3.0),
        json!(2.5),
        json!(null),
        json!(true),
        json!([3]),
        json!({"n": 3}),
        json!(-1),
        serde_json::from_str("1e30").unwrap(),
        serde_json::from_str("18446744073709551616").unwrap(),
    ]
}

#[test]
fn ill_typed_integer_fields_are_named() {
    for v in wrong_integers() {
        for key in ["players", "cards", "dealer"] {
            assert_fails(
                &with(base_round(), key, v.clone()),
                None,
                None,
                &[key, "integer"],
            );
        }
        for key in ["players", "start_cards"] {
            assert_fails(
                &with(base_game(), key, v.clone()),
                None,
                None,
                &[key, "integer"],
            );
        }
    }
}

#[test]
fn out_of_range_set_ups_are_named() {
    let round = base_round();
    let players = round["players"].as_u64().unwrap();
    for (key, v, word) in [
        ("players", json!(2), "players"),
        ("players", json!(9), "players"),
        ("players", json!(u64::MAX), "players"),
        ("cards", json!(0), "cards"),
        ("cards", json!(53), "cards"),
        ("cards", json!(u64::MAX), "cards"),
        ("dealer", json!(players), "dealer"),
        ("dealer", json!(u64::MAX), "dealer"),
    ] {
        assert_fails(&with(round.clone(), key, v), None, None, &[word]);
    }
    for (key, v) in [
        ("players", json!(9)),
        ("start_cards", json!(0)),
        ("start_cards", json!(27)),
    ] {
        assert_fails(&with(base_game(), key, v), None, None, &[key]);
    }
}

#[test]
fn bad_kind_and_trump_are_named() {
    assert_fails(
        &with(base_round(), "kind", json!("tournament")),
        None,
        None,
        &["kind", "tournament"],
    );
    assert_fails(&with(base_round(), "kind", json!(5)), None, None, &["kind"]);
    assert_fails(
        &with(base_round(), "kind", json!(null)),
        None,
        None,
        &["kind"],
    );
    for t in [
        json!("X"),
        json!("s"),
        json!("SH"),
        json!(""),
        json!("none"),
        json!(1),
        json!([]),
    ] {
        assert_fails(&with(base_round(), "trump", t), None, None, &["trump"]);
    }
}

#[test]
fn bad_hands_are_named() {
    let round = base_round();
    let hands = round["hands"].clone();
    let seat0 = hands[0].clone();
    let other_card = hands[1][0].clone();
    let mut more = hands.as_array().unwrap().clone();
    more.push(json!([]));
    let mut fewer = hands.as_array().unwrap().clone();
    fewer.pop();
    let mut short = seat0.as_array().unwrap().clone();
    short.pop();
    let mut long = seat0.as_array().unwrap().clone();
    long.push(json!("2D")); // not dealt in the base round? checked below
    assert!(!round["hands"].to_string().contains("\"2D\""));
    let set = |seat: usize, hand: Value| {
        let mut r = round.clone();
        r["hands"][seat] = hand;
        r
    };
    let cases = [
        (
            with(round.clone(), "hands", json!("AS")),
            &["hands", "array"][..],
        ),
        (with(round.clone(), "hands", json!({})), &["hands"][..]),
        (
            with(round.clone(), "hands", Value::Array(more)),
            &["hands"][..],
        ),
        (
            with(round.clone(), "hands", Value::Array(fewer)),
            &["hands"][..],
        ),
        (set(0, json!("AS")), &["hands[0]"][..]),
        (set(1, json!(null)), &["hands[1]"][..]),
        (set(0, Value::Array(short)), &["seat 0", "cards"][..]),
        (set(0, Value::Array(long)), &["seat 0", "cards"][..]),
        (set(0, json!([5, "2H"])), &["hands[0][0]", "card"][..]),
        (set(0, json!([null, "2H"])), &["hands[0][0]", "card"][..]),
        (set(0, json!(["XX", "2H"])), &["\"XX\"", "card"][..]),
        (set(0, json!(["10C", "2H"])), &["\"10C\"", "card"][..]),
        (set(2, json!([other_card, "4D"])), &["twice"][..]),
    ];
    for (case, words) in cases {
        assert_fails(&case, None, None, words);
    }
}

// ---- actions ----

#[test]
fn actions_that_are_not_bids_or_cards_fail_at_their_index() {
    let round = base_round();
    let mut wrong = vec![
        json!(null),
        json!(true),
        json!(1.0),
        json!(0.5),
        json!(-1),
        json!([0]),
        json!({"bid": 0}),
        serde_json::from_str("1e30").unwrap(),
        serde_json::from_str("18446744073709551616").unwrap(),
    ];
    wrong.extend(["XX", "", "10C", "as", "AS "].map(Value::from));
    for v in wrong {
        for k in [0, 3] {
            let mut r = round.clone();
            r["actions"][k] = v.clone();
            assert_fails(&r, Some(k), None, &[&format!("action {k}:")]);
        }
    }
}

#[test]
fn huge_bids_are_refused_not_truncated() {
    // Each of these becomes 0 or 1 if cut to a small integer type: a legal first bid here.
    for bid in [256u64, 257, 1 << 32, (1 << 32) + 1, u64::MAX] {
        let mut r = base_round();
        r["actions"][0] = json!(bid);
        assert_fails(
            &r,
            Some(0),
            None,
            &["action 0:", "out of range", &bid.to_string()],
        );
    }
}

#[test]
fn unknown_card_strings_are_named() {
    let mut r = base_round();
    let k = actions_len(&r) - 1;
    r["actions"][k] = json!("ZZ");
    assert_fails(
        &r,
        Some(k),
        None,
        &[&format!("action {k}:"), "\"ZZ\"", "card"],
    );
}

#[test]
fn actions_field_of_the_wrong_type_is_a_set_up_fault() {
    for v in [json!(null), json!("0 0 0"), json!({}), json!(3)] {
        assert_fails(&with(base_round(), "actions", v), None, None, &["actions"]);
    }
}

#[test]
fn every_short_prefix_stops_early_at_its_length() {
    let round = base_round();
    let all = round["actions"].as_array().unwrap().clone();
    for k in 0..all.len() {
        let case = with(round.clone(), "actions", Value::Array(all[..k].to_vec()));
        assert_fails(&case, Some(k), None, &["more actions were expected"]);
    }
}

#[test]
fn any_action_after_the_end_fails_at_its_index() {
    let round = base_round();
    let n = actions_len(&round);
    for extra in [json!(0), json!("AS"), json!("2C"), json!(null)] {
        let mut case = round.clone();
        case["actions"].as_array_mut().unwrap().push(extra);
        assert_fails(&case, Some(n), None, &[&format!("action {n}:")]);
    }
}

// ---- games ----

#[test]
fn games_with_the_wrong_number_of_rounds_are_set_up_faults() {
    let game = base_game();
    let rounds = game["rounds"].as_array().unwrap().clone();
    let mut fewer = rounds.clone();
    fewer.pop();
    let mut more = rounds.clone();
    more.push(rounds[0].clone());
    for r in [fewer, more, vec![]] {
        assert_fails(
            &with(game.clone(), "rounds", Value::Array(r)),
            None,
            None,
            &["rounds"],
        );
    }
    for v in [json!(null), json!({}), json!("r")] {
        assert_fails(&with(game.clone(), "rounds", v), None, None, &["rounds"]);
    }
}

#[test]
fn a_bad_round_in_a_game_names_its_index() {
    let game = base_game();
    let last = game["rounds"].as_array().unwrap().len() - 1;
    // A hand one card short in the last round.
    let mut g = game.clone();
    g["rounds"][last]["hands"][1].as_array_mut().unwrap().pop();
    assert_fails(&g, None, Some(last), &["round", "seat 1", "cards"]);
    // A round that is not an object.
    let mut g = game.clone();
    g["rounds"][last] = json!([1, 2]);
    assert_fails(&g, None, Some(last), &["round"]);
    // An illegal action: an action after the end of round 0.
    let mut g = game.clone();
    let n = actions_len(&g["rounds"][0]);
    g["rounds"][0]["actions"]
        .as_array_mut()
        .unwrap()
        .push(json!(0));
    assert_fails(&g, Some(n), Some(0), &[&format!("action {n}:")]);
    // Actions that stop early in the last round.
    let mut g = game;
    g["rounds"][last]["actions"].as_array_mut().unwrap().pop();
    let n = actions_len(&g["rounds"][last]);
    assert_fails(&g, Some(n), Some(last), &["more actions were expected"]);
}

// ---- the binary on bad input ----

#[test]
fn binary_keeps_one_line_per_input_line() {
    let input: &[u8] = b"\n{\"id\":1}\nnot json\n\xff\xfe\r\n[1]\r\n\n";
    let mut child = Command::new(env!("CARGO_BIN_EXE_blob-replay"))
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run blob-replay");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let results: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(results.len(), 6, "{text}");
    assert!(results.iter().all(|r| r["ok"] == json!(false)), "{text}");
    assert_eq!(results[1]["id"], json!(1));
    assert!(
        results[3]["error"].as_str().unwrap().contains("UTF-8"),
        "{text}"
    );
}

#[test]
fn binary_reports_a_missing_file_on_stderr() {
    let out = Command::new(env!("CARGO_BIN_EXE_blob-replay"))
        .arg("/nonexistent/transcript.jsonl")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("/nonexistent/transcript.jsonl"), "{err}");
}

#[test]
fn binary_explains_its_usage() {
    let out = Command::new(env!("CARGO_BIN_EXE_blob-replay"))
        .arg("--help")
        .output()
        .unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for word in ["Usage", "FILE", "standard input", "error_at"] {
        assert!(
            help.contains(word),
            "--help should mention {word:?}: {help}"
        );
    }
}

// ---- no input makes it panic ----

/// Any JSON value, with card-like strings and small integers common enough to get deep.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        (0u64..20).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        "[2-9TJQKA][SHCD]".prop_map(Value::from),
        "\\PC{0,4}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-z_]{1,8}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// How to break a case: replace or delete the node reached by `path`, or cut the line.
#[derive(Clone, Debug)]
enum Mutation {
    Replace(Vec<usize>, Value),
    Delete(Vec<usize>),
    Cut(usize),
}

fn arb_mutation() -> impl Strategy<Value = Mutation> {
    let path = prop::collection::vec(any::<usize>(), 1..6);
    prop_oneof![
        (path.clone(), arb_json()).prop_map(|(p, v)| Mutation::Replace(p, v)),
        path.prop_map(Mutation::Delete),
        any::<usize>().prop_map(Mutation::Cut),
    ]
}

/// The node reached by following `path` (each step picks a child modulo the count).
fn node<'a>(v: &'a mut Value, path: &[usize]) -> &'a mut Value {
    let n = match &*v {
        Value::Array(a) => a.len(),
        Value::Object(m) => m.len(),
        _ => 0,
    };
    let Some((&step, rest)) = path.split_first().filter(|_| n > 0) else {
        return v;
    };
    match v {
        Value::Array(a) => node(&mut a[step % n], rest),
        Value::Object(m) => node(m.values_mut().nth(step % n).expect("in range"), rest),
        other => other,
    }
}

fn mutate(line: &str, m: &Mutation) -> String {
    let mut case: Value = serde_json::from_str(line).expect("conformance line");
    match m {
        Mutation::Replace(path, v) => *node(&mut case, path) = v.clone(),
        Mutation::Delete(path) => {
            let (last, parent) = path.split_last().expect("non-empty path");
            match node(&mut case, parent) {
                Value::Array(a) if !a.is_empty() => {
                    let n = a.len();
                    a.remove(last % n);
                }
                Value::Object(o) if !o.is_empty() => {
                    let key = o.keys().nth(last % o.len()).cloned().expect("in range");
                    o.remove(&key);
                }
                _ => {}
            }
        }
        Mutation::Cut(at) => {
            let mut at = at % (line.len() + 1);
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            return line[..at].to_string();
        }
    }
    case.to_string()
}

/// Every result: an object with a boolean `ok`; a failure has a sentence and an `error_at`
/// that is null or an index.
fn assert_well_formed(line: &str) -> Result<(), TestCaseError> {
    let r = replay(line);
    let ok = r["ok"].as_bool();
    prop_assert!(ok.is_some(), "no boolean ok: {}", r);
    if ok == Some(false) {
        prop_assert!(r["error"].as_str().is_some_and(|e| !e.is_empty()), "{}", r);
        prop_assert!(r["error_at"].is_null() || r["error_at"].is_u64(), "{}", r);
    }
    if let Ok(Value::Object(o)) = serde_json::from_str::<Value>(line) {
        prop_assert_eq!(&r["id"], o.get("id").unwrap_or(&Value::Null));
    }
    Ok(())
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(line in "\\PC*") {
        assert_well_formed(&line)?;
    }

    #[test]
    fn arbitrary_json_never_panics(v in arb_json()) {
        assert_well_formed(&v.to_string())?;
    }

    #[test]
    fn mutated_conformance_cases_never_panic(
        pick in any::<prop::sample::Index>(),
        games in any::<bool>(),
        mutations in prop::collection::vec(arb_mutation(), 1..4),
    ) {
        let cases = lines(if games { GAMES } else { ROUNDS });
        let mut line = pick.get(&cases).to_string();
        for m in &mutations {
            if serde_json::from_str::<Value>(&line).is_err() {
                break;
            }
            line = mutate(&line, m);
        }
        assert_well_formed(&line)?;
    }
}

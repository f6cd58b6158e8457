//! Shared by the replay tests: the conformance files and the comparison with `expect`.
#![allow(dead_code)] // each test crate uses a different part

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;
use std::fmt;

pub const ROUNDS: &str = include_str!("../data/conformance/rounds.jsonl");
pub const GAMES: &str = include_str!("../data/conformance/games.jsonl");

pub fn path_of(name: &str) -> String {
    format!(
        "{}/tests/data/conformance/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The non-empty lines of a conformance file.
pub fn lines(file: &str) -> Vec<&str> {
    file.lines().filter(|l| !l.trim().is_empty()).collect()
}

/// Checks a replay result against the case's `expect`: equal on every field `expect` has, an
/// echoed id, a non-empty `error` exactly when not ok, and `error_round` only where expected.
/// On a mismatch, says which case and shows both values.
pub fn check(case_line: &str, result: &Value) -> Result<(), String> {
    let case: Value =
        serde_json::from_str(case_line).map_err(|e| format!("bad conformance line: {e}"))?;
    let id = &case["id"];
    let expect = case["expect"]
        .as_object()
        .ok_or_else(|| format!("case {id}: no \"expect\" object"))?;
    let fail = |why: String| {
        Err(format!(
            "case {id}: {why}\n  expect: {}\n  result: {result}",
            case["expect"]
        ))
    };
    let Some(got) = result.as_object() else {
        return fail("the result is not an object".into());
    };
    if got.get("id") != Some(id) {
        return fail(format!("id not echoed (got {:?})", got.get("id")));
    }
    for (key, want) in expect {
        if got.get(key) != Some(want) {
            return fail(format!("field {key:?} differs"));
        }
    }
    let ok = expect.get("ok").and_then(Value::as_bool);
    let error = got.get("error").and_then(Value::as_str);
    match ok {
        Some(false) if error.is_none_or(str::is_empty) => {
            return fail("ok is false but there is no error sentence".into());
        }
        Some(true) if got.contains_key("error") => {
            return fail("ok is true but there is an error".into());
        }
        _ => {}
    }
    if ok == Some(false) && got.contains_key("error_round") != expect.contains_key("error_round") {
        return fail("error_round present where not expected (or missing)".into());
    }
    Ok(())
}

/// The keys of a JSON object in the order they are written (`Value` would sort them).
pub fn key_order(line: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> Deserialize<'de> for Keys {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Keys, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some((k, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Keys>(line)
        .map(|k| k.0)
        .unwrap_or_default()
}

//! The arena end to end: it ranks agents of known strength correctly, is repeatable, and
//! refuses bad input before playing.

use clap::Parser;
use game::Observation;
use mcts::Preset;
use std::path::Path;
use std::time::{Duration, Instant};
use train::agents::{Agent, AgentSpec, HeuristicAgent};
use train::arena::{AgentStats, ArenaArgs, ArenaConfig, ArenaReport, Format, run_arena};

fn specs(list: &str) -> Vec<AgentSpec> {
    train::agents::parse_agent_list(list).unwrap()
}

fn rounds(agents: &str, deals: usize, players: usize, cards: usize) -> ArenaConfig {
    ArenaConfig {
        agents: specs(agents),
        format: Format::Rounds {
            deals,
            players: Some(players),
            cards: Some(cards),
        },
        seed: 7,
        threads: 2,
    }
}

fn stats<'a>(r: &'a ArenaReport, name: &str) -> &'a AgentStats {
    r.agents.iter().find(|a| a.name == name).unwrap()
}

/// `a` is ahead of `b` with confidence intervals that do not overlap, and rated higher.
fn assert_clearly_ahead(r: &ArenaReport, a: &str, b: &str) {
    let (x, y) = (stats(r, a), stats(r, b));
    let (cx, cy) = (x.ci95.unwrap(), y.ci95.unwrap());
    assert!(
        x.mean_score - cx > y.mean_score + cy,
        "{a} {:.2} ± {cx:.2} vs {b} {:.2} ± {cy:.2}",
        x.mean_score,
        y.mean_score
    );
    assert!(x.rating > y.rating, "{}", r.table());
}

#[test]
fn heuristic_beats_random() {
    let r = run_arena(&rounds("random,heuristic", 200, 4, 5), None).unwrap();
    assert_eq!(r.rounds, 200);
    assert_eq!(r.tables, 400);
    assert_clearly_ahead(&r, "heuristic", "random");
    let (h, x) = (stats(&r, "heuristic"), stats(&r, "random"));
    assert!(h.bid_made_rate > x.bid_made_rate + 0.1, "{}", r.table());
    // Each agent played every seat of every deal once: 4 rounds per deal.
    assert_eq!(h.rounds_played, 800);
    // Two agents, four seats: each table has 2 x 2 = 4 comparisons between them.
    assert_eq!(h.pair_wins + h.pair_draws + h.pair_losses, 1600);
    assert_eq!(h.pair_wins, x.pair_losses);
}

#[test]
fn rollout_search_beats_random() {
    let r = run_arena(&rounds("rollout:50,random", 40, 4, 3), None).unwrap();
    assert_clearly_ahead(&r, "rollout:50", "random");
}

#[test]
fn same_seed_same_report_whatever_the_threads() {
    let mut cfg = rounds("random,heuristic,random", 30, 5, 4);
    cfg.threads = 1;
    let one = run_arena(&cfg, None).unwrap();
    cfg.threads = 3;
    let three = run_arena(&cfg, None).unwrap();
    assert_eq!(one, three);
    assert_eq!(one.to_json(), three.to_json());
    cfg.seed += 1;
    assert_ne!(run_arena(&cfg, None).unwrap(), one);
}

#[test]
fn json_has_the_agreed_keys_in_order() {
    let r = run_arena(&rounds("random,heuristic", 5, 3, 2), None).unwrap();
    let json = r.to_json();
    assert!(
        json.starts_with("{\"rounds\":5,\"agents\":[{\"name\":\"random\","),
        "{json}"
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let agents = v["agents"].as_array().unwrap();
    assert_eq!(agents.len(), 2);
    let keys = ["name", "mean_score", "ci95", "bid_made_rate", "rating"];
    for (a, text) in agents.iter().zip(json.split("{\"name\":").skip(1)) {
        assert!(a["name"].is_string());
        for k in &keys[1..] {
            assert!(a[k].is_number(), "{k} in {a}");
        }
        // The agreed keys come first, in this order.
        let at: Vec<usize> = keys
            .iter()
            .map(|k| {
                text.find(&format!("\"{k}\":"))
                    .unwrap_or_else(|| if *k == "name" { 0 } else { usize::MAX })
            })
            .collect();
        assert!(at.windows(2).all(|w| w[0] < w[1]), "{text}");
    }
}

#[test]
fn games_mode_counts_games_won() {
    let cfg = ArenaConfig {
        agents: specs("heuristic,random"),
        format: Format::Games {
            games: 12,
            players: Some(3),
            start_cards: Some(3),
        },
        seed: 3,
        threads: 2,
    };
    let r = run_arena(&cfg, None).unwrap();
    // 2S - 2 + P = 7 rounds per game.
    assert_eq!(r.rounds, 12 * 7);
    assert_eq!(r.games, Some(12));
    let (h, x) = (stats(&r, "heuristic"), stats(&r, "random"));
    // Each agent holds every seat of every game once: 3 seat-games per game.
    assert_eq!(h.games_played, Some(36));
    assert_eq!(h.rounds_played, 36 * 7);
    assert!(h.games_won.unwrap() > x.games_won.unwrap(), "{}", r.table());
    assert!(h.games_won.unwrap() + x.games_won.unwrap() >= 24);
    assert!(r.to_json().contains("\"games_won\""));
    assert!(r.table().contains("games won"));
}

/// A stand-in network agent: the heuristic under another name.
fn fake_net(_: &Path, _: Preset, _: u64) -> anyhow::Result<Box<dyn Agent>> {
    Ok(Box::new(HeuristicAgent))
}

#[test]
fn net_agents_come_from_the_callers_factory() {
    let with_net = run_arena(&rounds("net:fake.ckpt,random", 20, 4, 3), Some(&fake_net)).unwrap();
    let plain = run_arena(&rounds("heuristic,random", 20, 4, 3), None).unwrap();
    assert_eq!(with_net.agents[0].name, "net:fake.ckpt:light");
    // Same seeds, same play: only the name differs.
    assert_eq!(with_net.agents[0].mean_score, plain.agents[0].mean_score);
    assert_eq!(with_net.agents[1], plain.agents[1]);
}

/// Always answers action 60, which does not exist.
struct Broken;
impl Agent for Broken {
    fn act(&mut self, _: &Observation) -> usize {
        60
    }
    fn name(&self) -> &str {
        "broken"
    }
}

#[test]
fn an_illegal_action_is_an_error_not_a_panic() {
    let broken =
        |_: &Path, _: Preset, _: u64| -> anyhow::Result<Box<dyn Agent>> { Ok(Box::new(Broken)) };
    let e = run_arena(&rounds("net:x,random", 10, 3, 2), Some(&broken)).unwrap_err();
    let msg = format!("{e:#}");
    assert!(msg.contains("broken") && msg.contains("not legal"), "{msg}");
}

#[test]
fn bad_specs_are_refused_with_the_spec_named() {
    for (spec, why) in [
        ("rollout:abc", "not a simulation count"),
        ("rollout:0", "at least 1"),
        ("foo", "unknown agent kind"),
        ("net:", "checkpoint path"),
    ] {
        let msg = spec.parse::<AgentSpec>().unwrap_err().to_string();
        assert!(msg.contains(spec) && msg.contains(why), "{msg}");
    }
}

#[derive(Parser)]
struct Cli {
    #[command(flatten)]
    arena: ArenaArgs,
}

fn parse(line: &str) -> Result<ArenaArgs, String> {
    Cli::try_parse_from(std::iter::once("arena").chain(line.split_whitespace()))
        .map(|c| c.arena)
        .map_err(|e| e.to_string())
}

#[test]
fn the_command_line_parses_and_checks() {
    let a = parse("--agents random,heuristic --rounds 200 --players 4 --cards 5 --json").unwrap();
    assert_eq!(a.agents, specs("random,heuristic"));
    assert!(a.json);
    let cfg = a.to_config().unwrap();
    assert_eq!(
        cfg.format,
        Format::Rounds {
            deals: 200,
            players: Some(4),
            cards: Some(5)
        }
    );
    assert_eq!(
        parse("--agents random,heuristic")
            .unwrap()
            .to_config()
            .unwrap()
            .format
            .units(),
        400
    );
    let e = parse("--agents random,rollout:abc").unwrap_err();
    assert!(e.contains("rollout:abc"), "{e}");
    assert!(parse("--agents random,heuristic --rounds 5 --games 5").is_err());
}

#[test]
fn bad_settings_are_refused_before_any_play() {
    for (line, why) in [
        (
            "--agents random,heuristic --rounds 0",
            "--rounds must be at least 1",
        ),
        (
            "--agents random,heuristic --games 0",
            "--games must be at least 1",
        ),
        (
            "--agents random,heuristic --players 9",
            "--players 9 is outside 3..=8",
        ),
        ("--agents random,heuristic --players 2", "outside 3..=8"),
        (
            "--agents random,heuristic --players 4 --cards 14",
            "at most 13",
        ),
        (
            "--agents random,heuristic --cards 0",
            "--cards must be at least 1",
        ),
        (
            "--agents random,heuristic --cards 18",
            "fits no player count",
        ),
        (
            "--agents random,heuristic --players 4 --cards 18446744073709551615",
            "at most 13",
        ),
        ("--agents random,heuristic --rounds 1000001", "more than"),
        (
            "--agents random,heuristic --games 3 --players 8 --start-cards 7",
            "at most 6",
        ),
        (
            "--agents random,heuristic --games 3 --cards 3",
            "--start-cards",
        ),
        ("--agents random,heuristic --start-cards 3", "with --games"),
        ("--agents random", "at least 2 agents"),
        ("--rounds 5", "at least 2 agents"),
        ("--agents random,heuristic --threads 0", "--threads"),
    ] {
        let e = parse(line).unwrap().to_config().unwrap_err().to_string();
        assert!(e.contains(why), "{line}: {e}");
    }
    // A net agent without a backend is refused at once, not after a million deals.
    let start = Instant::now();
    let cfg = rounds("random,net:ckpt", 1_000_000, 4, 5);
    let e = run_arena(&cfg, None).unwrap_err().to_string();
    assert!(e.contains("net agents need a network backend"), "{e}");
    assert!(start.elapsed() < Duration::from_secs(5));
    // The same checks guard the library entry point.
    let e = run_arena(&rounds("random,heuristic", 0, 4, 5), None).unwrap_err();
    assert!(e.to_string().contains("--rounds must be at least 1"));
}

#[test]
fn arena_main_runs() {
    let args = parse("--agents random,heuristic --rounds 3 --players 3 --cards 2 --json").unwrap();
    train::arena::arena_main(args).unwrap();
}

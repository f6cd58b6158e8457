//! The engine behind `cmd:`: our own engine as an external program plays exactly as the
//! in-process agent of the same spec, in the arena too; a program that fails is a clear error.

use game::{HeuristicBot, Player, RoundConfig, TRUMP_ROTATION, action_of, rng_from_seed};
use train::agents::{AgentSpec, parse_agent_list};
use train::arena::{ArenaConfig, Format, run_arena};

fn engine_spec(agent: &str) -> String {
    format!("cmd:{} engine --agent {agent}", env!("CARGO_BIN_EXE_train"))
}

#[test]
fn our_engine_as_a_program_makes_the_in_process_agents_moves() {
    let spec: AgentSpec = engine_spec("heuristic").parse().unwrap();
    let mut external = spec.build(1, None).unwrap();
    let mut inside = HeuristicBot;
    let mut rng = rng_from_seed(11);
    let mut decisions = 0;
    for deal in 0..30u64 {
        let p = 3 + deal % 4;
        let c = 1 + deal % 6;
        let cfg = RoundConfig::new(p, c, TRUMP_ROTATION[(deal % 5) as usize], deal % p).unwrap();
        let mut round = game::Round::deal(cfg, &mut rng);
        while !round.is_over() {
            let obs = round.observation(round.to_act());
            let a = external.act(&obs);
            assert_eq!(external.failure(), None);
            assert_eq!(a, inside.act(&obs), "deal {deal}: {obs:?}");
            round.apply(action_of(&obs, a)).unwrap();
            decisions += 1;
        }
    }
    assert!(decisions > 200);
}

#[test]
fn the_arena_plays_an_external_program() {
    let agents = parse_agent_list(&format!("{},heuristic", engine_spec("heuristic"))).unwrap();
    let cfg = ArenaConfig {
        agents,
        format: Format::Rounds {
            deals: 20,
            players: Some(4),
            cards: Some(3),
        },
        seed: 4,
        threads: 2,
    };
    let report = run_arena(&cfg, None).unwrap();
    // The same deterministic player on both sides: level, deal by deal.
    let (diff, _) = report.paired_difference(0, 1);
    assert_eq!(diff, 0.0);
}

#[test]
fn a_program_that_fails_stops_the_arena_with_its_reason() {
    for (program, says) in [
        ("cmd:true", "; restarted, then: "),
        ("cmd:/no/such/program", "cannot start"),
    ] {
        let agents = parse_agent_list(&format!("{program},heuristic")).unwrap();
        let cfg = ArenaConfig {
            agents,
            format: Format::Rounds {
                deals: 2,
                players: Some(3),
                cards: Some(2),
            },
            seed: 1,
            threads: 1,
        };
        let err = format!("{:#}", run_arena(&cfg, None).unwrap_err());
        assert!(err.contains(says), "{program}: {err}");
    }
}

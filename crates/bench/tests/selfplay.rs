//! The self-play benchmark end to end with a tiny network: a row comes out, and the CSV starts
//! with the peer's columns. No timed assertions: only that something was measured.

use bench::net::NetSpec;
use bench::selfplay::{self, PEER_COLUMNS, SelfplayCase};
use model::backend::DeviceKind;
use train::selfplay::Mode;

fn case() -> SelfplayCase {
    SelfplayCase {
        threads: 1,
        preset: "light".into(),
        mode: Mode::Rounds,
        count: 2,
        players: 4,
        cards: 5,
        start_cards: 5,
        net: NetSpec::parse("tiny").expect("tiny is a preset"),
        device: DeviceKind::Cpu,
        parallel_batch_size: 4,
        max_batch: 64,
        server_workers: 1,
        cache_entries: 0,
        pad_sizes: Vec::new(),
        peer_unit: false,
        batch_timeout_ms: 1.0,
        warmup: 1,
        in_flight: 2,
        seed: 7,
        burn_forward: false,
    }
}

#[test]
fn two_rounds_give_a_row_and_the_peer_columns_come_first() {
    let row = selfplay::run_case(&case()).expect("the benchmark runs");
    assert_eq!(row.num_rounds, 2);
    assert!(row.rounds_per_minute > 0.0);
    assert!(row.num_examples > 0);
    assert!(row.evaluations_per_sec > 0.0);
    assert!(row.mean_batch >= 1.0);
    assert_eq!(row.total_sims_per_move, 40);

    let mut out = Vec::new();
    selfplay::write_csv(&[row], &mut out).expect("CSV writes");
    let text = String::from_utf8(out).expect("UTF-8");
    let header: Vec<&str> = text.lines().next().expect("a header").split(',').collect();
    assert_eq!(&header[..PEER_COLUMNS.len()], &PEER_COLUMNS[..]);
    assert_eq!(text.lines().count(), 2);
}

#[test]
fn the_peers_unit_reports_twenty_searched_decisions_a_round() {
    let mut c = case();
    c.peer_unit = true;
    c.players = 3; // overridden: the peer's unit is 4 x 5
    let row = selfplay::run_case(&c).expect("the benchmark runs");
    assert!(row.peer_unit);
    assert_eq!(row.searched_per_round, 20.0);
    assert!(row.searched_per_minute > 0.0);
    let plain = selfplay::run_case(&case()).expect("the benchmark runs");
    assert!(!plain.peer_unit);
    assert!(
        plain.searched_per_round < 20.0,
        "{}",
        plain.searched_per_round
    );
}

#[test]
fn bad_input_is_an_error_naming_the_option() {
    let mut c = case();
    c.preset = "enormous".into();
    let e = selfplay::run_case(&c).unwrap_err().to_string();
    assert!(e.contains("--preset"), "{e}");

    let mut c = case();
    c.parallel_batch_size = 0;
    assert!(selfplay::run_case(&c).is_err());

    let mut c = case();
    c.device = DeviceKind::Cuda;
    if !cfg!(feature = "cuda") {
        let e = selfplay::run_case(&c).unwrap_err().to_string();
        assert!(e.contains("cuda"), "{e}");
    }

    assert!(NetSpec::parse("no/such/checkpoint.ckpt").is_err());
    assert_eq!(
        selfplay::header()[..PEER_COLUMNS.len()],
        PEER_COLUMNS.map(String::from)
    );
}

#[test]
fn the_cache_answers_some_requests_and_padding_is_reported() {
    let mut c = case();
    c.cache_entries = 1 << 14;
    c.pad_sizes = vec![16, 64];
    let row = selfplay::run_case(&c).expect("the benchmark runs");
    // light is 2 worlds: the second world's root is the first's, at least.
    assert!(row.cache_hit_rate > 0.0, "{}", row.cache_hit_rate);
    assert!(row.cache_hit_rate < 1.0);
    assert!(row.padded_share > 0.0 && row.padded_share < 1.0);
    let off = selfplay::run_case(&case()).expect("the benchmark runs");
    assert_eq!(off.cache_hit_rate, 0.0);
    assert_eq!(off.padded_share, 0.0);
}

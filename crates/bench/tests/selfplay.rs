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
        batch_timeout_ms: 1.0,
        warmup: 1,
        in_flight: 2,
        seed: 7,
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

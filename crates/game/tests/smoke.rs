use game::*;
use rand::RngExt;

#[test]
fn random_rounds_finish_with_tricks_summing_to_cards() {
    let mut rng = rng_from_seed(1);
    for p in 3..=8u64 {
        for c in 1..=(52 / p) {
            let cfg = RoundConfig::new(p, c, TRUMP_ROTATION[(c % 5) as usize], c % p).unwrap();
            let mut r = Round::deal(cfg, &mut rng);
            let mut steps = 0;
            while !r.is_over() {
                let legal = r.legal_actions();
                let k = legal.nth(rng.random_range(0..legal.len())).unwrap();
                r.apply_index(k).unwrap();
                steps += 1;
            }
            assert_eq!(steps, (p * c + p) as usize);
            let won: usize = (0..p as usize).map(|s| r.public().tricks_won(s)).sum();
            assert_eq!(won, c as usize);
        }
    }
}

//! The round keeps trick counters alongside the play list (so the hot path needs no division
//! by P); they must always agree with what the play list says.

use game::*;
use rand::RngExt;

#[test]
fn trick_counters_agree_with_the_play_list() {
    let mut rng = rng_from_seed(9);
    for p in 3..=8usize {
        for c in 1..=52 / p {
            let trump = TRUMP_ROTATION[c % 5];
            let cfg = RoundConfig::new(p as u64, c as u64, trump, (c % p) as u64).unwrap();
            let mut r = Round::deal(cfg, &mut rng);
            loop {
                let pb = r.public();
                let n = pb.plays().len();
                assert_eq!(pb.tricks_done(), n / p);
                for seat in 0..p {
                    assert_eq!(pb.hand_size(seat), r.hand(seat).len() as usize);
                }
                if r.is_over() {
                    assert_eq!(pb.current_trick().1, &[] as &[Card]);
                    break;
                }
                let (leader, cards) = pb.current_trick();
                assert_eq!(cards, &pb.plays()[n - n % p..]);
                assert_eq!(leader, pb.trick(n / p).0);
                assert_eq!(pb.led_suit(), cards.first().map(|c| c.suit()));
                let legal = r.legal_actions();
                let k = legal.nth(rng.random_range(0..legal.len())).unwrap();
                r.apply_index(k).unwrap();
            }
        }
    }
}

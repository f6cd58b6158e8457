//! The search's evaluators on top of the network: through the server and direct agree.

use game::{Round, RoundConfig, rng_from_seed};
use mcts::{SearchParams, search_blocking};
use model::backend::Cpu;
use model::evaluator::{DirectEvaluator, ServerEvaluator};
use model::server::{ServerConfig, spawn};
use model::{BlobNet, NetConfig, NetRunner};

#[test]
fn a_search_through_the_server_equals_a_direct_search() {
    let device = Default::default();
    let net = BlobNet::<Cpu>::new(&NetConfig::tiny(), &device).unwrap();
    let (handle, client) = spawn(NetRunner::new(net.clone(), device), ServerConfig::default());
    let mut through_server = ServerEvaluator::new(client);
    let mut direct = DirectEvaluator::new(NetRunner::new(net, Default::default()));
    let mut rng = rng_from_seed(3);
    for case in 0..6u64 {
        let cfg = RoundConfig::new(4, 4, None, case % 4).unwrap();
        let round = Round::deal(cfg, &mut rng);
        let obs = round.observation(round.to_act());
        let params = SearchParams::MEDIUM.with_batch(4);
        let a = search_blocking(&obs, &params, &mut through_server, case).unwrap();
        let b = search_blocking(&obs, &params, &mut direct, case).unwrap();
        assert_eq!(a, b, "case {case}");
        assert!(a.searched && a.simulations == 90);
    }
    assert!(through_server.error().is_none());
    drop(through_server);
    let stats = handle.join();
    assert!(stats.rows > 0);
}

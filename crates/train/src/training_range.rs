//! The table sizes a network learnt from (its run's `[deal]`, kept in the checkpoint), so
//! whoever plays it can say when a table lies outside them: a network trained on 3 to 5
//! players loses about a point a round to `ismcts:200` at 8 players (docs/training.md, "Off
//! the training range"), and nothing in its answers shows it.

use crate::selfplay::{DealConfig, Mode};
use model::checkpoint::Metadata;
use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

/// The metadata key of the self-play mode a network learnt from.
pub const SELFPLAY_MODE: &str = "selfplay_mode";
/// The metadata key of the `[deal]` its self-play drew set-ups from.
pub const DEAL: &str = "deal";

/// The self-play mode a checkpoint says its network learnt from, if it says.
pub fn selfplay_mode(meta: &Metadata) -> Option<Mode> {
    serde_json::from_value(meta.extra.get(SELFPLAY_MODE)?.clone()).ok()
}

/// What a network's self-play dealt.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingRange {
    pub mode: Mode,
    pub deal: DealConfig,
}

impl TrainingRange {
    /// The range a checkpoint records; `None` for checkpoints written before it was recorded
    /// (or by something other than a training run).
    pub fn from_metadata(meta: &Metadata) -> Option<TrainingRange> {
        let mode = selfplay_mode(meta)?;
        let deal = serde_json::from_value(meta.extra.get(DEAL)?.clone()).ok()?;
        Some(TrainingRange { mode, deal })
    }

    /// Whether self-play dealt rounds of `players` seats with `cards` cards each: in rounds
    /// mode a drawn player count with cards in `cards_min..=cards_max`; in games mode a drawn
    /// player count with cards from 1 up to the largest starting hand (a game's rounds go
    /// down to one card and back). Hand sizes are capped at 52 / players, as self-play caps
    /// them.
    pub fn covers(&self, players: usize, cards: usize) -> bool {
        let d = &self.deal;
        let (lo, hi) = match self.mode {
            Mode::Rounds => (d.cards_min, d.cards_max),
            Mode::Games => (1, d.start_cards_max),
        };
        d.players.contains(&players) && (lo..=hi.min(52 / players.max(1))).contains(&cards)
    }

    /// "3-5 players, 1-6 cards" (player counts listed when they are not a run).
    pub fn describe(&self) -> String {
        let mut p = self.deal.players.clone();
        p.sort_unstable();
        p.dedup();
        let players = match (p.first(), p.last()) {
            (Some(a), Some(b)) if b - a + 1 == p.len() && a != b => format!("{a}-{b}"),
            _ => p
                .iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let (lo, hi) = match self.mode {
            Mode::Rounds => (self.deal.cards_min, self.deal.cards_max),
            Mode::Games => (1, self.deal.start_cards_max),
        };
        let cards = if lo == hi {
            format!("{lo}")
        } else {
            format!("{lo}-{hi}")
        };
        format!("{players} players, {cards} cards")
    }

    /// The warning for a table of `players` x `cards` outside the range, if it is.
    pub fn warning(&self, network: &str, players: usize, cards: usize) -> Option<String> {
        (!self.covers(players, cards)).then(|| {
            let unit = if cards == 1 { "card" } else { "cards" };
            format!(
                "warning: {network} learnt from {} and has not seen {players} players with \
                 {cards} {unit}: expect weaker play there (docs/training.md, \"Off the \
                 training range\")",
                self.describe()
            )
        })
    }
}

/// Prints `range`'s warning for a table once per process and network (the arena builds many
/// agents of one network; an engine serves many requests).
pub fn warn_once(range: &TrainingRange, network: &str, players: usize, cards: usize) {
    static SAID: LazyLock<Mutex<HashSet<(String, usize, usize)>>> = LazyLock::new(Default::default);
    if range.covers(players, cards) {
        return;
    }
    let mut said = SAID.lock().unwrap_or_else(|e| e.into_inner());
    if said.insert((network.to_string(), players, cards))
        && let Some(w) = range.warning(network, players, cards)
    {
        eprintln!("{w}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(mode: Mode, players: Vec<usize>, cards: (usize, usize)) -> TrainingRange {
        TrainingRange {
            mode,
            deal: DealConfig {
                players,
                cards_min: cards.0,
                cards_max: cards.1,
                start_cards_min: 2,
                start_cards_max: 5,
            },
        }
    }

    #[test]
    fn rounds_mode_covers_its_player_counts_and_hand_sizes_only() {
        let r = range(Mode::Rounds, vec![3, 4, 5], (1, 6));
        assert!(r.covers(4, 5) && r.covers(3, 1) && r.covers(5, 6));
        assert!(!r.covers(6, 5), "a player count never dealt");
        assert!(!r.covers(4, 7), "a hand bigger than any dealt");
        assert!(r.warning("net:x", 4, 5).is_none());
        let w = r
            .warning("net:x", 8, 6)
            .expect("8 players were never dealt");
        assert!(
            w.contains("net:x") && w.contains("3-5 players, 1-6 cards"),
            "{w}"
        );
        assert!(w.contains("8 players with 6 cards"), "{w}");
        let one = r
            .warning("net:x", 6, 1)
            .expect("6 players were never dealt");
        assert!(one.contains("6 players with 1 card:"), "{one}");
        // Hands are capped at 52 / players, as self-play caps them.
        let wide = range(Mode::Rounds, vec![8], (1, 10));
        assert!(wide.covers(8, 6) && !wide.covers(8, 7));
    }

    #[test]
    fn games_mode_covers_every_hand_size_of_its_games() {
        let r = range(Mode::Games, vec![4], (1, 6));
        assert!(r.covers(4, 1) && r.covers(4, 5));
        assert!(!r.covers(4, 6), "no game started with more than 5 cards");
        assert_eq!(r.describe(), "4 players, 1-5 cards");
        assert_eq!(
            range(Mode::Rounds, vec![3, 5, 8], (2, 2)).describe(),
            "3, 5, 8 players, 2 cards"
        );
    }

    #[test]
    fn the_checkpoint_metadata_round_trips_and_old_checkpoints_have_none() {
        let cfg = crate::config::TrainConfig::default();
        let meta = crate::stages::checkpoint::metadata(7, &cfg);
        let r = TrainingRange::from_metadata(&meta).expect("a run records its range");
        assert_eq!(r.deal, cfg.deal);
        assert_eq!(r.mode, cfg.selfplay.mode);
        let old = Metadata {
            iteration: 7,
            extra: serde_json::json!({ SELFPLAY_MODE: "rounds" }),
        };
        assert_eq!(TrainingRange::from_metadata(&old), None);
    }
}

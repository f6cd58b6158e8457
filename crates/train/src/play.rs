//! `train play`: a person plays Blob in the terminal against AI seats (any arena spec).
//!
//! The session reads one line per decision: a bid as a number, a card as text (`QS`, `td`),
//! `?` for the legal moves, `q` to quit. Anything illegal is refused with the rule's reason and
//! asked again. It shows the hand sorted by suit (suits coloured on a terminal), the bids, the
//! trick under way with who played what, tricks won, the dealer's forbidden bid, and the scores;
//! a summary at the end. Input that ends early ends the session with an error, never a hang.

use crate::agents::{AgentSpec, NetAgentFactory};
use anyhow::{Context, Result, bail};
use game::{
    Action, Card, CardSet, Game, GameConfig, Observation, Phase, Player, Round, RoundConfig, Suit,
    TRUMP_ROTATION, action_of, rng_from_seed,
};
use rand::RngExt;
use std::io::{BufRead, Write};

/// What to play.
#[derive(Clone, Debug)]
pub struct PlayConfig {
    pub players: usize,
    /// Cards per hand of a single round; `None` plays a full game from `start_cards`.
    pub cards: Option<usize>,
    pub start_cards: usize,
    /// The person's seat.
    pub seat: usize,
    /// The AI at every other seat.
    pub ai: AgentSpec,
    pub seed: u64,
    /// Colour the suits (on a terminal).
    pub colour: bool,
}

enum Table {
    Round(Round),
    Game(Box<Game>),
}

impl Table {
    fn round(&self) -> &Round {
        match self {
            Table::Round(r) => r,
            Table::Game(g) => g.round(),
        }
    }

    fn observation(&self, seat: usize) -> Observation {
        match self {
            Table::Round(r) => r.observation(seat),
            Table::Game(g) => g.observation(seat),
        }
    }

    fn apply(&mut self, action: Action) -> Result<(), game::IllegalAction> {
        match self {
            Table::Round(r) => r.apply(action),
            Table::Game(g) => g.apply(action),
        }
    }
}

/// Plays one session, reading the person's moves from `input` and writing to `output`.
pub fn play(
    cfg: &PlayConfig,
    net: Option<&dyn NetAgentFactory>,
    mut input: impl BufRead,
    mut out: impl Write,
) -> Result<()> {
    let p = cfg.players;
    if cfg.seat >= p {
        bail!("--seat {} is not at a table of {p}", cfg.seat);
    }
    let mut rng = rng_from_seed(cfg.seed);
    let mut table = match cfg.cards {
        Some(c) => {
            let trump = TRUMP_ROTATION[rng.random_range(0..5)];
            let dealer = rng.random_range(0..p);
            let rc = RoundConfig::new(p as u64, c as u64, trump, dealer as u64)
                .context("--players / --cards")?;
            Table::Round(Round::deal(rc, &mut rng))
        }
        None => {
            let gc = GameConfig::new(p as u64, cfg.start_cards as u64)
                .context("--players / --start-cards")?;
            Table::Game(Box::new(Game::new(gc, &mut rng)))
        }
    };
    let mut ais: Vec<Option<Box<dyn Player>>> = (0..p)
        .map(|s| {
            (s != cfg.seat)
                .then(|| {
                    cfg.ai
                        .build(game::seeds::derive(cfg.seed, &[s as u64]), net)
                })
                .transpose()
        })
        .collect::<Result<_>>()?;
    let view = View {
        seat: cfg.seat,
        colour: cfg.colour,
        ai: cfg.ai.to_string(),
    };
    loop {
        let round = *table.round();
        for ai in ais.iter_mut().flatten() {
            ai.seated(p, round.public().cards());
        }
        writeln!(out, "\n{}", view.header(&round, &table))?;
        while !table.round().is_over() {
            let seat = table.round().to_act();
            let obs = table.observation(seat);
            let action = match &mut ais[seat] {
                Some(ai) => {
                    let a = ai.act(&obs);
                    if let Some(why) = ai.failure() {
                        bail!("the AI at seat {seat} failed: {why}");
                    }
                    action_of(&obs, a)
                }
                None => {
                    writeln!(out, "{}", view.situation(&obs))?;
                    ask(&view, &obs, &mut input, &mut out)?
                }
            };
            let before = *table.round().public();
            table
                .apply(action)
                .with_context(|| format!("seat {seat} chose {action}"))?;
            writeln!(
                out,
                "{}",
                view.told(seat, action, &before, table.round().public())
            )?;
        }
        let scores = table.round().scores().expect("the round is over");
        writeln!(out, "{}", view.round_end(table.round(), &scores))?;
        match &mut table {
            Table::Round(_) => break,
            Table::Game(g) => {
                writeln!(out, "{}", view.totals(g.totals()))?;
                if g.is_over() {
                    let winners = g.winners();
                    writeln!(
                        out,
                        "Game over. {}",
                        if winners.contains(&cfg.seat) {
                            "You win!".to_string()
                        } else {
                            format!("Won by seat {:?}.", winners)
                        }
                    )?;
                    break;
                }
                g.deal_next(&mut rng).context("dealing the next round")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Reads the person's move until it is legal.
fn ask(
    view: &View,
    obs: &Observation,
    input: &mut impl BufRead,
    out: &mut impl Write,
) -> Result<Action> {
    let bidding = obs.public.phase() == Phase::Bidding;
    loop {
        write!(
            out,
            "{}",
            if bidding { "Your bid> " } else { "Your card> " }
        )?;
        out.flush()?;
        let mut line = String::new();
        if input.read_line(&mut line)? == 0 {
            bail!("the input ended before the round did");
        }
        let text = line.trim();
        if text == "q" || text == "quit" {
            bail!("quit");
        }
        if text == "?" {
            writeln!(out, "legal: {}", view.legal(obs))?;
            continue;
        }
        let action = if bidding {
            match text.parse::<u64>() {
                Ok(b) if b <= u8::MAX as u64 => Action::Bid(b as u8),
                _ => {
                    writeln!(out, "A bid is a number (? lists the legal bids).")?;
                    continue;
                }
            }
        } else {
            match text.to_uppercase().parse::<Card>() {
                Ok(c) => Action::Play(c),
                Err(e) => {
                    writeln!(
                        out,
                        "{text:?} is not a card ({e}); ? lists your legal cards."
                    )?;
                    continue;
                }
            }
        };
        // The rules' own check, on a copy: the reason comes from the rules.
        let mut probe = Round::from_parts(obs.public, hands_with(obs));
        match probe.apply(action) {
            Ok(()) => return Ok(action),
            Err(e) => writeln!(out, "Not allowed: {e}.")?,
        }
    }
}

/// A round with only this seat's hand (others empty): enough for the rules to judge this
/// seat's own move.
fn hands_with(obs: &Observation) -> [CardSet; game::MAX_PLAYERS] {
    let mut hands = [CardSet::EMPTY; game::MAX_PLAYERS];
    hands[obs.seat()] = obs.hand;
    hands
}

struct View {
    seat: usize,
    colour: bool,
    ai: String,
}

impl View {
    fn who(&self, seat: usize) -> String {
        if seat == self.seat {
            "you".to_string()
        } else {
            format!("seat {seat}")
        }
    }

    fn card(&self, c: Card) -> String {
        let red = matches!(c.suit(), Suit::Hearts | Suit::Diamonds);
        if self.colour && red {
            format!("\x1b[31m{c}\x1b[0m")
        } else if self.colour {
            format!("\x1b[1m{c}\x1b[0m")
        } else {
            c.to_string()
        }
    }

    fn header(&self, round: &Round, table: &Table) -> String {
        let pb = round.public();
        let trump = pb
            .trump()
            .map_or("no trump".to_string(), |t| format!("{} trump", t.name()));
        let game = match table {
            Table::Game(g) => format!(
                "Round {} of {} | ",
                g.round_index() + 1,
                g.config().num_rounds()
            ),
            Table::Round(_) => String::new(),
        };
        format!(
            "{game}{} players, {} cards each, {trump}, {} deal{} | you are seat {}, the others play {}",
            pb.players(),
            pb.cards(),
            self.who(pb.dealer()),
            if pb.dealer() == self.seat { "" } else { "s" },
            self.seat,
            self.ai
        )
    }

    fn situation(&self, obs: &Observation) -> String {
        let pb = &obs.public;
        let mut s = String::new();
        let bids: Vec<String> = (0..pb.players())
            .map(|k| (pb.dealer() + 1 + k) % pb.players())
            .filter_map(|seat| pb.bid(seat).map(|b| format!("{} {b}", self.who(seat))))
            .collect();
        if !bids.is_empty() {
            s += &format!("Bids: {}\n", bids.join(", "));
        }
        if pb.phase() == Phase::Playing {
            let won: Vec<String> = (0..pb.players())
                .map(|seat| format!("{} {}", self.who(seat), pb.tricks_won(seat)))
                .collect();
            s += &format!("Tricks won: {}\n", won.join(", "));
            let (leader, cards) = pb.current_trick();
            if !cards.is_empty() {
                let plays: Vec<String> = cards
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| {
                        format!("{} {}", self.who((leader + i) % pb.players()), self.card(c))
                    })
                    .collect();
                s += &format!("Trick {}: {}\n", pb.tricks_done() + 1, plays.join(", "));
            } else {
                s += &format!("Trick {}: you lead\n", pb.tricks_done() + 1);
            }
        } else if let Some(f) = pb.forbidden_dealer_bid()
            && pb.dealer() == self.seat
        {
            s += &format!("You deal: you may not bid {f} (the bids may not add up to the cards)\n");
        }
        s += &format!("Your hand: {}", self.hand(obs.hand, pb.trump()));
        s
    }

    fn hand(&self, hand: CardSet, trump: Option<Suit>) -> String {
        let mut suits = vec![Suit::Spades, Suit::Hearts, Suit::Clubs, Suit::Diamonds];
        // Trump first.
        if let Some(t) = trump {
            suits.retain(|&s| s != t);
            suits.insert(0, t);
        }
        suits
            .into_iter()
            .filter(|&s| hand.has_suit(s))
            .map(|s| {
                let mut cards: Vec<Card> = hand.of_suit(s).iter().collect();
                cards.sort_by_key(|c| std::cmp::Reverse(c.rank()));
                cards
                    .iter()
                    .map(|&c| self.card(c))
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect::<Vec<_>>()
            .join("  |  ")
    }

    fn legal(&self, obs: &Observation) -> String {
        let legal = obs.legal_actions();
        (0..game::NUM_ACTIONS)
            .filter(|&i| legal.contains(i))
            .map(|i| match action_of(obs, i) {
                Action::Bid(b) => b.to_string(),
                Action::Play(c) => c.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn told(
        &self,
        seat: usize,
        action: Action,
        before: &game::PublicRound,
        after: &game::PublicRound,
    ) -> String {
        let who = self.who(seat);
        let mut s = match action {
            Action::Bid(b) => format!("{who} bid{} {b}", if seat == self.seat { "" } else { "s" }),
            Action::Play(c) => format!(
                "{who} play{} {}",
                if seat == self.seat { "" } else { "s" },
                self.card(c)
            ),
        };
        if after.tricks_done() > before.tricks_done() {
            let winner = (0..after.players())
                .find(|&w| after.tricks_won(w) > before.tricks_won(w))
                .expect("someone won the trick");
            s += &format!(
                " -- {} win{} the trick",
                self.who(winner),
                if winner == self.seat { "" } else { "s" }
            );
        }
        s
    }

    fn round_end(&self, round: &Round, scores: &[u8; game::MAX_PLAYERS]) -> String {
        let pb = round.public();
        let rows: Vec<String> = (0..pb.players())
            .map(|seat| {
                let bid = pb.bid(seat).unwrap_or(0);
                let won = pb.tricks_won(seat);
                format!(
                    "  {:<8} bid {bid}, won {won}: {} ({} points)",
                    self.who(seat),
                    if bid == won { "made" } else { "missed" },
                    scores[seat]
                )
            })
            .collect();
        format!("Round over.\n{}", rows.join("\n"))
    }

    fn totals(&self, totals: &[u16]) -> String {
        let rows: Vec<String> = totals
            .iter()
            .enumerate()
            .map(|(seat, t)| format!("{} {t}", self.who(seat)))
            .collect();
        format!("Totals: {}", rows.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use std::collections::VecDeque;
    use std::io::Read;
    use std::rc::Rc;

    /// What the session wrote so far, shared with the scripted person who reads it.
    #[derive(Clone, Default)]
    struct Screen(Rc<RefCell<Vec<u8>>>);

    impl Write for Screen {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// A person at the keyboard: first some hostile lines, then for every prompt `?` and the
    /// first legal move it lists.
    struct Person {
        screen: Screen,
        hostile: VecDeque<&'static str>,
        typed: usize,
    }

    impl Read for Person {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let line = if let Some(h) = self.hostile.pop_front() {
                h.to_string()
            } else {
                let text = String::from_utf8_lossy(&self.screen.0.borrow()).to_string();
                let last = text.lines().rev().nth(0).unwrap_or("");
                let before = text.lines().rev().nth(1).unwrap_or("");
                // Input is not echoed: `?` answered reads "Your card> legal: ..." and then the
                // prompt again.
                match before.split_once("legal: ") {
                    Some((_, moves)) if last.starts_with("Your") => {
                        moves.split(' ').next().unwrap_or("").to_string()
                    }
                    _ => "?".to_string(),
                }
            };
            self.typed += 1;
            assert!(self.typed < 500, "the session keeps asking");
            let line = format!("{line}\n");
            buf[..line.len()].copy_from_slice(line.as_bytes());
            Ok(line.len())
        }
    }

    fn cfg(cards: Option<usize>) -> PlayConfig {
        PlayConfig {
            players: 4,
            cards,
            start_cards: 2,
            seat: 1,
            ai: AgentSpec::Heuristic,
            seed: 3,
            colour: false,
        }
    }

    fn session(cfg: &PlayConfig, hostile: &[&'static str]) -> (Result<()>, String) {
        let screen = Screen::default();
        let person = Person {
            screen: screen.clone(),
            hostile: hostile.iter().copied().collect(),
            typed: 0,
        };
        let result = play(cfg, None, std::io::BufReader::new(person), screen.clone());
        let text = String::from_utf8_lossy(&screen.0.borrow()).to_string();
        (result, text)
    }

    #[test]
    fn a_scripted_round_is_played_to_the_end() {
        let (result, text) = session(&cfg(Some(5)), &["hello", "99", "?"]);
        result.unwrap();
        for shown in [
            "4 players, 5 cards each",
            "Your hand: ",
            "A bid is a number",
            "Not allowed: ",
            "legal: ",
            "Tricks won: ",
            "Round over.",
        ] {
            assert!(text.contains(shown), "{shown:?} missing in:\n{text}");
        }
        // Every seat bid once and played its five cards.
        let told = |verb: &str, own: &str| {
            text.lines()
                .filter(|l| {
                    l.contains(own) || (l.starts_with("seat ") && l.split(' ').nth(2) == Some(verb))
                })
                .count()
        };
        assert_eq!(told("bids", "you bid "), 4, "{text}");
        assert_eq!(told("plays", "you play "), 20, "{text}");
    }

    #[test]
    fn a_full_game_ends_with_totals_and_a_winner() {
        let (result, text) = session(&cfg(None), &[]);
        result.unwrap();
        assert!(text.contains("Round 6 of 6"), "{text}");
        assert!(
            text.contains("Totals: ") && text.contains("Game over."),
            "{text}"
        );
    }

    #[test]
    fn input_that_ends_early_is_an_error_not_a_hang() {
        let mut out = Vec::new();
        let err = play(&cfg(Some(3)), None, &b""[..], &mut out).unwrap_err();
        assert!(err.to_string().contains("input ended"), "{err}");
        let err = play(&cfg(Some(3)), None, &b"q\n"[..], &mut out).unwrap_err();
        assert!(err.to_string().contains("quit"), "{err}");
    }
}

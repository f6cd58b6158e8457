//! One round of Blob: deal, bidding, play, score. The rules of RULES.md live here and only here.
//!
//! A `Round` is a `PublicRound` (what every seat sees) plus the hands. Both are `Copy` and
//! small (about 200 bytes) because the search copies them millions of times.

use crate::action::{Action, ActionSet};
use crate::card::{Card, Suit};
use crate::cardset::CardSet;
use crate::setup::{MAX_CARDS, MAX_PLAYERS, RoundConfig, SetupError};
use rand::{Rng, RngExt};

/// Marks a seat that has not bid yet.
const NO_BID: u8 = u8::MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    Bidding,
    Playing,
    Over,
}

/// An action that the rules do not allow now. The message names the rule broken.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IllegalAction {
    #[error("the round is over: no more actions are taken")]
    RoundOver,
    #[error("bid {bid} is out of range: seat {seat} may bid 0..={max}")]
    BidOutOfRange { seat: usize, bid: u64, max: usize },
    #[error(
        "bid {bid} is forbidden [dealer-constraint]: the dealer (seat {seat}) may not make the bids sum to {cards}"
    )]
    DealerConstraint {
        seat: usize,
        bid: usize,
        cards: usize,
    },
    #[error("card {card} played during bidding: seat {seat} must bid")]
    CardDuringBidding { seat: usize, card: Card },
    #[error("bid {bid} made during play: seat {seat} must play a card")]
    BidDuringPlay { seat: usize, bid: u64 },
    #[error("seat {seat} does not hold {card} ({why})")]
    NotInHand {
        seat: usize,
        card: Card,
        why: &'static str,
    },
    #[error("action {index} is outside the 52-wide action space")]
    NotAnAction { index: usize },
    #[error("revoke [follow-suit]: seat {seat} holds {} and must follow suit", suit.name())]
    FollowSuit { seat: usize, card: Card, suit: Suit },
}

/// What every seat can see of a round: the set-up, the bids, every card played and by whom,
/// the voids shown, tricks won. No hand is in here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PublicRound {
    config: RoundConfig,
    phase: Phase,
    to_act: u8,
    bids: [u8; MAX_PLAYERS],
    tricks_won: [u8; MAX_PLAYERS],
    /// Bit s of `voids[seat]`: the seat failed to follow suit s, so holds none.
    voids: [u8; MAX_PLAYERS],
    /// Every card played so far, the current trick included.
    played: CardSet,
    /// Cards in play order; trick t is `plays[t*P .. (t+1)*P]`, led by `leaders[t]`.
    plays: [Card; 52],
    num_plays: u8,
    /// Completed tricks and cards in the trick in progress (`num_plays = tricks_done * P +
    /// in_trick`), kept so that playing a card needs no division by P.
    tricks_done: u8,
    in_trick: u8,
    leaders: [u8; MAX_CARDS],
}

/// The seat after `seat` (clockwise), without a division.
#[inline]
fn next_seat(seat: usize, players: usize) -> usize {
    if seat + 1 == players { 0 } else { seat + 1 }
}

impl PublicRound {
    pub(crate) fn new(config: RoundConfig) -> PublicRound {
        let first = ((config.dealer() + 1) % config.players()) as u8;
        PublicRound {
            config,
            phase: Phase::Bidding,
            to_act: first,
            bids: [NO_BID; MAX_PLAYERS],
            tricks_won: [0; MAX_PLAYERS],
            voids: [0; MAX_PLAYERS],
            played: CardSet::EMPTY,
            plays: [Card::default(); 52],
            num_plays: 0,
            tricks_done: 0,
            in_trick: 0,
            leaders: [first; MAX_CARDS],
        }
    }

    #[inline]
    pub fn config(&self) -> &RoundConfig {
        &self.config
    }
    #[inline]
    pub fn players(&self) -> usize {
        self.config.players()
    }
    #[inline]
    pub fn cards(&self) -> usize {
        self.config.cards()
    }
    #[inline]
    pub fn trump(&self) -> Option<Suit> {
        self.config.trump()
    }
    #[inline]
    pub fn dealer(&self) -> usize {
        self.config.dealer()
    }
    #[inline]
    pub fn phase(&self) -> Phase {
        self.phase
    }
    /// The seat to act (meaningless once the round is over).
    #[inline]
    pub fn to_act(&self) -> usize {
        self.to_act as usize
    }
    #[inline]
    pub fn is_over(&self) -> bool {
        self.phase == Phase::Over
    }

    /// The seat's bid, if it has bid.
    #[inline]
    pub fn bid(&self, seat: usize) -> Option<usize> {
        (self.bids[seat] != NO_BID).then_some(self.bids[seat] as usize)
    }

    /// Sum of the bids made so far.
    pub fn bid_sum(&self) -> usize {
        (0..self.players()).filter_map(|s| self.bid(s)).sum()
    }

    #[inline]
    pub fn tricks_won(&self, seat: usize) -> usize {
        self.tricks_won[seat] as usize
    }

    /// Suits the seat has shown it does not hold (bit s = suit index s).
    #[inline]
    pub fn voids(&self, seat: usize) -> u8 {
        self.voids[seat]
    }

    /// Every card played so far, the current trick included.
    #[inline]
    pub fn played(&self) -> CardSet {
        self.played
    }

    /// Cards in the order they were played.
    #[inline]
    pub fn plays(&self) -> &[Card] {
        &self.plays[..self.num_plays as usize]
    }

    /// Number of completed tricks.
    #[inline]
    pub fn tricks_done(&self) -> usize {
        self.tricks_done as usize
    }

    /// Trick `t` (completed or current): its leader and its cards in play order.
    pub fn trick(&self, t: usize) -> (usize, &[Card]) {
        let p = self.players();
        let start = (t * p).min(self.num_plays as usize);
        let end = ((t + 1) * p).min(self.num_plays as usize);
        (
            self.leaders[t.min(MAX_CARDS - 1)] as usize,
            &self.plays[start..end],
        )
    }

    /// The trick in progress: its leader and the cards played to it (empty between tricks).
    #[inline]
    pub fn current_trick(&self) -> (usize, &[Card]) {
        if self.phase == Phase::Over {
            return (self.to_act(), &[]);
        }
        let end = self.num_plays as usize;
        let start = end - self.in_trick as usize;
        (
            self.leaders[self.tricks_done as usize] as usize,
            &self.plays[start..end],
        )
    }

    /// The seat that played the `i`-th card of the play order.
    #[inline]
    pub fn player_of_play(&self, i: usize) -> usize {
        let p = self.players();
        (self.leaders[i / p] as usize + i % p) % p
    }

    /// Suit led in the current trick, if a card has been led.
    #[inline]
    pub fn led_suit(&self) -> Option<Suit> {
        // `in_trick` is 0 outside play.
        (self.in_trick != 0).then(|| self.plays[(self.num_plays - self.in_trick) as usize].suit())
    }

    /// Cards the seat still holds.
    pub fn hand_size(&self, seat: usize) -> usize {
        let p = self.players();
        let in_trick = self.in_trick as usize;
        let t = self.tricks_done as usize;
        let leader = self.leaders[t.min(MAX_CARDS - 1)] as usize;
        let played_this_trick = (seat + p - leader) % p < in_trick;
        self.cards() - t - played_this_trick as usize
    }

    /// The position (0 = leader) and seat of the card currently winning the trick.
    pub fn trick_winner_so_far(&self) -> Option<(usize, usize)> {
        let (leader, cards) = self.current_trick();
        let pos = winning_position(cards, self.trump())?;
        Some((pos, (leader + pos) % self.players()))
    }

    /// The bid the dealer may not make, if it lies in 0..=C [dealer-constraint].
    pub fn forbidden_dealer_bid(&self) -> Option<usize> {
        let others: usize = (0..self.players())
            .filter(|&s| s != self.dealer())
            .filter_map(|s| self.bid(s))
            .sum();
        self.cards().checked_sub(others)
    }

    /// The round score of each seat [exact-bid], once the round is over.
    pub fn scores(&self) -> Option<[u8; MAX_PLAYERS]> {
        (self.phase == Phase::Over).then(|| {
            std::array::from_fn(|s| {
                if s < self.players() && self.bids[s] == self.tricks_won[s] {
                    10 + self.bids[s]
                } else {
                    0
                }
            })
        })
    }

    /// The legal bids of the seat to act (an empty set outside bidding).
    fn legal_bids(&self) -> ActionSet {
        if self.phase != Phase::Bidding {
            return ActionSet::EMPTY;
        }
        let mut bits = (1u64 << (self.cards() + 1)) - 1;
        if self.to_act() == self.dealer()
            && let Some(f) = self.forbidden_dealer_bid()
        {
            bits &= !(1 << f);
        }
        ActionSet::from_bits(bits)
    }

    /// The legal actions of the seat to act if it holds `hand`.
    #[inline]
    pub fn legal_actions_with(&self, hand: CardSet) -> ActionSet {
        match self.phase {
            Phase::Bidding => self.legal_bids(),
            Phase::Playing => ActionSet::from_bits(self.legal_cards_with(hand).bits()),
            Phase::Over => ActionSet::EMPTY,
        }
    }

    /// The cards the seat to act may play if it holds `hand` [follow-suit].
    #[inline]
    pub fn legal_cards_with(&self, hand: CardSet) -> CardSet {
        if self.phase != Phase::Playing {
            return CardSet::EMPTY;
        }
        match self.led_suit() {
            Some(led) if hand.has_suit(led) => hand.of_suit(led),
            _ => hand,
        }
    }

    pub(crate) fn apply_bid(&mut self, bid: u64) -> Result<(), IllegalAction> {
        let seat = self.to_act();
        match self.phase {
            Phase::Over => return Err(IllegalAction::RoundOver),
            Phase::Playing => return Err(IllegalAction::BidDuringPlay { seat, bid }),
            Phase::Bidding => {}
        }
        if bid > self.cards() as u64 {
            return Err(IllegalAction::BidOutOfRange {
                seat,
                bid,
                max: self.cards(),
            });
        }
        let bid = bid as usize;
        if seat == self.dealer() && self.forbidden_dealer_bid() == Some(bid) {
            return Err(IllegalAction::DealerConstraint {
                seat,
                bid,
                cards: self.cards(),
            });
        }
        self.bids[seat] = bid as u8;
        if seat == self.dealer() {
            self.phase = Phase::Playing;
        }
        // The first bidder (left of the dealer) also leads the first trick.
        self.to_act = next_seat(seat, self.players()) as u8;
        Ok(())
    }

    /// Refuses `card` from the seat to act, holding `hand`, if it does not follow the led suit
    /// while the hand holds some [follow-suit]. The one place the rule is checked.
    #[inline]
    pub(crate) fn check_follows_suit(
        &self,
        hand: CardSet,
        card: Card,
    ) -> Result<(), IllegalAction> {
        match self.led_suit() {
            Some(led) if card.suit() != led && hand.has_suit(led) => {
                Err(IllegalAction::FollowSuit {
                    seat: self.to_act(),
                    card,
                    suit: led,
                })
            }
            _ => Ok(()),
        }
    }

    /// Records `card`, played by the seat to act in the playing phase, once the caller has
    /// checked it may be played: a void shown when it does not follow the led suit, the trick
    /// completed and won [trick-winner], the round over after the last trick. The one place
    /// a play changes what everyone sees (a full round and a seat's own account share it).
    #[inline]
    pub(crate) fn record_play(&mut self, card: Card) {
        let seat = self.to_act();
        if let Some(led) = self.led_suit()
            && card.suit() != led
        {
            self.voids[seat] |= 1 << led.index();
        }
        self.played.insert(card);
        self.plays[self.num_plays as usize] = card;
        self.num_plays += 1;
        self.in_trick += 1;
        let p = self.players();
        if (self.in_trick as usize) < p {
            self.to_act = next_seat(seat, p) as u8;
            return;
        }
        // Trick complete.
        let t = self.tricks_done as usize;
        let start = self.num_plays as usize - p;
        let pos = winning_position(&self.plays[start..start + p], self.config.trump())
            .expect("a complete trick has cards");
        // leader + pos < 2P: one subtraction instead of a division.
        let winner = self.leaders[t] as usize + pos;
        let winner = if winner >= p { winner - p } else { winner };
        self.tricks_won[winner] += 1;
        self.to_act = winner as u8;
        self.tricks_done += 1;
        self.in_trick = 0;
        if t + 1 == self.cards() {
            self.phase = Phase::Over;
        } else {
            self.leaders[t + 1] = winner as u8;
        }
    }
}

/// The position in `cards` (play order) of the winning card [trick-winner]: the highest trump
/// if any was played, else the highest card of the suit led.
#[inline]
pub fn winning_position(cards: &[Card], trump: Option<Suit>) -> Option<usize> {
    let led = cards.first()?.suit();
    let key = |c: Card| -> u8 {
        if Some(c.suit()) == trump {
            32 + c.rank()
        } else if c.suit() == led {
            16 + c.rank()
        } else {
            0
        }
    };
    // The best key is kept rather than recomputed at each comparison.
    let (mut best, mut best_key) = (0, key(cards[0]));
    for (i, &c) in cards.iter().enumerate().skip(1) {
        let k = key(c);
        if k > best_key {
            (best, best_key) = (i, k);
        }
    }
    Some(best)
}

/// A round with every hand: the full state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Round {
    public: PublicRound,
    hands: [CardSet; MAX_PLAYERS],
}

impl Round {
    /// Deals a round from `rng` (a uniformly random deal; undealt cards stay out of play).
    pub fn deal<R: Rng + ?Sized>(config: RoundConfig, rng: &mut R) -> Round {
        let mut deck: [u8; 52] = std::array::from_fn(|i| i as u8);
        let mut hands = [CardSet::EMPTY; MAX_PLAYERS];
        let n = config.players() * config.cards();
        // Partial Fisher-Yates: the first n places are a uniform sample, in random order.
        // Card i goes to seat i mod P.
        let mut seat = 0;
        for i in 0..n {
            let j = rng.random_range(i..52);
            deck.swap(i, j);
            hands[seat].insert(Card::from_index_unchecked(deck[i]));
            seat = next_seat(seat, config.players());
        }
        Round::from_parts(PublicRound::new(config), hands)
    }

    /// A round with the given hands (one per seat), checked: right count, right sizes, no
    /// card twice.
    pub fn with_hands(config: RoundConfig, hands: &[Vec<Card>]) -> Result<Round, SetupError> {
        let sets = config.check_hands(hands)?;
        Ok(Round::from_parts(PublicRound::new(config), sets))
    }

    /// Joins public information and hands, e.g. a sampled world. The caller guarantees the
    /// hands are consistent with the public state (sizes, voids, cards played).
    pub fn from_parts(public: PublicRound, hands: [CardSet; MAX_PLAYERS]) -> Round {
        Round { public, hands }
    }

    #[inline]
    pub fn public(&self) -> &PublicRound {
        &self.public
    }

    #[inline]
    pub fn hand(&self, seat: usize) -> CardSet {
        self.hands[seat]
    }

    #[inline]
    pub fn hands(&self) -> &[CardSet; MAX_PLAYERS] {
        &self.hands
    }

    #[inline]
    pub fn phase(&self) -> Phase {
        self.public.phase
    }

    #[inline]
    pub fn is_over(&self) -> bool {
        self.public.is_over()
    }

    #[inline]
    pub fn to_act(&self) -> usize {
        self.public.to_act()
    }

    pub fn scores(&self) -> Option<[u8; MAX_PLAYERS]> {
        self.public.scores()
    }

    /// The legal actions of the seat to act, as indices in the 52-wide action space.
    #[inline]
    pub fn legal_actions(&self) -> ActionSet {
        self.public
            .legal_actions_with(self.hands[self.public.to_act()])
    }

    /// The cards the seat to act may play [follow-suit] (empty outside play).
    #[inline]
    pub fn legal_cards(&self) -> CardSet {
        self.public
            .legal_cards_with(self.hands[self.public.to_act()])
    }

    /// The action with index `index` in the current phase (bid k, or card k).
    #[inline]
    pub fn action_from_index(&self, index: usize) -> Option<Action> {
        match self.public.phase {
            Phase::Bidding => u8::try_from(index).ok().map(Action::Bid),
            Phase::Playing => Card::new(u8::try_from(index).ok()?).map(Action::Play),
            Phase::Over => None,
        }
    }

    /// Applies the action with index `index` in the current phase.
    #[inline]
    pub fn apply_index(&mut self, index: usize) -> Result<(), IllegalAction> {
        match self.public.phase {
            Phase::Over => Err(IllegalAction::RoundOver),
            Phase::Bidding => self.public.apply_bid(index as u64),
            Phase::Playing => match Card::new(index.min(255) as u8) {
                Some(card) => self.play(card),
                None => Err(IllegalAction::NotAnAction { index }),
            },
        }
    }

    /// Applies one action, or says which rule it breaks (and leaves the round unchanged).
    #[inline]
    pub fn apply(&mut self, action: Action) -> Result<(), IllegalAction> {
        match action {
            Action::Bid(b) => self.public.apply_bid(b as u64),
            Action::Play(card) => self.play(card),
        }
    }

    /// Applies a bid given as any integer (out-of-range values are refused, not truncated).
    pub fn apply_bid(&mut self, bid: u64) -> Result<(), IllegalAction> {
        self.public.apply_bid(bid)
    }

    fn play(&mut self, card: Card) -> Result<(), IllegalAction> {
        let seat = self.public.to_act();
        match self.public.phase {
            Phase::Over => return Err(IllegalAction::RoundOver),
            Phase::Bidding => return Err(IllegalAction::CardDuringBidding { seat, card }),
            Phase::Playing => {}
        }
        let hand = self.hands[seat];
        if !hand.contains(card) {
            return Err(IllegalAction::NotInHand {
                seat,
                card,
                why: self.whereabouts(card),
            });
        }
        self.public.check_follows_suit(hand, card)?;
        self.hands[seat].remove(card);
        self.public.record_play(card);
        Ok(())
    }

    /// Why the seat to act does not hold `card` (for error messages).
    fn whereabouts(&self, card: Card) -> &'static str {
        if self.public.played.contains(card) {
            "it was already played"
        } else if self.hands.iter().any(|h| h.contains(card)) {
            "another seat holds it"
        } else {
            "it was never dealt"
        }
    }
}

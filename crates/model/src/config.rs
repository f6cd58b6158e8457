//! The network's shape: [`NetConfig`], its presets, and its size and cost computed from it.
//!
//! The body is a residual MLP (see [`crate::net`]). Presets:
//! - `compact`: the default for training on a 2-core CPU: half the cost of `small`, so
//!   twice the self-play in the same time, which learns faster there (docs/training.md).
//! - `small`: the default of the benchmarks, cheap enough that self-play on 2 cores is not
//!   network-bound.
//! - `peer`: the peer's size and cost (its 4,917,301-parameter network, about 9.8 MFLOP per
//!   position; see `shared/PEER.md`), so speed comparisons are like for like.
//! - `tiny`: for tests only.

use std::fmt;
use std::str::FromStr;

use game::{ENCODING_LEN, MAX_PLAYERS, NUM_ACTIONS};
use mcts::value::TRICK_CLASSES;
use serde::{Deserialize, Serialize};

/// The nonlinearity inside each residual block.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// max(0, x): the cheapest.
    Relu,
    /// Exact (erf) GELU.
    Gelu,
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Activation::Relu => "relu",
            Activation::Gelu => "gelu",
        })
    }
}

impl FromStr for Activation {
    type Err = ConfigError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "relu" => Ok(Activation::Relu),
            "gelu" => Ok(Activation::Gelu),
            other => Err(ConfigError::UnknownActivation(other.to_string())),
        }
    }
}

/// The shape of a [`crate::net::BlobNet`]. Saved in every checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetConfig {
    /// Input features: must be `game::ENCODING_LEN` (256).
    pub input: usize,
    /// Width of the residual stream.
    pub width: usize,
    /// Number of residual blocks (0 is allowed: projection, norm and heads only).
    pub blocks: usize,
    /// Hidden width inside each block.
    pub hidden: usize,
    /// Pre-norm LayerNorm in each block and before the heads.
    pub layer_norm: bool,
    pub activation: Activation,
    /// Policy logits: must be `game::NUM_ACTIONS` (52).
    pub policy_outputs: usize,
    /// Values, one per seat relative to the mover: must be `game::MAX_PLAYERS` (8).
    pub value_outputs: usize,
    /// The auxiliary tricks head: for each seat relative to the mover, logits over the tricks
    /// it still wins from here to the end of the round (0..=17): `TRICK_OUTPUTS`, or 0 for
    /// none (checkpoints from before the head read as 0).
    #[serde(default)]
    pub trick_outputs: usize,
    /// The search's value of a seat that has bid comes from its tricks distribution
    /// (`mcts::value::value_from_tricks`) rather than the value head. Needs the tricks head.
    #[serde(default)]
    pub values_from_tricks: bool,
    /// The auxiliary owners head, trained only (inference never computes it): for each of
    /// the 52 cards, logits over who holds it, relative to the mover (class 0: nobody, k:
    /// the seat k places to the left): `OWNER_OUTPUTS`, or 0 for none.
    #[serde(default)]
    pub owner_outputs: usize,
}

/// Width of the tricks head: one distribution over 0..=17 tricks per seat.
pub const TRICK_OUTPUTS: usize = MAX_PLAYERS * TRICK_CLASSES;

/// Classes of the owners head per card: nobody (undealt), or one of the 7 other seats.
pub const OWNER_CLASSES: usize = MAX_PLAYERS;

/// Width of the owners head: one distribution over [`OWNER_CLASSES`] per card.
pub const OWNER_OUTPUTS: usize = NUM_ACTIONS * OWNER_CLASSES;

/// Names accepted by [`NetConfig::preset`].
pub const PRESETS: [&str; 4] = ["compact", "small", "peer", "tiny"];

/// Bounds that keep a bad config (say, a corrupt file) from asking for absurd memory.
const MAX_WIDTH: usize = 16_384;
const MAX_BLOCKS: usize = 256;

/// FLOP counted per LayerNorm element (mean, variance, normalise, scale, shift).
const LAYER_NORM_FLOP: u64 = 8;

/// A config that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("unknown network preset `{0}` (known: {known})", known = PRESETS.join(", "))]
    UnknownPreset(String),
    #[error("unknown activation `{0}` (known: relu, gelu)")]
    UnknownActivation(String),
    #[error("network config: `{field}` is {value}, but {rule}")]
    Invalid {
        field: &'static str,
        value: usize,
        rule: String,
    },
}

impl Default for NetConfig {
    fn default() -> Self {
        NetConfig::small()
    }
}

impl NetConfig {
    /// A residual MLP with the fixed input and output sizes of this game.
    pub fn mlp(width: usize, blocks: usize, hidden: usize) -> NetConfig {
        NetConfig {
            input: ENCODING_LEN,
            width,
            blocks,
            hidden,
            layer_norm: true,
            activation: Activation::Relu,
            policy_outputs: NUM_ACTIONS,
            value_outputs: MAX_PLAYERS,
            trick_outputs: 0,
            values_from_tricks: false,
            owner_outputs: 0,
        }
    }

    /// The same network with the auxiliary owners head (see `owner_outputs`).
    pub fn with_owner_head(mut self, on: bool) -> NetConfig {
        self.owner_outputs = if on { OWNER_OUTPUTS } else { 0 };
        self
    }

    pub fn has_owner_head(&self) -> bool {
        self.owner_outputs > 0
    }

    /// The same network with the auxiliary tricks head (see `trick_outputs`).
    pub fn with_trick_head(mut self, on: bool) -> NetConfig {
        self.trick_outputs = if on { TRICK_OUTPUTS } else { 0 };
        self
    }

    /// Values of seats that have bid from the tricks head (see `values_from_tricks`).
    pub fn with_values_from_tricks(mut self, on: bool) -> NetConfig {
        self.values_from_tricks = on;
        self
    }

    pub fn has_trick_head(&self) -> bool {
        self.trick_outputs > 0
    }

    /// The training default on a small CPU: 2 blocks of width 128 and hidden 256, 173,244
    /// parameters. About twice as fast as `small` in self-play and training; at equal time it
    /// learned faster (docs/training.md).
    pub fn compact() -> NetConfig {
        NetConfig::mlp(128, 2, 256)
    }

    /// The benchmarks' default: 2 blocks of width 256 and hidden 512 (see docs/model.md).
    pub fn small() -> NetConfig {
        NetConfig::mlp(256, 2, 512)
    }

    /// The peer's size and cost: width 1024, 2 blocks of hidden 1120, 4,922,620 parameters
    /// (peer: 4,917,301), about 9.8 MFLOP per position.
    pub fn peer() -> NetConfig {
        NetConfig::mlp(1024, 2, 1120)
    }

    /// For tests: tiny and fast in debug builds.
    pub fn tiny() -> NetConfig {
        NetConfig::mlp(32, 1, 32)
    }

    /// A preset by name (see [`PRESETS`]).
    pub fn preset(name: &str) -> Result<NetConfig, ConfigError> {
        match name {
            "compact" => Ok(NetConfig::compact()),
            "small" => Ok(NetConfig::small()),
            "peer" => Ok(NetConfig::peer()),
            "tiny" => Ok(NetConfig::tiny()),
            other => Err(ConfigError::UnknownPreset(other.to_string())),
        }
    }

    /// Checks that a network can be built from this config and served by
    /// [`crate::server`] (whose rows are 256 inputs, 52 actions, 8 values).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let exact = |field, value: usize, want: usize, why: &str| {
            if value == want {
                Ok(())
            } else {
                Err(ConfigError::Invalid {
                    field,
                    value,
                    rule: format!("it must be {want} ({why})"),
                })
            }
        };
        let within = |field, value: usize, min: usize, max: usize| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError::Invalid {
                    field,
                    value,
                    rule: format!("it must be between {min} and {max}"),
                })
            }
        };
        exact("input", self.input, ENCODING_LEN, "the encoding's length")?;
        within("width", self.width, 1, MAX_WIDTH)?;
        within("blocks", self.blocks, 0, MAX_BLOCKS)?;
        within("hidden", self.hidden, 1, MAX_WIDTH)?;
        exact(
            "policy_outputs",
            self.policy_outputs,
            NUM_ACTIONS,
            "the action space",
        )?;
        exact(
            "value_outputs",
            self.value_outputs,
            MAX_PLAYERS,
            "one value per seat",
        )?;
        if self.trick_outputs != 0 {
            exact(
                "trick_outputs",
                self.trick_outputs,
                TRICK_OUTPUTS,
                "0..=17 tricks for each of 8 seats, or 0 for no tricks head",
            )?;
        }
        if self.owner_outputs != 0 {
            exact(
                "owner_outputs",
                self.owner_outputs,
                OWNER_OUTPUTS,
                "8 classes for each of 52 cards, or 0 for no owners head",
            )?;
        }
        if self.values_from_tricks && !self.has_trick_head() {
            return Err(ConfigError::Invalid {
                field: "values_from_tricks",
                value: 1,
                rule: "values can only come from a tricks head: set trick_outputs".into(),
            });
        }
        Ok(())
    }

    /// Trainable parameters (weights and biases, LayerNorm gains and shifts).
    pub fn parameter_count(&self) -> u64 {
        let (i, w, h) = (self.input as u64, self.width as u64, self.hidden as u64);
        let linear = |a: u64, b: u64| a * b + b;
        let norm = if self.layer_norm { 2 * w } else { 0 };
        let block = norm + linear(w, h) + linear(h, w);
        linear(i, w)
            + self.blocks as u64 * block
            + norm
            + linear(w, self.policy_outputs as u64)
            + linear(w, self.value_outputs as u64)
            + if self.trick_outputs > 0 {
                linear(w, self.trick_outputs as u64)
            } else {
                0
            }
            + if self.owner_outputs > 0 {
                linear(w, self.owner_outputs as u64)
            } else {
                0
            }
    }

    /// Floating-point operations of one position's forward pass: 2 per multiply-add and 1
    /// per bias element in the linear layers, 1 per residual add, 8 per LayerNorm element.
    /// Activations, tanh and the softmax are not counted (under 1% with ReLU). The owners
    /// head is not counted: inference never computes it.
    pub fn flops_per_position(&self) -> u64 {
        let (i, w, h) = (self.input as u64, self.width as u64, self.hidden as u64);
        let linear = |a: u64, b: u64| 2 * a * b + b;
        let norm = if self.layer_norm {
            LAYER_NORM_FLOP * w
        } else {
            0
        };
        let block = norm + linear(w, h) + linear(h, w) + w;
        linear(i, w)
            + self.blocks as u64 * block
            + norm
            + linear(w, self.policy_outputs as u64)
            + linear(w, self.value_outputs as u64)
            + if self.trick_outputs > 0 {
                linear(w, self.trick_outputs as u64)
            } else {
                0
            }
    }

    /// The fields where `other` differs from `self`, as `field: self vs other` lines.
    pub fn differences(&self, other: &NetConfig) -> Vec<String> {
        let mut out = Vec::new();
        let mut cmp = |field: &str, a: String, b: String| {
            if a != b {
                out.push(format!("{field}: {a} vs {b}"));
            }
        };
        cmp("input", self.input.to_string(), other.input.to_string());
        cmp("width", self.width.to_string(), other.width.to_string());
        cmp("blocks", self.blocks.to_string(), other.blocks.to_string());
        cmp("hidden", self.hidden.to_string(), other.hidden.to_string());
        cmp(
            "layer_norm",
            self.layer_norm.to_string(),
            other.layer_norm.to_string(),
        );
        cmp(
            "activation",
            self.activation.to_string(),
            other.activation.to_string(),
        );
        cmp(
            "policy_outputs",
            self.policy_outputs.to_string(),
            other.policy_outputs.to_string(),
        );
        cmp(
            "value_outputs",
            self.value_outputs.to_string(),
            other.value_outputs.to_string(),
        );
        cmp(
            "trick_outputs",
            self.trick_outputs.to_string(),
            other.trick_outputs.to_string(),
        );
        cmp(
            "values_from_tricks",
            self.values_from_tricks.to_string(),
            other.values_from_tricks.to_string(),
        );
        cmp(
            "owner_outputs",
            self.owner_outputs.to_string(),
            other.owner_outputs.to_string(),
        );
        out
    }
}

impl fmt::Display for NetConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "width {} x {} blocks (hidden {}), {}, layer norm {}{}{}",
            self.width,
            self.blocks,
            self.hidden,
            self.activation,
            if self.layer_norm { "on" } else { "off" },
            match (self.has_trick_head(), self.values_from_tricks) {
                (true, true) => ", tricks head (values from it)",
                (true, false) => ", tricks head",
                _ => "",
            },
            if self.has_owner_head() {
                ", owners head"
            } else {
                ""
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_are_valid_and_unknown_names_are_refused() {
        for name in PRESETS {
            NetConfig::preset(name).unwrap().validate().unwrap();
        }
        let err = NetConfig::preset("huge").unwrap_err();
        assert!(err.to_string().contains("`huge`"), "{err}");
    }

    #[test]
    fn compact_preset_costs_under_half_of_small() {
        let (compact, small) = (NetConfig::compact(), NetConfig::small());
        assert_eq!(compact.parameter_count(), 173_244);
        assert!(compact.flops_per_position() * 2 < small.flops_per_position());
        assert_eq!(NetConfig::preset("compact").unwrap(), compact);
    }

    #[test]
    fn peer_preset_matches_the_peer_size() {
        let peer = NetConfig::peer();
        assert_eq!(peer.parameter_count(), 4_922_620);
        // Within 1% of the peer's 4,917,301 parameters and 9.8 MFLOP.
        assert!((peer.parameter_count() as f64 / 4_917_301.0 - 1.0).abs() < 0.01);
        assert!((peer.flops_per_position() as f64 / 9.8e6 - 1.0).abs() < 0.01);
    }

    #[test]
    fn validate_names_the_bad_field() {
        let mut c = NetConfig::tiny();
        c.width = 0;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("`width` is 0")
        );
        let mut c = NetConfig::tiny();
        c.input = 255;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("`input` is 255")
        );
        let mut c = NetConfig::tiny();
        c.value_outputs = 1;
        assert!(
            c.validate()
                .unwrap_err()
                .to_string()
                .contains("`value_outputs`")
        );
        let mut c = NetConfig::tiny();
        c.hidden = MAX_WIDTH + 1;
        assert!(c.validate().unwrap_err().to_string().contains("`hidden`"));
    }

    #[test]
    fn json_round_trip_and_unknown_fields_refused() {
        let c = NetConfig::small();
        let s = serde_json::to_string(&c).unwrap();
        assert!(s.contains("\"activation\":\"relu\""), "{s}");
        assert_eq!(serde_json::from_str::<NetConfig>(&s).unwrap(), c);
        let extra = s.replace("{", "{\"depth\":3,");
        assert!(serde_json::from_str::<NetConfig>(&extra).is_err());
    }

    #[test]
    fn differences_lists_each_changed_field() {
        let a = NetConfig::small();
        let mut b = a.clone();
        assert!(a.differences(&b).is_empty());
        b.width = 128;
        b.activation = Activation::Gelu;
        assert_eq!(
            a.differences(&b),
            vec!["width: 256 vs 128", "activation: relu vs gelu"]
        );
    }
}

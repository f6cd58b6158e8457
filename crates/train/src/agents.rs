//! Players for the arena, named by short specs: `random`, `heuristic`, `rollout:SIMS`,
//! `ismcts:SIMS`, `net:CHECKPOINT[:PRESET]`.
//!
//! An agent ([`game::Player`]) decides from an [`game::Observation`] only (its hand and public
//! information), so it cannot see hidden cards. Network agents live in another module: the caller hands
//! [`AgentSpec::build`] a [`NetAgentFactory`] that makes them.

use anyhow::{Result, anyhow};
use game::{HeuristicBot, Player, RandomBot};
use mcts::{IsmctsAgent, Preset, RolloutAgent};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// Makes network agents for `net:` specs. Called once per seat of every table (with a seed
/// per seat), from several threads at once: load a checkpoint once and hand out cheap agents.
pub trait NetAgentFactory: Sync {
    fn build(&self, checkpoint: &Path, preset: Preset, seed: u64) -> Result<Box<dyn Player>>;
}

impl<F> NetAgentFactory for F
where
    F: Fn(&Path, Preset, u64) -> Result<Box<dyn Player>> + Sync,
{
    fn build(&self, checkpoint: &Path, preset: Preset, seed: u64) -> Result<Box<dyn Player>> {
        self(checkpoint, preset, seed)
    }
}

/// Which agent to build.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentSpec {
    Random,
    Heuristic,
    /// Rollout search with this many simulations per decision (at least 1).
    Rollout {
        simulations: usize,
    },
    /// Information-set MCTS with random playouts, this many simulations per decision.
    Ismcts {
        simulations: usize,
    },
    /// An external program speaking the engine protocol (`docs/engine.md`), one process per
    /// seat: the program and its arguments, split on blanks.
    Command {
        words: Vec<String>,
    },
    /// A network checkpoint searched with a preset.
    Net {
        checkpoint: PathBuf,
        preset: Preset,
    },
}

/// A spec that does not parse, with the reason.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("bad agent spec {spec:?}: {why}")]
pub struct AgentSpecError {
    pub spec: String,
    pub why: String,
}

const SPEC_FORMS: &str =
    "use random, heuristic, rollout:SIMS, ismcts:SIMS, net:CHECKPOINT[:PRESET] or cmd:PROGRAM ARGS";

impl FromStr for AgentSpec {
    type Err = AgentSpecError;

    fn from_str(text: &str) -> Result<AgentSpec, AgentSpecError> {
        let spec = text.trim();
        let bad = |why: String| AgentSpecError {
            spec: spec.to_string(),
            why,
        };
        let (kind, arg) = match spec.split_once(':') {
            Some((kind, arg)) => (kind, Some(arg)),
            None => (spec, None),
        };
        match (kind, arg) {
            ("", _) => Err(bad(format!("empty: {SPEC_FORMS}"))),
            ("random", None) => Ok(AgentSpec::Random),
            ("heuristic", None) => Ok(AgentSpec::Heuristic),
            ("random" | "heuristic", Some(_)) => Err(bad(format!("{kind} takes no argument"))),
            ("rollout" | "ismcts", None) => Err(bad(format!(
                "{kind} needs a simulation count, as in {kind}:100"
            ))),
            ("rollout" | "ismcts", Some(n)) => match n.parse::<usize>() {
                Ok(0) => Err(bad(format!("{kind} needs at least 1 simulation"))),
                Ok(n) if n > MAX_SIMULATIONS => Err(bad(format!(
                    "{n} simulations is more than {MAX_SIMULATIONS} per decision"
                ))),
                Ok(simulations) if kind == "rollout" => Ok(AgentSpec::Rollout { simulations }),
                Ok(simulations) => Ok(AgentSpec::Ismcts { simulations }),
                Err(_) => Err(bad(format!(
                    "{n:?} is not a simulation count (a whole number >= 1)"
                ))),
            },
            ("net", None | Some("")) => Err(bad(
                "net needs a checkpoint path, as in net:runs/a/checkpoint:medium".into(),
            )),
            ("net", Some(rest)) => parse_net(rest).map_err(bad),
            ("cmd", None) => Err(bad(
                "cmd needs a program, as in \"cmd:train engine --agent heuristic\"".into(),
            )),
            ("cmd", Some(command)) => {
                let words: Vec<String> = command.split_whitespace().map(String::from).collect();
                if words.is_empty() {
                    Err(bad("cmd needs a program after `cmd:`".into()))
                } else {
                    Ok(AgentSpec::Command { words })
                }
            }
            _ => Err(bad(format!("unknown agent kind {kind:?}: {SPEC_FORMS}"))),
        }
    }
}

/// Most simulations per decision a network-free agent may be given: far beyond any useful
/// budget, low enough that a typo cannot make one decision run for hours.
pub const MAX_SIMULATIONS: usize = 1_000_000;

/// `CHECKPOINT[:PRESET]`: text after the last `:` is the preset, so a path holding `:` must
/// be followed by an explicit preset.
fn parse_net(rest: &str) -> Result<AgentSpec, String> {
    let (path, preset) = match rest.rsplit_once(':') {
        Some((path, preset)) => {
            let preset = preset.parse::<Preset>().map_err(|e| e.to_string())?;
            (path, preset)
        }
        None => (rest, light()),
    };
    if path.is_empty() {
        return Err("net needs a checkpoint path before the preset".into());
    }
    Ok(AgentSpec::Net {
        checkpoint: PathBuf::from(path),
        preset,
    })
}

fn light() -> Preset {
    "light".parse().expect("a built-in preset")
}

/// The preset's name if it is a built-in one, else `WxS`.
fn preset_name(p: Preset) -> String {
    for name in ["light", "medium", "heavy"] {
        if name.parse::<Preset>().ok() == Some(p) {
            return name.to_string();
        }
    }
    p.to_string()
}

impl fmt::Display for AgentSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AgentSpec::Random => write!(f, "random"),
            AgentSpec::Heuristic => write!(f, "heuristic"),
            AgentSpec::Rollout { simulations } => write!(f, "rollout:{simulations}"),
            AgentSpec::Ismcts { simulations } => write!(f, "ismcts:{simulations}"),
            AgentSpec::Command { words } => write!(f, "cmd:{}", words.join(" ")),
            AgentSpec::Net { checkpoint, preset } => {
                write!(f, "net:{}:{}", checkpoint.display(), preset_name(*preset))
            }
        }
    }
}

impl AgentSpec {
    /// A fresh agent whose random choices all follow from `seed`. `net` makes `net:` agents;
    /// without it they are refused.
    pub fn build(&self, seed: u64, net: Option<&dyn NetAgentFactory>) -> Result<Box<dyn Player>> {
        Ok(match self {
            AgentSpec::Random => Box::new(RandomBot::new(seed)),
            AgentSpec::Heuristic => Box::new(HeuristicBot),
            AgentSpec::Rollout { simulations } => Box::new(RolloutAgent::new(*simulations, seed)),
            AgentSpec::Ismcts { simulations } => Box::new(IsmctsAgent::new(*simulations, seed)),
            AgentSpec::Command { words } => Box::new(crate::engine::CommandAgent::new(words)),
            AgentSpec::Net { checkpoint, preset } => {
                let factory = net.ok_or_else(|| {
                    anyhow!("{self}: net agents need a network backend, and none was given")
                })?;
                factory.build(checkpoint, *preset, seed)?
            }
        })
    }
}

/// Parses a comma-separated list of specs (blanks around names are ignored).
pub fn parse_agent_list(list: &str) -> Result<Vec<AgentSpec>, AgentSpecError> {
    list.split(',').map(str::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip_through_text() {
        for text in [
            "random",
            "heuristic",
            "rollout:7",
            "ismcts:200",
            "net:ckpt/a.bin:light",
            "net:x:4x25",
        ] {
            let spec: AgentSpec = text.parse().unwrap();
            assert_eq!(spec.to_string(), text);
        }
        let spec: AgentSpec = "net:C:/runs/a:medium".parse().unwrap();
        assert_eq!(
            spec,
            AgentSpec::Net {
                checkpoint: "C:/runs/a".into(),
                preset: "medium".parse().unwrap()
            }
        );
        assert_eq!(
            "net:ckpt".parse::<AgentSpec>().unwrap().to_string(),
            "net:ckpt:light"
        );
    }

    #[test]
    fn bad_specs_name_the_spec_and_the_reason() {
        for (text, why) in [
            ("rollout:abc", "not a simulation count"),
            ("rollout:0", "at least 1"),
            ("rollout", "needs a simulation count"),
            ("ismcts", "needs a simulation count"),
            ("ismcts:0", "at least 1"),
            ("ismcts:99999999999", "more than"),
            ("foo", "unknown agent kind"),
            ("net:", "checkpoint path"),
            ("net", "checkpoint path"),
            ("net::light", "checkpoint path"),
            ("net:a:fast", "fast"),
            ("random:3", "no argument"),
            ("", "empty"),
        ] {
            let e = text.parse::<AgentSpec>().unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(&format!("{text:?}")), "{msg}");
            assert!(msg.contains(why), "{text}: {msg}");
        }
        assert!(parse_agent_list("random,,heuristic").is_err());
        assert_eq!(parse_agent_list(" random, rollout:5").unwrap().len(), 2);
    }

    #[test]
    fn net_agents_need_a_backend() {
        let spec: AgentSpec = "net:ckpt".parse().unwrap();
        let e = spec.build(1, None).err().unwrap().to_string();
        assert!(e.contains("net agents need a network backend"), "{e}");
        let factory = |_: &Path, _: Preset, seed: u64| -> Result<Box<dyn Player>> {
            Ok(Box::new(RandomBot::new(seed)))
        };
        assert!(spec.build(1, Some(&factory)).is_ok());
    }
}

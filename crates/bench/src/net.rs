//! `--net`: a preset name (compact, small, peer, tiny) or the path of a checkpoint.

use anyhow::{Context, Result, bail};
use burn::tensor::backend::Backend;
use model::config::{NetConfig, PRESETS};
use model::net::BlobNet;
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq)]
pub enum NetSpec {
    Preset(String, NetConfig),
    Checkpoint(PathBuf),
}

impl NetSpec {
    pub fn parse(s: &str) -> Result<NetSpec> {
        if let Ok(cfg) = NetConfig::preset(s) {
            return Ok(NetSpec::Preset(s.to_string(), cfg));
        }
        let path = PathBuf::from(s);
        if path.is_file() {
            return Ok(NetSpec::Checkpoint(path));
        }
        bail!(
            "--net {s:?} is neither a network preset ({}) nor an existing checkpoint file",
            PRESETS.join(", ")
        )
    }

    /// The name written in tables and CSV files.
    pub fn name(&self) -> String {
        match self {
            NetSpec::Preset(n, _) => n.clone(),
            NetSpec::Checkpoint(p) => p.display().to_string(),
        }
    }

    /// A fresh (random-initialised) network, or the checkpoint's.
    pub fn build<B: Backend>(&self, device: &B::Device) -> Result<BlobNet<B>> {
        match self {
            NetSpec::Preset(n, cfg) => {
                BlobNet::new(cfg, device).with_context(|| format!("building the {n} network"))
            }
            NetSpec::Checkpoint(p) => model::checkpoint::load_any(p, device)
                .map(|(net, _)| net)
                .with_context(|| format!("loading the checkpoint {}", p.display())),
        }
    }
}

//! Checkpoints: a network's weights with its [`NetConfig`] and metadata, in one file.
//!
//! # Format (version 1)
//! All integers little-endian.
//!
//! | offset | size | content |
//! |---|---|---|
//! | 0 | 8 | magic `BLOBNET\x01` |
//! | 8 | 4 | format version (u32) |
//! | 12 | 8 | metadata length M (u64) |
//! | 20 | 8 | weights length W (u64) |
//! | 28 | 8 | FNV-1a 64 checksum of the metadata and weight bytes (u64) |
//! | 36 | M | metadata, UTF-8 JSON: `{"config": NetConfig, "iteration": u64, "extra": any}` |
//! | 36 + M | W | weights: Burn's named MessagePack record, full precision (f32) |
//!
//! The file is exactly 36 + M + W bytes. The weights use `NamedMpkBytesRecorder`: unlike
//! `BinBytesRecorder` it reports bad bytes as errors rather than panicking, and STACK.md
//! found its round trip bit-identical.
//!
//! Loading checks, in order: the magic, the version, the lengths, the checksum, the JSON,
//! the config (valid, and equal to the caller's), then decodes the record and compares every
//! parameter's shape with a freshly built network's. Burn's `load_record` does not check
//! shapes (and asserts on some mismatches), so that step runs under `catch_unwind` too.
//!
//! Saving is atomic: the bytes go to `PATH.tmp` in the same directory, are synced, and the
//! file is renamed over `PATH`; a failed save leaves any previous checkpoint untouched.
//!
//! [`to_bytes`] / [`from_bytes`] produce and read the same format in memory: the way to
//! move weights between threads and backends (e.g. learner to inference server).

use std::fs;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkBytesRecorder, Recorder};
use burn::tensor::backend::Backend;
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, NetConfig};
use crate::net::BlobNet;

/// The first bytes of every checkpoint.
pub const MAGIC: [u8; 8] = *b"BLOBNET\x01";
/// The format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const HEADER_LEN: usize = 36;
/// How in-memory checkpoints are named in errors.
const IN_MEMORY: &str = "<in-memory checkpoint>";

type WeightRecorder = NamedMpkBytesRecorder<FullPrecisionSettings>;

/// What a checkpoint says about itself besides its config.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// The training iteration that produced the weights.
    pub iteration: u64,
    /// Anything else the writer wants to keep (run name, metrics, ...).
    #[serde(default)]
    pub extra: serde_json::Value,
}

/// A checkpoint's header: everything but the weights.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckpointInfo {
    pub format_version: u32,
    pub config: NetConfig,
    pub meta: Metadata,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MetaJson {
    config: NetConfig,
    iteration: u64,
    #[serde(default)]
    extra: serde_json::Value,
}

/// Why a checkpoint could not be written or read. `origin` is the file (or
/// `<in-memory checkpoint>`).
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint {origin}: file not found")]
    NotFound { origin: String },
    #[error("checkpoint {origin}: {action} failed: {error}")]
    Io {
        origin: String,
        action: &'static str,
        #[source]
        error: io::Error,
    },
    #[error("{origin} is not a BlobNet checkpoint (wrong magic bytes)")]
    NotACheckpoint { origin: String },
    #[error(
        "checkpoint {origin}: format version {found} is not supported (this build reads version {supported})"
    )]
    UnsupportedVersion {
        origin: String,
        found: u32,
        supported: u32,
    },
    #[error("checkpoint {origin} is truncated: {found} bytes, expected {expected}")]
    Truncated {
        origin: String,
        expected: u64,
        found: u64,
    },
    #[error("checkpoint {origin} is corrupt: {what}")]
    Corrupt { origin: String, what: String },
    #[error("checkpoint {origin} holds an unusable network config: {error}")]
    InvalidConfig {
        origin: String,
        #[source]
        error: ConfigError,
    },
    #[error(
        "checkpoint {origin} was saved with another network config ({differences}; asked for vs found)"
    )]
    ConfigMismatch {
        origin: String,
        expected: Box<NetConfig>,
        found: Box<NetConfig>,
        differences: String,
    },
    #[error("checkpoint {origin}: encoding failed: {what}")]
    Encode { origin: String, what: String },
}

/// Writes `net` and `meta` to `path` atomically (via `PATH.tmp`).
pub fn save<B: Backend>(
    path: &Path,
    net: &BlobNet<B>,
    meta: &Metadata,
) -> Result<(), CheckpointError> {
    let origin = path.display().to_string();
    let bytes = encode(net, meta, &origin)?;
    write_atomic(path, &bytes)
}

/// Reads the checkpoint at `path`, refusing it unless it was saved with `expected`.
pub fn load<B: Backend>(
    path: &Path,
    expected: &NetConfig,
    device: &B::Device,
) -> Result<(BlobNet<B>, Metadata), CheckpointError> {
    let origin = path.display().to_string();
    decode(&read_file(path)?, Some(expected), device, &origin)
}

/// Reads the checkpoint at `path` with whatever config it was saved with.
pub fn load_any<B: Backend>(
    path: &Path,
    device: &B::Device,
) -> Result<(BlobNet<B>, Metadata), CheckpointError> {
    let origin = path.display().to_string();
    decode(&read_file(path)?, None, device, &origin)
}

/// Reads and checks a checkpoint's header, config and metadata (not its weights).
pub fn read_info(path: &Path) -> Result<CheckpointInfo, CheckpointError> {
    let origin = path.display().to_string();
    let bytes = read_file(path)?;
    let (info, _) = parse(&bytes, &origin)?;
    Ok(info)
}

/// The checkpoint format in memory.
pub fn to_bytes<B: Backend>(net: &BlobNet<B>, meta: &Metadata) -> Result<Vec<u8>, CheckpointError> {
    encode(net, meta, IN_MEMORY)
}

/// Reads [`to_bytes`]'s output onto `device` (any backend), refusing it unless it holds
/// `expected`.
pub fn from_bytes<B: Backend>(
    bytes: &[u8],
    expected: &NetConfig,
    device: &B::Device,
) -> Result<(BlobNet<B>, Metadata), CheckpointError> {
    decode(bytes, Some(expected), device, IN_MEMORY)
}

fn encode<B: Backend>(
    net: &BlobNet<B>,
    meta: &Metadata,
    origin: &str,
) -> Result<Vec<u8>, CheckpointError> {
    let encode_err = |what: String| CheckpointError::Encode {
        origin: origin.to_string(),
        what,
    };
    let json = serde_json::to_vec(&MetaJson {
        config: net.config().clone(),
        iteration: meta.iteration,
        extra: meta.extra.clone(),
    })
    .map_err(|e| encode_err(format!("metadata: {e}")))?;
    let weights = Recorder::<B>::record(&WeightRecorder::default(), net.clone().into_record(), ())
        .map_err(|e| encode_err(format!("weights: {e}")))?;
    let mut out = Vec::with_capacity(HEADER_LEN + json.len() + weights.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(json.len() as u64).to_le_bytes());
    out.extend_from_slice(&(weights.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv1a(fnv1a(FNV_OFFSET, &json), &weights).to_le_bytes());
    out.extend_from_slice(&json);
    out.extend_from_slice(&weights);
    Ok(out)
}

/// Checks everything but the weights; returns the header and the weight bytes.
fn parse<'a>(bytes: &'a [u8], origin: &str) -> Result<(CheckpointInfo, &'a [u8]), CheckpointError> {
    let origin_s = || origin.to_string();
    let corrupt = |what: String| CheckpointError::Corrupt {
        origin: origin_s(),
        what,
    };
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        // A prefix of the magic is a checkpoint cut short, anything else is not one.
        return Err(if !bytes.is_empty() && MAGIC.starts_with(bytes) {
            CheckpointError::Truncated {
                origin: origin_s(),
                expected: HEADER_LEN as u64,
                found: bytes.len() as u64,
            }
        } else {
            CheckpointError::NotACheckpoint { origin: origin_s() }
        });
    }
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    if bytes.len() < 12 {
        return Err(CheckpointError::Truncated {
            origin: origin_s(),
            expected: HEADER_LEN as u64,
            found: bytes.len() as u64,
        });
    }
    let version = u32_at(8);
    if version != FORMAT_VERSION {
        return Err(CheckpointError::UnsupportedVersion {
            origin: origin_s(),
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    if bytes.len() < HEADER_LEN {
        return Err(CheckpointError::Truncated {
            origin: origin_s(),
            expected: HEADER_LEN as u64,
            found: bytes.len() as u64,
        });
    }
    let (meta_len, weights_len, checksum) = (u64_at(12), u64_at(20), u64_at(28));
    let expected = (HEADER_LEN as u64)
        .checked_add(meta_len)
        .and_then(|n| n.checked_add(weights_len))
        .ok_or_else(|| corrupt(format!("impossible lengths {meta_len} and {weights_len}")))?;
    let found = bytes.len() as u64;
    if found < expected {
        return Err(CheckpointError::Truncated {
            origin: origin_s(),
            expected,
            found,
        });
    }
    if found > expected {
        return Err(corrupt(format!(
            "{} bytes after the end of the weights",
            found - expected
        )));
    }
    // Both lengths fit in the slice now, so they fit in usize.
    let body = &bytes[HEADER_LEN..];
    let (json, weights) = body.split_at(meta_len as usize);
    let actual = fnv1a(fnv1a(FNV_OFFSET, json), weights);
    if actual != checksum {
        return Err(corrupt(format!(
            "checksum mismatch (stored {checksum:016x}, computed {actual:016x})"
        )));
    }
    let meta: MetaJson =
        serde_json::from_slice(json).map_err(|e| corrupt(format!("metadata: {e}")))?;
    meta.config
        .validate()
        .map_err(|error| CheckpointError::InvalidConfig {
            origin: origin_s(),
            error,
        })?;
    let info = CheckpointInfo {
        format_version: version,
        config: meta.config,
        meta: Metadata {
            iteration: meta.iteration,
            extra: meta.extra,
        },
    };
    Ok((info, weights))
}

fn decode<B: Backend>(
    bytes: &[u8],
    expected: Option<&NetConfig>,
    device: &B::Device,
    origin: &str,
) -> Result<(BlobNet<B>, Metadata), CheckpointError> {
    let (info, weights) = parse(bytes, origin)?;
    if let Some(expected) = expected
        && *expected != info.config
    {
        return Err(CheckpointError::ConfigMismatch {
            origin: origin.to_string(),
            differences: expected.differences(&info.config).join(", "),
            expected: Box::new(expected.clone()),
            found: Box::new(info.config),
        });
    }
    let corrupt = |what: String| CheckpointError::Corrupt {
        origin: origin.to_string(),
        what,
    };
    let fresh = BlobNet::<B>::new(&info.config, device).map_err(|error| {
        CheckpointError::InvalidConfig {
            origin: origin.to_string(),
            error,
        }
    })?;
    let want_shapes = fresh.parameter_shapes();
    let loaded = catch_unwind(AssertUnwindSafe(|| {
        let record = Recorder::<B>::load(&WeightRecorder::default(), weights.to_vec(), device)
            .map_err(|e| format!("weights do not decode: {e}"))?;
        Ok::<_, String>(fresh.load_record(record))
    }))
    .map_err(|panic| {
        corrupt(format!(
            "weights do not fit the network: {}",
            crate::panic_text(&*panic).unwrap_or_else(|| "a panic in Burn".into())
        ))
    })?
    .map_err(corrupt)?;
    let shapes = loaded.parameter_shapes();
    if shapes != want_shapes {
        return Err(corrupt(format!(
            "weight shapes {shapes:?} do not match the config's {want_shapes:?}"
        )));
    }
    Ok((loaded, info.meta))
}

fn read_file(path: &Path) -> Result<Vec<u8>, CheckpointError> {
    fs::read(path).map_err(|error| {
        let origin = path.display().to_string();
        if error.kind() == io::ErrorKind::NotFound {
            CheckpointError::NotFound { origin }
        } else {
            CheckpointError::Io {
                origin,
                action: "reading",
                error,
            }
        }
    })
}

/// Writes atomically ([`crate::files::write_atomic`]), naming the checkpoint on failure.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CheckpointError> {
    crate::files::write_atomic(path, bytes).map_err(|(action, error)| CheckpointError::Io {
        origin: path.display().to_string(),
        action,
        error,
    })
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a 64, continued from `hash` ([`crate::files::checksum_from`]).
fn fnv1a(hash: u64, bytes: &[u8]) -> u64 {
    crate::files::checksum_from(hash, bytes)
}

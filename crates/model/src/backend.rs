//! The backends this project uses, and a check that CUDA can work before Burn is asked to.
//!
//! - [`Cpu`] (Burn's `Flex`): the default and the test backend. Much faster than `NdArray`
//!   on these machines (see `shared/STACK.md`).
//! - [`Gpu`] (Burn's `Cuda`, with fusion and autotune): only with the `cuda` cargo feature.
//!
//! Burn's CUDA backend panics (in a worker thread, exiting the process) when the driver or
//! NVRTC is missing, so call [`check_cuda`] (or [`DeviceKind::check`]) first.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use burn::backend::Autodiff;

/// The CPU backend.
pub type Cpu = burn::backend::Flex;
/// Its only device.
pub type CpuDevice = burn::backend::flex::FlexDevice;
/// The CPU backend with autodiff, for training.
pub type CpuAutodiff = Autodiff<Cpu>;

/// The CUDA backend (fusion and autotune on).
#[cfg(feature = "cuda")]
pub type Gpu = burn::backend::Cuda;
/// A CUDA device: `GpuDevice::new(index)`. Create one only after [`check_cuda`] succeeded.
#[cfg(feature = "cuda")]
pub type GpuDevice = burn::backend::cuda::CudaDevice;
/// The CUDA backend with autodiff, for training.
#[cfg(feature = "cuda")]
pub type GpuAutodiff = Autodiff<Gpu>;

/// The message for a CUDA request in a binary built without CUDA.
pub const NO_CUDA_FEATURE: &str =
    "this binary was built without the `cuda` feature; rebuild with --features cuda";

/// Where the network runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum DeviceKind {
    #[default]
    Cpu,
    Cuda,
}

/// A device name other than `cpu` or `cuda`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown device `{0}` (expected `cpu` or `cuda`)")]
pub struct UnknownDevice(pub String);

impl FromStr for DeviceKind {
    type Err = UnknownDevice;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "cpu" => Ok(DeviceKind::Cpu),
            "cuda" => Ok(DeviceKind::Cuda),
            other => Err(UnknownDevice(other.to_string())),
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeviceKind::Cpu => "cpu",
            DeviceKind::Cuda => "cuda",
        })
    }
}

/// Work written once, generic over the backend, that [`DeviceKind::run`] starts on the backend
/// a device name picks (the one place that knows which backends a build has). `B` is the
/// training backend (with autodiff); inference uses `B::InnerBackend` on the same device.
pub trait OnBackend {
    type Output;
    fn run<B: burn::tensor::backend::AutodiffBackend>(self, device: B::Device) -> Self::Output;
}

impl DeviceKind {
    /// Runs `task` on this device's backend, after checking that the device can be used
    /// here ([`DeviceKind::check`]); the error says why not.
    pub fn run<T: OnBackend>(self, task: T) -> Result<T::Output, String> {
        self.check()?;
        match self {
            DeviceKind::Cpu => Ok(task.run::<CpuAutodiff>(Default::default())),
            #[cfg(feature = "cuda")]
            DeviceKind::Cuda => Ok(task.run::<GpuAutodiff>(GpuDevice::new(0))),
            #[cfg(not(feature = "cuda"))]
            DeviceKind::Cuda => Err(NO_CUDA_FEATURE.to_string()),
        }
    }

    /// Whether this device can be used by this binary on this machine.
    pub fn check(self) -> Result<(), String> {
        match self {
            DeviceKind::Cpu => Ok(()),
            DeviceKind::Cuda => check_cuda(),
        }
    }
}

/// Checks, without creating a CUDA device, that Burn's CUDA backend can start here: the
/// binary has the `cuda` feature, the driver (`libcuda.so.1`) and NVRTC (`libnvrtc.so*`)
/// load, and the CUDA headers NVRTC compiles kernels against are present.
pub fn check_cuda() -> Result<(), String> {
    if !cfg!(feature = "cuda") {
        return Err(NO_CUDA_FEATURE.to_string());
    }
    probe_library("no CUDA driver found", &["libcuda.so.1", "libcuda.so"])?;
    // CUDARC_CUDA_VERSION=13000 at build time (.cargo/config.toml): NVRTC 13 is wanted.
    probe_library("no NVRTC found", &["libnvrtc.so.13", "libnvrtc.so"])?;
    let root = cuda_root().ok_or_else(|| {
        "no CUDA installation found (set CUDA_PATH, or install to /usr/local/cuda): NVRTC needs its headers"
            .to_string()
    })?;
    let header = root.join("include").join("cuda_runtime.h");
    if !header.is_file() {
        return Err(format!(
            "CUDA headers not found: {} does not exist (set CUDA_PATH to the CUDA toolkit's root)",
            header.display()
        ));
    }
    Ok(())
}

/// Tries each name in turn; the error names what was tried and why the last failed.
fn probe_library(what: &str, names: &[&str]) -> Result<(), String> {
    let mut last = String::new();
    for name in names {
        // SAFETY: loading runs the library's initialisers; these are the NVIDIA libraries
        // Burn would load next anyway. The handle is dropped (unloaded) at once.
        match unsafe { libloading::Library::new(*name) } {
            Ok(_lib) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!(
        "{what} ({}): {last}; install the NVIDIA driver / CUDA 13 or add its lib directory to LD_LIBRARY_PATH",
        names.join(", ")
    ))
}

/// The CUDA root the way cubecl-cuda 0.10 looks for it (it panics when none is found).
fn cuda_root() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("CUDA_PATH") {
        return Some(PathBuf::from(path));
    }
    if std::path::Path::new("/usr/local/cuda").exists() {
        Some("/usr/local/cuda".into())
    } else if std::path::Path::new("/opt/cuda").exists() {
        Some("/opt/cuda".into())
    } else if std::path::Path::new("/usr/bin/nvcc").exists() {
        Some("/usr".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse() {
        assert_eq!("cpu".parse::<DeviceKind>().unwrap(), DeviceKind::Cpu);
        assert_eq!("cuda".parse::<DeviceKind>().unwrap(), DeviceKind::Cuda);
        let err = "gpu".parse::<DeviceKind>().unwrap_err();
        assert!(err.to_string().contains("`gpu`"), "{err}");
        assert!(DeviceKind::Cpu.check().is_ok());
    }

    #[cfg(not(feature = "cuda"))]
    #[test]
    fn cuda_without_the_feature_says_how_to_rebuild() {
        assert_eq!(DeviceKind::Cuda.check().unwrap_err(), NO_CUDA_FEATURE);
    }

    #[test]
    fn a_missing_library_is_an_error_naming_it() {
        let err = probe_library("no frobnicator", &["libfrobnicator-none.so.7"]).unwrap_err();
        assert!(
            err.contains("no frobnicator (libfrobnicator-none.so.7)"),
            "{err}"
        );
    }
}

//! Checks the CUDA backend against the CPU (Flex) backend on the same weights and inputs.
//!
//! ```sh
//! cargo run -p model --release --features cuda --example cuda_vs_cpu [-- PRESET]
//! ```
//!
//! Batch sizes 1, 7, 64 and 1024; the relative error of every output must stay under 1e-3.
//! It also guards against Burn issue #5122 (with fusion, a batched MLP ending in a `[N, 1]`
//! tanh returned wrong rows after the first): rows are compared one by one, so a wrong row
//! anywhere in a batch fails the check. Exits 1 on a mismatch, 2 when CUDA is unavailable.

#[cfg(not(feature = "cuda"))]
fn main() {
    eprintln!("error: {}", model::backend::NO_CUDA_FEATURE);
    std::process::exit(2);
}

#[cfg(feature = "cuda")]
fn main() {
    use burn::tensor::{Tensor, TensorData};
    use model::backend::{Cpu, Gpu, GpuDevice, check_cuda};
    use model::checkpoint::{Metadata, from_bytes, to_bytes};
    use model::{BlobNet, NetConfig};

    if let Err(e) = check_cuda() {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
    let preset = std::env::args().nth(1).unwrap_or_else(|| "small".into());
    let config = NetConfig::preset(&preset).unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(2)
    });
    let cpu = Default::default();
    let gpu = GpuDevice::new(0);
    let net_cpu = BlobNet::<Cpu>::new(&config, &cpu).expect("a valid preset");
    let bytes = to_bytes(&net_cpu, &Metadata::default()).expect("encodes");
    let (net_gpu, _) = from_bytes::<Gpu>(&bytes, &config, &gpu).expect("same weights on the GPU");

    let mut worst = 0.0f32;
    let mut failed = false;
    for n in [1usize, 7, 64, 1024] {
        // Deterministic inputs in [-1, 1] and masks with several legal actions per row.
        let x: Vec<f32> = (0..n * 256)
            .map(|i| ((i * 7919 % 2003) as f32 / 1001.5) - 1.0)
            .collect();
        let m: Vec<f32> = (0..n * 52)
            .map(|i| ((i * 31 + i / 52) % 3 != 0) as u8 as f32)
            .collect();
        let run_cpu = net_cpu.forward(
            Tensor::<Cpu, 2>::from_data(TensorData::new(x.clone(), [n, 256]), &cpu),
            Tensor::<Cpu, 2>::from_data(TensorData::new(m.clone(), [n, 52]), &cpu),
        );
        let run_gpu = net_gpu.forward(
            Tensor::<Gpu, 2>::from_data(TensorData::new(x, [n, 256]), &gpu),
            Tensor::<Gpu, 2>::from_data(TensorData::new(m.clone(), [n, 52]), &gpu),
        );
        for (what, a, b, width) in [
            (
                "policy",
                run_cpu.log_policy.into_data(),
                run_gpu.log_policy.into_data(),
                52,
            ),
            (
                "values",
                run_cpu.values.into_data(),
                run_gpu.values.into_data(),
                8,
            ),
        ] {
            let a = a.to_vec::<f32>().expect("f32 outputs");
            let b = b.to_vec::<f32>().expect("f32 outputs");
            for row in 0..n {
                for k in 0..width {
                    let i = row * width + k;
                    // Illegal actions sit near -1e9 on both: compare legal entries only.
                    if what == "policy" && m[i] == 0.0 {
                        continue;
                    }
                    let err = (a[i] - b[i]).abs() / a[i].abs().max(1e-2);
                    worst = worst.max(err);
                    if err > 1e-3 {
                        failed = true;
                        eprintln!(
                            "batch {n}, row {row}, {what}[{k}]: cpu {} cuda {} (relative error {err:.2e})",
                            a[i], b[i]
                        );
                    }
                }
            }
        }
        println!("batch {n:>4}: compared");
    }
    println!("preset {preset}: worst relative error {worst:.2e} (limit 1e-3)");
    if failed {
        std::process::exit(1);
    }
}

//! Project tasks. `cargo xtask bench-sweep`: builds `bench` in release, runs `bench selfplay`
//! over a grid, and writes results.csv, report.md and SVG plots under
//! target/bench-sweep/<timestamp>/.

mod plot;
mod report;
mod time;

use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Parser)]
#[command(name = "xtask", about = "Project tasks")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Self-play speed over a grid of settings, with a report and plots.
    BenchSweep(SweepArgs),
}

#[derive(Args, Clone, Debug)]
struct SweepArgs {
    /// A small grid that finishes in about 2 minutes on a 2-core machine.
    #[arg(long)]
    quick: bool,
    /// Search presets (comma list): light, medium, heavy or WxS.
    #[arg(long, value_delimiter = ',')]
    presets: Option<Vec<String>>,
    #[arg(long, value_delimiter = ',')]
    threads: Option<Vec<usize>>,
    #[arg(long, value_delimiter = ',')]
    parallel_batch_size: Option<Vec<usize>>,
    #[arg(long, value_delimiter = ',')]
    batch_timeout_ms: Option<Vec<f64>>,
    /// Rounds timed per configuration.
    #[arg(long)]
    rounds: Option<u64>,
    /// compact, small, peer, tiny or a checkpoint path.
    #[arg(long, default_value = "small")]
    net: String,
}

/// The grid actually run: the defaults (quick or full) overridden by what was given.
struct Grid {
    presets: Vec<String>,
    threads: Vec<usize>,
    parallel_batch_size: Vec<usize>,
    batch_timeout_ms: Vec<f64>,
    rounds: u64,
    warmup: u64,
    net: String,
}

impl Grid {
    fn from(a: SweepArgs) -> Grid {
        let strings = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        let (presets, pbs, rounds, warmup) = if a.quick {
            (strings(&["light", "medium"]), vec![4, 16], 150, 8)
        } else {
            (
                strings(&["light", "medium", "heavy"]),
                vec![4, 8, 16],
                20,
                2,
            )
        };
        Grid {
            presets: a.presets.unwrap_or(presets),
            threads: a.threads.unwrap_or(vec![1, 2]),
            parallel_batch_size: a.parallel_batch_size.unwrap_or(pbs),
            batch_timeout_ms: a.batch_timeout_ms.unwrap_or(vec![1.0]),
            rounds: a.rounds.unwrap_or(rounds),
            warmup,
            net: a.net,
        }
    }
}

fn main() {
    if let Err(e) = real_main() {
        eprintln!("xtask: {e:#}");
        std::process::exit(1);
    }
}

fn real_main() -> Result<()> {
    match Cli::parse().cmd {
        Cmd::BenchSweep(a) => bench_sweep(Grid::from(a)),
    }
}

/// The workspace root (this crate is crates/xtask).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/xtask has two parents")
        .to_path_buf()
}

fn join<T: ToString>(v: &[T]) -> String {
    v.iter().map(T::to_string).collect::<Vec<_>>().join(",")
}

fn bench_sweep(grid: Grid) -> Result<()> {
    let root = root();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("building bench (release)...");
    let status = Command::new(&cargo)
        .args(["build", "--release", "-p", "bench"])
        .current_dir(&root)
        .status()
        .with_context(|| format!("running {cargo} build"))?;
    if !status.success() {
        bail!("cargo build --release -p bench failed ({status})");
    }
    // Cargo may have been told to build elsewhere.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bin = target.join("release").join("bench");
    let dir = target.join("bench-sweep").join(time::stamp());
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let csv = dir.join("results.csv");

    let mut cmd = Command::new(&bin);
    cmd.arg("selfplay")
        .args(["--preset", &join(&grid.presets)])
        .args(["--threads", &join(&grid.threads)])
        .args(["--parallel-batch-size", &join(&grid.parallel_batch_size)])
        .args(["--batch-timeout-ms", &join(&grid.batch_timeout_ms)])
        .args(["--rounds", &grid.rounds.to_string()])
        .args(["--warmup", &grid.warmup.to_string()])
        .args(["--net", &grid.net])
        .arg("--output")
        .arg(&csv)
        .arg("--json")
        .stderr(Stdio::inherit());
    eprintln!("running {cmd:?}");
    let out = cmd
        .output()
        .with_context(|| format!("running {}", bin.display()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        bail!("bench selfplay failed ({}):\n{stdout}", out.status);
    }
    let last = stdout.lines().last().unwrap_or("");
    let json: serde_json::Value =
        serde_json::from_str(last).context("bench selfplay's last line is not JSON")?;
    let rows = report::rows(&json)?;

    let plots = plot::all(&dir, &rows)?;
    let md = report::markdown(&rows, &plots, &grid_line(&grid));
    std::fs::write(dir.join("report.md"), &md).context("writing report.md")?;
    println!("{md}");
    println!("results: {}", csv.display());
    println!("report:  {}", dir.join("report.md").display());
    for p in &plots {
        println!("plot:    {}", dir.join(p).display());
    }
    Ok(())
}

fn grid_line(g: &Grid) -> String {
    format!(
        "presets {}, threads {}, parallel batch {}, batch timeout {} ms, {} rounds timed ({} warm-up), net {}",
        join(&g.presets),
        join(&g.threads),
        join(&g.parallel_batch_size),
        join(&g.batch_timeout_ms),
        g.rounds,
        g.warmup,
        g.net
    )
}

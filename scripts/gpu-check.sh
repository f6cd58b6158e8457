#!/usr/bin/env bash
# The GPU check, in one run of at most 8 minutes, on a machine with a GPU and no Rust: the
# CUDA-vs-CPU comparison, `bench inference` and `bench selfplay --peer-unit` on the GPU, every
# figure into one file. Build the binaries here first (docs/benchmarks.md, "GPU check"):
#
#   cargo build --release -p bench --features cuda
#   cargo build --release -p model --features cuda --example cuda_vs_cpu
#   mkdir -p gpu-bin && cp target/release/bench target/release/examples/cuda_vs_cpu gpu-bin/
#
# then, on the GPU machine, from the repository root:
#
#   scripts/gpu-check.sh gpu-bin gpu-check.txt
#
# Each step has its own time limit, so one that hangs cannot eat the others' time; a failed
# step is recorded in the file and the rest still run; the exit status is the number of
# failed steps (0: all passed). DEVICE=cpu QUICK=1 runs the same steps on the CPU with tiny
# counts (CI does this, so the script cannot rot where no GPU is lent).
set -uo pipefail

bin=${1:-gpu-bin}
out=${2:-gpu-check.txt}
device=${DEVICE:-cuda}
quick=${QUICK:-0}

if [[ ! -x "$bin/bench" ]]; then
    echo "error: no executable $bin/bench (build it with --features cuda; see the header)" >&2
    exit 100
fi

if [[ "$quick" == 1 ]]; then
    rounds=4 seconds=0.2 batches=1,64 peer_threads=2 nets=tiny pad=8,64
    limit_compare=60 limit_inference=60 limit_selfplay=120
else
    # Sized to end inside 8 minutes in all: the comparison takes seconds, inference about
    # 2 x 6 x 2 s, self-play 4 cases of 200 rounds (20,000 rounds/min is 0.6 s a case).
    rounds=200 seconds=2 batches=1,8,32,128,512,1024 peer_threads=8,16 nets=small,peer
    pad=16,64,256,512
    limit_compare=60 limit_inference=120 limit_selfplay=240
fi

failed=0
: >"$out"
say() { echo "$*" | tee -a "$out"; }

# step NAME LIMIT_S COMMAND...: runs the command under its limit, its output into the file.
step() {
    local name=$1 limit=$2
    shift 2
    say ""
    say "## $name"
    say "\$ $*"
    local t0=$SECONDS
    timeout --kill-after=5 "$limit" "$@" 2>&1 | tee -a "$out"
    local rc=${PIPESTATUS[0]}
    say "($name: exit $rc after $((SECONDS - t0)) s)"
    if [[ $rc -ne 0 ]]; then
        failed=$((failed + 1))
    fi
}

say "# GPU check ($(date -u +%Y-%m-%dT%H:%M:%SZ), device $device, quick $quick)"
say "host: $(uname -srm), $(nproc) cores"
if command -v nvidia-smi >/dev/null; then
    say "$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1)"
fi

if [[ "$device" == cuda ]]; then
    if [[ -x "$bin/cuda_vs_cpu" ]]; then
        step "CUDA against CPU, small network" "$limit_compare" "$bin/cuda_vs_cpu" small
        step "CUDA against CPU, peer network" "$limit_compare" "$bin/cuda_vs_cpu" peer
    else
        say "no $bin/cuda_vs_cpu: the comparison was not run"
        failed=$((failed + 1))
    fi
else
    say "device $device: no CUDA comparison"
fi

step "bench inference" "$limit_inference" \
    "$bin/bench" inference --device "$device" --net "$nets" --batch "$batches" \
    --seconds "$seconds" --json

selfplay_net=peer
[[ "$quick" == 1 ]] && selfplay_net=tiny
step "bench selfplay --peer-unit, medium, $selfplay_net network" "$limit_selfplay" \
    "$bin/bench" selfplay --peer-unit --preset medium --net "$selfplay_net" \
    --device "$device" --threads "$peer_threads" --parallel-batch-size 8 \
    --server-workers 1 --cache-entries 0,262144 --pad-sizes "$pad" --rounds "$rounds" --json

say ""
say "failed steps: $failed"
exit "$failed"

#!/usr/bin/env bash
# The whole bench on a GPU machine that has PyTorch but no Node.js (/work/shared/device/README.md):
# tensorforge's bench/run.ts --device all, then PyTorch's CUDA and CPU figures for the same end-to-end
# workloads (bench/peers/torch_bench.py), merged into one JSON file.
#
# Before, on the development machine: ../shared/device/pack-node.sh (writes .device/), and build the addon
# with CUDA into build-cuda/ (npx cmake-js rebuild -O build-cuda). Carry .device, build-cuda and the
# node_modules that the bench loads: tsx, esbuild, @esbuild, get-tsconfig, resolve-pkg-maps (and
# @tensorflow, seedrandom, long for the TF.js peers; without them those peers are reported absent).
#
#   bench/gpu-run.sh [--quick]     results under $OUT (the device runner's output folder) or bench/out/gpu
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/out/gpu}
mkdir -p "$out"
quick=()
[[ ${1:-} == --quick ]] && quick=(--quick)

source .device/unpack-node.sh
export TENSORFORGE_ADDON=${TENSORFORGE_ADDON:-$PWD/build-cuda/Release/tensorforge.node}
export BENCH_PYTHON=${BENCH_PYTHON:-$(command -v python3)}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv > "$out/nvidia-smi.csv" 2>&1 || true

# tensorforge: limits, ops, CPU vs GPU, end-to-end with the CPU peers. A failure is recorded, not fatal,
# so that the PyTorch figures still come back.
node node_modules/tsx/dist/cli.mjs bench/run.ts --device all "${quick[@]}" --json "$out/tensorforge.json" \
  > "$out/tensorforge.txt" 2>&1 || echo "bench/run.ts exited with $?" >> "$out/tensorforge.txt"

# PyTorch on the GPU and on the CPU (1 and 2 threads, as bench/run.ts), the same workloads and modes as
# bench/e2e.ts (modesOf).
seconds=$([[ ${#quick[@]} -gt 0 ]] && echo 0.3 || echo 1.5)
: > "$out/pytorch.jsonl"
for device in cuda cpu; do
  for threads in $([[ $device == cuda ]] && echo 1 || echo 1 2); do
    for run in mlp:train mlp:infer lenet5:train lenet5:grad lenet5:infer resnet20:train resnet20:infer block:grad; do
      workload=${run%:*} mode=${run#*:}
      req="{\"workload\":\"$workload\",\"mode\":\"$mode\",\"batch\":64,\"threads\":$threads,\"seconds\":$seconds,\"reps\":3,\"device\":\"$device\"}"
      echo "{\"request\":$req,\"result\":$("$BENCH_PYTHON" bench/peers/torch_bench.py --once "$req")}" >> "$out/pytorch.jsonl"
    done
  done
done

"$BENCH_PYTHON" - "$out" <<'PY'
import json, os, sys
out = sys.argv[1]
def load(name):
    try:
        with open(os.path.join(out, name)) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        return {"error": f"{name}: {e}"}
with open(os.path.join(out, "pytorch.jsonl")) as f:
    pytorch = [json.loads(line) for line in f if line.strip()]
merged = {"tensorforge": load("tensorforge.json"), "pytorch": pytorch}
with open(os.path.join(out, "merged.json"), "w") as f:
    json.dump(merged, f, indent=2)
print("workload  mode   device threads  PyTorch images/s")
for p in pytorch:
    q, r = p["request"], p["result"]
    print(f"{q['workload']:9} {q['mode']:6} {q['device']:6} {q['threads']:7}  {r.get('imagesPerSecond', r.get('error'))}")
PY
echo "results: $out/merged.json, $out/tensorforge.txt"

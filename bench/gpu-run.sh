#!/usr/bin/env bash
# The bench on a GPU machine that has PyTorch but no Node.js (/work/shared/device/README.md): bench/run.ts with
# its GPU sections (bench/gpu.ts), every GPU figure beside PyTorch's on the same GPU from the same run.
#
#   bench/gpu-run.sh [--quick] [bench/run.ts flags]     results under $OUT (the device runner's output folder) or bench/out/gpu:
#     tensorforge.txt   the tables
#     tensorforge.json  the whole report (rewritten after each GPU section: a run stopped at its limit keeps them)
#     summary.json      the figures with a target and whether each is met, the main-job epoch and device memory,
#                       the crossovers, the section times (scripts/gpu-check.sh puts it in its JSON)
#
# --quick: the GPU sections only (--device cuda), at quick sizes: under 2 minutes, 4 at most (the hard limit;
# bench/gpu.ts gpuPlan has the estimate). Without it: --device all (the CPU ops and end-to-end sections with
# their CPU peers too) at full sizes, up to 30 minutes.
#
# Rehearse here on the emulated device, at toy sizes and with PyTorch on its CPU:
#   TENSORFORGE_ADDON=$PWD/build-emu/Release/tensorforge.node BENCH_PYTHON=/usr/bin/python3 \
#     bench/gpu-run.sh --quick --size tiny --peer-device cpu
#
# On a GPU machine, scripts/gpu-check.sh run calls it after the device suites (having unpacked Node, node_modules
# and the addon that scripts/gpu-check.sh pack carried in .device/). By hand: ../shared/device/pack-node.sh, an
# addon built with CUDA into build-cuda/ (or TENSORFORGE_ADDON), and node_modules with tsx and esbuild.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/out/gpu}
mkdir -p "$out"
if [[ ${1:-} == --quick ]]; then
  args=(--device cuda --quick) limit=240
  shift
else
  args=(--device all) limit=1800
fi
args+=("$@")

command -v node >/dev/null || source .device/unpack-node.sh
export TENSORFORGE_ADDON=${TENSORFORGE_ADDON:-$PWD/build-cuda/Release/tensorforge.node}
export BENCH_PYTHON=${BENCH_PYTHON:-$(command -v python3)}
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv > "$out/nvidia-smi.csv" 2>&1 || true

# A kernel that never returns cannot be interrupted from inside the process: the whole run has a hard limit.
timeout --kill-after=10 "$limit" node node_modules/tsx/dist/cli.mjs bench/run.ts "${args[@]}" --json "$out/tensorforge.json" \
  2>&1 | tee "$out/tensorforge.txt"
status=${PIPESTATUS[0]}
(( status == 124 || status == 137 )) && echo "bench/gpu-run.sh: stopped at the hard limit of $limit s; tensorforge.json has the sections that finished" | tee -a "$out/tensorforge.txt"

node - "$out" "$status" <<'JS'
const { readFileSync, writeFileSync } = require('node:fs');
const [out, status] = process.argv.slice(2);
let report = {};
try { report = JSON.parse(readFileSync(`${out}/tensorforge.json`, 'utf8')); } catch (e) { report = { error: e.message }; }
const gpu = report.gpu;
const summary = gpu ? {
  exit: Number(status), device: gpu.device, pytorch: gpu.pytorch, size: gpu.size,
  targetsMet: gpu.acceptance.filter((a) => a.met).length, targets: gpu.acceptance.length, acceptance: gpu.acceptance,
  epoch: { cpu: gpu.epoch.cpu?.epochSeconds ?? null, cuda: gpu.epoch.cuda?.epochSeconds ?? null, cpuThreads: gpu.epoch.cpuThreads },
  memory: gpu.epoch.memory ? { steps: gpu.epoch.memory.steps, flat: gpu.epoch.memory.flat, min: gpu.epoch.memory.min, max: gpu.epoch.memory.max } : null,
  crossover: Object.fromEntries(gpu.crossover.map((c) => [c.workload, c.batch])),
  sections: gpu.sections,
} : { exit: Number(status), error: report.error ?? `no GPU sections in the report: ${(report.notes ?? []).join('; ')}` };
writeFileSync(`${out}/summary.json`, JSON.stringify(summary) + '\n');
JS
echo "results: $out/tensorforge.txt, $out/tensorforge.json, $out/summary.json"
exit "$status"

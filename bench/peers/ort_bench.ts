/**
 * onnxruntime-node side of bench/run.ts: inference of the end-to-end workloads (the same models, exported from
 * PyTorch's definitions by bench/peers/torch_bench.py to ONNX), answering the JSON-line requests of bench/e2e.ts.
 *
 *   npx tsx bench/peers/ort_bench.ts MODEL_DIR     (MODEL_DIR holds <workload>.onnx for batch 64)
 *
 * Each request's thread count becomes the session's intra-op thread count (one session per workload and count,
 * all graph optimizations on, sequential execution); the input is a fixed random batch, as ours. Training and
 * gradient modes answer {"error": "inference only"}: onnxruntime-node does not train.
 */
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { randomFloats, summarize, type E2eRequest, type E2eResult } from '../util.js';

const modelDir = process.argv[2] ?? '.';
const sessions = new Map<string, ort.InferenceSession>();

async function session(workload: string, threads: number): Promise<ort.InferenceSession> {
  const key = `${workload}/${threads}`;
  let s = sessions.get(key);
  if (!s) {
    const path = join(modelDir, `${workload}.onnx`);
    if (!existsSync(path)) throw new Error(`no ONNX model at ${path}`);
    s = await ort.InferenceSession.create(path, {
      intraOpNumThreads: threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all',
    });
    sessions.set(key, s);
  }
  return s;
}

const inputShape = (w: string): number[] => (w === 'resnet20' ? [3, 32, 32] : w === 'block' ? [16, 32, 32] : [1, 28, 28]);

/** Images per second of session.run on one batch, timed as bench/util.ts timeGroups times a step. */
async function run(req: E2eRequest): Promise<E2eResult> {
  if (req.mode !== 'infer') throw new Error('inference only');
  const s = await session(req.workload, req.threads);
  const shape = [req.batch, ...inputShape(req.workload)];
  const x = new ort.Tensor('float32', randomFloats(shape.reduce((a, b) => a * b, 1)), shape);
  const feeds = { [s.inputNames[0]!]: x };
  const step = async (): Promise<void> => {
    const out = await s.run(feeds);
    void (Object.values(out)[0]!.data as Float32Array)[0];
  };
  for (let i = 0; i < (req.warmup ?? 0); i++) await step();
  const group = async (calls: number): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await step();
    return (performance.now() - t0) / 1000;
  };
  const first = await group(1);
  const calls = Math.max(1, Math.round(req.seconds / first));
  const times: number[] = [];
  for (let r = 0; r < (first > req.reps * req.seconds ? 1 : req.reps); r++) times.push((await group(calls)) / calls);
  const t = summarize(times);
  return { imagesPerSecond: req.batch / t.median, best: req.batch / t.best, spread: t.spread };
}

for await (const line of createInterface({ input: process.stdin })) {
  const req = JSON.parse(line) as E2eRequest & { info?: boolean };
  let answer: object;
  try {
    answer = req.info ? { version: ort.env.versions.node } : await run(req);
  } catch (e) {
    answer = { error: (e as Error).message };
  }
  console.log(JSON.stringify(answer));
}

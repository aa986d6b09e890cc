/**
 * The benchmark suite: the machine's limits, ops as % of those limits and against directly-compiled C,
 * CPU vs GPU, and end-to-end training / inference throughput next to PyTorch, TensorFlow.js and (inference)
 * onnxruntime-node on the same models exported from PyTorch, measured
 * alternately in the same run. Writes a table to the terminal, bench/out/report.svg and, with --json, a JSON file.
 *
 *   npm run bench -- [--device cpu|cuda|all] [--quick] [--size full|quick|tiny] [--peer-device cuda|cpu] [--json out.json]
 *   (BENCH_PYTHON: the python with torch for the PyTorch peer, default /usr/bin/python3)
 *
 * --device cpu skips the GPU columns and sections, cuda skips the CPU op and end-to-end sections, all (default)
 * runs both. The GPU sections (bench/gpu.ts) run where a CUDA device is present.
 * --quick: fewer sizes, repetitions and rounds (well under 2 minutes on 2 cores).
 * --size: the GPU sections' sizes (default quick with --quick, else full); tiny rehearses every path at toy
 * sizes on the emulated device (TENSORFORGE_ADDON=build-emu/Release/tensorforge.node).
 * --peer-device cpu: PyTorch's side of the GPU sections on its CPU, to rehearse them where torch has no CUDA.
 * With --json, the file is rewritten after each GPU section, so a run stopped at a hard limit leaves its figures.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import * as tf from '../lib/index.js';
import {
  argValue, benchDir, directBaseline, measure, measureCpuLimits, outDir, startLineServer, type E2eRequest, type E2eResult, type LineServer,
} from './util.js';
import { opCases, timeCase } from './ops.js';
import { modesOf, runOurs, workloads } from './e2e.js';
import { printReport, writeChart, type DeviceRow, type E2eCell, type E2eRow, type OpRow, type Report } from './report.js';
import { gpuPlan, printGpuReport, runGpuBench, startTorchPeer, type GpuSize } from './gpu.js';

const quick = process.argv.includes('--quick');
const device = argValue('--device') ?? 'all';
if (!['cpu', 'cuda', 'all'].includes(device)) throw new RangeError(`bench: --device must be cpu, cuda or all, got '${device}'`);
const jsonPath = argValue('--json');
const gpuSize = (argValue('--size') ?? (quick ? 'quick' : 'full')) as GpuSize;
if (!['full', 'quick', 'tiny'].includes(gpuSize)) throw new RangeError(`bench: --size must be full, quick or tiny, got '${gpuSize}'`);
const peerDevice = argValue('--peer-device') ?? 'cuda';
if (peerDevice !== 'cuda' && peerDevice !== 'cpu') throw new RangeError(`bench: --peer-device must be cuda or cpu, got '${peerDevice}'`);
const python = process.env.BENCH_PYTHON ?? '/usr/bin/python3';
const saveJson = (): void => void (jsonPath && writeFileSync(jsonPath, JSON.stringify(report, null, 2) + '\n'));
const threadCounts = [1, 2];
/** Alternating rounds of ours and the C baseline for ops that have one. */
const baselineRounds = quick ? 1 : 3;
const runCpu = device !== 'cuda';
const started = performance.now();
const lap = (section: string): void => void (report.sectionSeconds[section] = Math.round((performance.now() - started) / 100) / 10);

const info = tf.backendInfo();
const cudaDevices = info.cuda.devices;
const report: Report = {
  date: new Date().toISOString(),
  quick,
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadAverage: loadavg(), node: process.version, gemm: `${info.gemm.backend} (${info.gemm.detail})` },
  limits: {
    cpu: measureCpuLimits(quick ? 8 : 20),
    cuda: cudaDevices.length
      ? cudaDevices.map((d) => `${d.name} (sm ${d.computeCapability}, ${(d.totalMemory / 2 ** 30).toFixed(0)} GiB); peak not measured (no CUDA kernels)`).join('; ')
      : `no CUDA device: ${info.cuda.reason ?? 'none reported'}`,
  },
  ops: [],
  cpuVsGpu: [],
  e2e: [],
  peers: {},
  notes: [],
  sectionSeconds: {},
};
lap('limits');
const { cpu: limits } = report.limits;
const peakAt = (t: number): number => (t === 1 ? limits.peakPerCore : Math.max(limits.peakAllCores, limits.peakPerCore));
const bandwidthAt = (t: number): number => (t === 1 ? limits.copyOneThread : Math.max(limits.copyAllThreads, limits.copyOneThread));

// --- ops -----------------------------------------------------------------------------------------
if (runCpu) {
  const direct = directBaseline();
  if (!direct) report.notes.push('OpenBLAS static library not found: no direct C baselines');
  for (const threads of threadCounts) {
    tf.setNumThreads(threads);
    for (const c of opCases({ quick, threads, direct })) {
      let timing = timeCase(c, quick);
      const row: OpRow = { group: c.group, name: c.name, threads, bound: c.bound, timing, rate: 0 };
      if (c.baseline) {
        // The C baseline and ours alternate, so that the host's noise hits both alike; each side keeps its
        // best, and the ratio puts our best run against the baseline's best.
        let baseline = c.baseline.rate();
        for (let round = 1; round < baselineRounds; round++) {
          const again = timeCase(c, quick);
          if (again.best < timing.best) timing = again;
          baseline = Math.max(baseline, c.baseline.rate());
        }
        row.timing = timing;
        row.baseline = { label: c.baseline.label, rate: baseline, ours: c.work / timing.best / 1e9 };
      }
      row.rate = c.bound === 'latency' ? timing.median * 1e6 : c.work / timing.median / 1e9;
      if (c.bound === 'compute') row.limit = peakAt(threads);
      if (c.bound === 'memory') row.limit = bandwidthAt(threads);
      report.ops.push(row);
    }
  }
}

lap('ops');

// --- CPU vs GPU: the same Tensor-API forward ops on each device ----------------------------------
/** Forward ops at the usual sizes: [name, unit, work per run, op on tensors placed on `dev`]. */
function deviceOps(dev: tf.Device): Array<[string, string, number, () => () => tf.Tensor]> {
  const put = (t: tf.Tensor) => (dev === 'cpu' ? t : t.to(dev));
  const n = 16 * 1024 * 1024;
  return [
    ['matmul 1024³', 'GFLOP/s', 2 * 1024 ** 3, () => { const a = put(tf.randn([1024, 1024])), b = put(tf.randn([1024, 1024])); return () => tf.matmul(a, b); }],
    ['conv2d [64,64,32,32]x[64,64,3,3]', 'GFLOP/s', 2 * 64 * 64 * 32 * 32 * 64 * 9, () => {
      const x = put(tf.randn([64, 64, 32, 32])), w = put(tf.randn([64, 64, 3, 3]));
      return () => tf.nn.F.conv2d(x, w, null, { padding: 1 });
    }],
    ['maxPool2d 2x2 [64,64,32,32]', 'GB/s', 4 * 64 * 64 * 32 * 32 * 1.25, () => { const x = put(tf.randn([64, 64, 32, 32])); return () => tf.nn.F.maxPool2d(x, 2); }],
    ['batchNorm [64,64,32,32]', 'GB/s', 4 * 64 * 64 * 32 * 32 * 2, () => { const x = put(tf.randn([64, 64, 32, 32])); return () => tf.nn.F.batchNorm(x, null, null, null, null); }],
    ['add 16M', 'GB/s', 12 * n, () => { const a = put(tf.randn([n])), b = put(tf.randn([n])); return () => tf.add(a, b); }],
    ['exp 16M', 'GB/s', 8 * n, () => { const a = put(tf.randn([n])); return () => tf.exp(a); }],
    ['sum 16M', 'GB/s', 4 * n, () => { const a = put(tf.randn([n])); return () => tf.sum(a); }],
  ];
}

/** Rate of an op on a device: 5 calls per run, then one read-back of the last result, so that queued GPU work is waited for. */
function deviceRate(work: number, make: () => () => tf.Tensor): number {
  const op = make();
  const t = measure(() => {
    let out = op();
    for (let i = 1; i < 5; i++) out = op();
    out.dataSync();
  }, quick ? 3 : 5);
  return (5 * work) / t.median / 1e9;
}

{
  tf.setNumThreads(Math.max(...threadCounts));
  const gpuWhy = device === 'cpu' ? 'not run (--device cpu)' : gpuSize === 'tiny' ? 'not run (--size tiny)' : cudaDevices.length ? '' : `absent: ${report.limits.cuda}`;
  for (const [name, unit, work, make] of deviceOps('cpu')) {
    const cpu = runCpu ? deviceRate(work, make) : NaN;
    let gpu: number | string = gpuWhy;
    if (!gpuWhy) {
      try {
        gpu = deviceRate(work, deviceOps('cuda').find(([n]) => n === name)![3]);
      } catch (e) {
        gpu = `error: ${(e as Error).message.split('\n')[0]}`;
      }
    }
    report.cpuVsGpu.push({ name, unit, cpu, gpu } satisfies DeviceRow);
  }
}

lap('cpu vs gpu');

// --- GPU sections beside PyTorch on the same GPU -------------------------------------------------
if (device !== 'cpu') {
  if (cudaDevices.length) {
    const torch = await startTorchPeer(python, peerDevice);
    report.gpu = await runGpuBench({ plan: gpuPlan(gpuSize), torch, save: (gpu) => { report.gpu = gpu; saveJson(); } });
    if ('server' in torch) torch.server.close();
  } else {
    report.notes.push(`GPU sections not run: ${report.limits.cuda}`);
  }
}
lap('gpu');

// --- end-to-end, with peers ----------------------------------------------------------------------
interface Runner {
  name: string;
  run(req: E2eRequest): Promise<E2eResult>;
  /** Single-threaded peers are measured once and shown at every thread count. */
  singleThreaded: boolean;
  /** Requests it does not attempt, with the reason. */
  skip?(req: E2eRequest): string | undefined;
}

const serverRunner = (name: string, server: LineServer, singleThreaded: boolean, skip?: Runner['skip']): Runner =>
  ({ name, singleThreaded, skip, run: (req) => server.request<E2eResult>(req) });

async function startPeers(): Promise<Runner[]> {
  const runners: Runner[] = [{ name: 'tensorforge', singleThreaded: false, run: async (req) => runOurs(req) }];
  const torchScript = join(benchDir, 'peers', 'torch_bench.py');
  for (const [name, env] of [['torch', {}], ['torch PASSIVE', { OMP_WAIT_POLICY: 'PASSIVE' }]] as const) {
    const { server, reason } = await startLineServer(python, [torchScript], { info: true }, env);
    if (!server) {
      report.peers[name] = `absent: ${reason}`;
      continue;
    }
    const about = await server.request<{ version: string }>({ info: true });
    report.peers[name] = `PyTorch ${about.version} CPU${'OMP_WAIT_POLICY' in env ? ', OMP_WAIT_POLICY=PASSIVE' : ', default OpenMP wait policy (busy-waits)'}`;
    runners.push(serverRunner(name, server, false));
  }
  const tsx = join(benchDir, '..', 'node_modules', '.bin', 'tsx');
  for (const backend of ['cpu', 'wasm'] as const) {
    const name = `tfjs-${backend}`;
    const { server, reason } = await startLineServer(tsx, [join(benchDir, 'peers', 'tfjs_bench.ts'), backend, String(Math.max(...threadCounts))], { info: true });
    if (!server) {
      report.peers[name] = `absent: ${reason.split('\n')[0]}`;
      continue;
    }
    const about = await server.request<{ version: string; threads: number }>({ info: true });
    report.peers[name] = `TensorFlow.js ${about.version} '${backend}' backend, ${about.threads} thread(s) (measured once, shown at every thread count)`;
    const skip = (req: E2eRequest): string | undefined => {
      if (req.mode === 'grad') return 'not measured (train and infer only)';
      if (backend !== 'cpu') return undefined;
      if (req.workload === 'resnet20' && req.mode === 'train') return 'not run: minutes per step';
      if (quick && (req.workload === 'resnet20' || (req.workload === 'lenet5' && req.mode === 'train'))) return 'skipped in --quick (10 s+ per step)';
      return undefined;
    };
    runners.push(serverRunner(name, server, true, skip));
  }
  runners.push(...await startOnnxRuntime(torchScript));
  return runners;
}

/**
 * onnxruntime-node, inference only, on the workloads' models as PyTorch exports them to ONNX (into bench/out/onnx,
 * through the torch peer's export request): none when torch or onnxruntime-node is absent, saying why.
 */
async function startOnnxRuntime(torchScript: string): Promise<Runner[]> {
  const name = 'onnxruntime';
  const modelDir = join(outDir, 'onnx');
  mkdirSync(modelDir, { recursive: true });
  const { server: exporter, reason: noTorch } = await startLineServer(python, [torchScript], { info: true });
  if (!exporter) {
    report.peers[name] = `absent: the ONNX models come from PyTorch's export (${noTorch})`;
    return [];
  }
  for (const workload of workloads) {
    const answer = await exporter.request<{ error?: string }>({ export_onnx: workload, batch: 64, path: join(modelDir, `${workload}.onnx`) });
    if (answer.error) {
      exporter.close();
      report.peers[name] = `absent: exporting ${workload} to ONNX failed (${answer.error})`;
      return [];
    }
  }
  exporter.close();
  const tsx = join(benchDir, '..', 'node_modules', '.bin', 'tsx');
  const { server, reason } = await startLineServer(tsx, [join(benchDir, 'peers', 'ort_bench.ts'), modelDir], { info: true });
  if (!server) {
    report.peers[name] = `absent: ${reason.split('\n')[0]}`;
    return [];
  }
  const about = await server.request<{ version: string }>({ info: true });
  report.peers[name] = `onnxruntime-node ${about.version}, CPU execution provider, the models exported from PyTorch (opset 13), inference only`;
  return [serverRunner(name, server, false, (req) => (req.mode === 'infer' ? undefined : 'inference only'))];
}

if (runCpu) {
  const runners = await startPeers();
  const rounds = quick ? 1 : 2;
  const cells = new Map<string, E2eCell & { best?: E2eResult }>();
  const key = (r: string, w: string, m: string, t: number) => `${r}|${w}|${m}|${t}`;
  const mergeTorch = (row: E2eRow) => {
    // PyTorch's figure is its better wait policy; say which.
    const [a, b] = [row.runners.torch, row.runners['torch PASSIVE']];
    if (!a && !b) return;
    const best = (a?.imagesPerSecond ?? -1) >= (b?.imagesPerSecond ?? -1) ? { ...a!, note: 'default' } : { ...b!, note: 'PASSIVE' };
    delete row.runners.torch;
    delete row.runners['torch PASSIVE'];
    row.runners.pytorch = best.imagesPerSecond === undefined ? { note: a?.note ?? b?.note } : best;
  };
  for (let round = 0; round < rounds; round++) {
    for (const threads of threadCounts) {
      for (const workload of workloads) {
        for (const mode of modesOf(workload)) {
          const req: E2eRequest = { workload, mode, batch: 64, threads, seconds: quick ? 0.3 : 1.5, reps: quick ? 2 : 3 };
          for (const runner of runners) {
            const k = key(runner.name, workload, mode, runner.singleThreaded ? 1 : threads);
            // Single-threaded peers run once: the figure does not depend on the thread count, and TF.js's
            // pure-JS backend takes minutes per ResNet-20 step.
            if (runner.singleThreaded && (threads !== 1 || round > 0)) continue;
            const skipped = runner.skip?.(req);
            if (skipped) {
              cells.set(k, { note: skipped });
              continue;
            }
            try {
              const result = await runner.run(req);
              const prev = cells.get(k)?.best;
              const best = prev && prev.imagesPerSecond >= result.imagesPerSecond ? prev : result;
              cells.set(k, { imagesPerSecond: best.imagesPerSecond, spread: best.spread, best });
            } catch (e) {
              cells.set(k, { note: (e as Error).message });
            }
          }
        }
      }
    }
  }
  for (const threads of threadCounts) {
    for (const workload of workloads) {
      for (const mode of modesOf(workload)) {
        const row: E2eRow = { workload, mode, threads, runners: {} };
        for (const runner of runners) {
          const cell = cells.get(key(runner.name, workload, mode, runner.singleThreaded ? 1 : threads));
          if (cell) row.runners[runner.name] = { imagesPerSecond: cell.imagesPerSecond, spread: cell.spread, note: cell.note };
        }
        mergeTorch(row);
        report.e2e.push(row);
      }
    }
  }
  report.notes.push(
    `end-to-end: best of ${rounds} alternating round(s) of each runner's median images/s (TF.js: first round only); PyTorch is its better of the default and PASSIVE OpenMP wait policies`,
  );
}
lap('end-to-end');
report.notes.push('ops: matmul/elementwise/reduce/overhead through the Tensor API (result allocation included; elementwise inside tf.releaseAfter, as training steps run, except the row marked GC); conv/pool/batchnorm kernels through the binding on preallocated buffers');
if (report.ops.some((row) => row.baseline)) report.notes.push(`ops with a C baseline: ${baselineRounds} alternating round(s) of ours and the baseline, best of each compared`);
report.notes.push(`load average at the end: ${loadavg().map((v) => v.toFixed(2)).join(' ')} on ${cpus().length} cores (shared machine: figures are noisy)`);

printReport(report);
if (report.gpu) printGpuReport(report.gpu);
const chart = join(outDir, 'report.svg');
writeChart(chart, report);
console.log(`\nchart: ${chart}`);
if (jsonPath) {
  saveJson();
  console.log(`json: ${jsonPath}`);
}
process.exit(0);

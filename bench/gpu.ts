/**
 * The GPU sections of the bench (bench/run.ts --device cuda|all), each figure beside PyTorch on the same GPU
 * in the same run, ours and PyTorch's measured alternately:
 *
 *   gemm       tf.matmul of two [n, n] float32 matrices, FP32 ('highest') and TF32 ('high') vs torch.matmul with
 *              torch.backends.cuda.matmul.allow_tf32 False / True
 *   conv       tf.nn.F.conv2d forward, and the gradient of the input alone (backward-data) and of the
 *              weight alone (backward-weight) through tf.autograd.grad, on the CPU conv table's shapes at batch 128,
 *              vs F.conv2d and torch.autograd.grad (cuDNN, TF32 as for gemm)
 *   batchnorm  nn.BatchNorm2d in training mode, forward and the gradients of x, γ and β
 *   e2e        LeNet-5 and ResNet-20 training and inference images/s at batch 128 (bench/e2e.ts), PyTorch eager FP32
 *   epoch      the LeNet-5 main job's epoch (trainEpoch over a DataLoader of 55,000 MNIST-shaped images at batch 64,
 *              Adam with a one-cycle schedule) on cpu and on cuda, and tf.cuda.memoryAllocated after every step
 *              of the cuda run: flat over 1,000 steps when nothing leaks
 *   crossover  LeNet-5 and the MLP: training images/s on cpu and cuda by batch size, and the batch from which
 *              cuda wins
 *
 * Timing: tf.cuda.synchronize() / torch.cuda.synchronize() before every clock read, warm-up calls first, groups of
 * calls sized to a target time, median and best over the groups (util.ts timeGroups, torch_bench.py time_groups).
 * Every section has a time limit: past it, the section starts nothing new and says what it left out (a single call
 * already running is not interrupted; bench/gpu-run.sh puts a hard limit on the whole process).
 */
import { join } from 'node:path';
import * as tf from '../lib/index.js';
import { convPasses, type ConvPass } from './ops.js';
import { runOurs } from './e2e.js';
import {
  benchDir, better, convCases, formatCell, printTable, startLineServer, timeGroups,
  type E2eMode, type E2eRequest, type E2eResult, type LineServer, type Timing, type Workload,
} from './util.js';
import type { E2eCell } from './report.js';
import type { Pair, Shape4 } from '../lib/bindings/conv.js';

export type GpuSize = 'full' | 'quick' | 'tiny';
export type GpuSection = 'gemm' | 'conv' | 'batchnorm' | 'e2e' | 'epoch' | 'crossover';

/** Sizes, repetitions and time limits of one GPU run. */
export interface GpuPlan {
  size: GpuSize;
  gemmSizes: number[];
  /** Alternating rounds of ours and PyTorch's kernel timings; each side keeps its best median. */
  rounds: number;
  /** Target seconds per timed group of calls, and groups per timing. */
  seconds: number;
  reps: number;
  convBatch: number;
  /** Channels divided by this and spatial sizes halved (tiny runs on the emulated device). */
  convShrink: number;
  batchNormShapes: Shape4[];
  e2eBatch: number;
  e2eSeconds: number;
  /** Images of the main-job epoch run on cpu; its time is scaled to the full epoch when fewer. */
  epochCpuImages: number;
  /** Steps of the main-job run on cuda (batch 64), with device memory read after each. */
  epochCudaSteps: number;
  crossoverBatches: number[];
  limits: Record<GpuSection, number>;
}

/** Images in an epoch of the main job: MNIST's 60,000 training images less the 5,000 of the validation split. */
export const mainJobEpochImages = 55_000;
const mainJobBatch = 64;

/**
 * Quick is what scripts/gpu-check.sh runs after the device suites. Estimated for an H100 SXM with PyTorch at
 * ~50 TFLOP/s FP32 GEMM (of ~60-67 peak without tensor cores) and ~400 TF32 (dense, effective), and our kernels
 * at a tenth of those peaks (6 and 40 TFLOP/s) as the worst case. A timing is 1 warm-up call, 1 sizing call and 3
 * groups of ≥ 0.05 s (one group when a call exceeds 0.15 s), ~0.2 s for any call under 50 ms.
 *   gemm: 8192³ FP32 is 0.18 s per call at 6 TFLOP/s (3 calls: 0.55 s), the other three cases ~0.2 s each;
 *     2 rounds: ~2 s ours, ~1.5 s PyTorch (inputs are drawn on the device): ~4 s.
 *   conv: the five shapes at batch 128 are ~40 GFLOP per pass (the 256-channel one 30: 5 ms at 6 TFLOP/s);
 *     15 passes × 2 precisions × 2 sides × 2 rounds of ~0.2 s: ~25 s.  batchnorm: 16 timings, ~3 s.
 *   e2e: 4 figures × 2 sides × (2 calls + 3 groups of 0.3 s): ~10 s with model set-up.
 *   epoch: 6,400 images on the host's cores (~2-3 s at 2,000-3,000 images/s) and 1,000 cuda steps at 3-10 ms:
 *     ≤ 15 s.  crossover: 2 workloads × 4 batches × 2 devices × ~1.1 s: ~18 s.
 * About 75 s, plus ~25 s of start-up (tsx, the CPU limits, the CPU-vs-GPU op rows, PyTorch's import and CUDA
 * context): under 2 minutes. The limits below stop the sections at 170 s in all; bench/gpu-run.sh kills the
 * process at 240 s.
 */
export function gpuPlan(size: GpuSize): GpuPlan {
  const quickLimits: Record<GpuSection, number> = { gemm: 30, conv: 35, batchnorm: 10, e2e: 30, epoch: 35, crossover: 30 };
  if (size === 'full') {
    return {
      size, gemmSizes: [4096, 8192], rounds: 3, seconds: 0.25, reps: 5, convBatch: 128, convShrink: 1,
      batchNormShapes: [[128, 16, 32, 32], [128, 64, 32, 32]], e2eBatch: 128, e2eSeconds: 1,
      epochCpuImages: mainJobEpochImages, epochCudaSteps: 1000, crossoverBatches: [8, 16, 32, 64, 128, 256, 512, 1024, 2048],
      limits: scaleLimits(quickLimits, 6),
    };
  }
  if (size === 'quick') {
    return {
      size, gemmSizes: [4096, 8192], rounds: 2, seconds: 0.05, reps: 3, convBatch: 128, convShrink: 1,
      batchNormShapes: [[128, 16, 32, 32], [128, 64, 32, 32]], e2eBatch: 128, e2eSeconds: 0.3,
      epochCpuImages: 6400, epochCudaSteps: 1000, crossoverBatches: [16, 64, 256, 1024], limits: quickLimits,
    };
  }
  // tiny: every path once, for a rehearsal on the emulated device (where a kernel runs ~10⁴ times slower).
  return {
    size, gemmSizes: [48, 64], rounds: 1, seconds: 0.01, reps: 2, convBatch: 2, convShrink: 8,
    batchNormShapes: [[2, 4, 6, 6]], e2eBatch: 4, e2eSeconds: 0.01,
    epochCpuImages: 2 * mainJobBatch, epochCudaSteps: 4, crossoverBatches: [2, 8], limits: quickLimits,
  };
}

function scaleLimits(limits: Record<GpuSection, number>, factor: number): Record<GpuSection, number> {
  return Object.fromEntries(Object.entries(limits).map(([k, v]) => [k, v * factor])) as Record<GpuSection, number>;
}

/** A measured call: its timing and rate (GFLOP/s or GB/s from the median), or why there is none. */
export type KernelFigure = { timing: Timing; rate: number } | { note: string };

export interface KernelRow {
  section: 'gemm' | 'conv' | 'batchnorm';
  name: string;
  pass: string;
  precision: 'fp32' | 'tf32';
  unit: 'GFLOP/s' | 'GB/s';
  /** Flops or minimal bytes moved per call. */
  work: number;
  ours: KernelFigure;
  pytorch: KernelFigure;
  /** ours / PyTorch from the medians; absent without both. */
  ratio?: number;
  /** The ratio the issue asks for, where it asks for one. */
  required?: number;
}

export interface E2eGpuRow {
  workload: Workload;
  mode: E2eMode;
  batch: number;
  ours: E2eCell;
  pytorch: E2eCell;
  ratio?: number;
  required?: number;
}

/** One device's main-job run: the images it ran, their time, and the epoch time at that rate. */
export interface EpochFigure {
  images: number;
  seconds: number;
  imagesPerSecond: number;
  epochSeconds: number;
}

export interface MemoryTrace {
  /** Steps run; the trace counts from `settledAfter` (the optimizer's state exists from step 1). */
  steps: number;
  settledAfter: number;
  /** [step, tf.cuda.memoryAllocated() after it] at 1, 2, 5, 10, 20, 50, ... and the last step. */
  samples: Array<[number, number]>;
  min: number;
  max: number;
  /** memoryAllocated is the same after every step from settledAfter on. */
  flat: boolean;
}

export interface CrossoverPoint {
  batch: number;
  cpu?: number;
  cuda?: number;
}

export interface CrossoverRow {
  workload: Workload;
  points: CrossoverPoint[];
  /** crossoverBatch of the points. */
  batch: number | null;
}

export interface GpuReport {
  size: GpuSize;
  device: string;
  pytorch: string;
  kernels: KernelRow[];
  e2e: E2eGpuRow[];
  epoch: { cpu?: EpochFigure; cuda?: EpochFigure; cpuThreads: number; memory?: MemoryTrace; notes: string[] };
  crossover: CrossoverRow[];
  /** Per section: its limit, the seconds it took, and what it left out at its limit. */
  sections: Partial<Record<GpuSection, { limit: number; seconds: number; skipped: string[] }>>;
  /** Each figure the issue sets a target for: met or not (missing figures are not met). */
  acceptance: Array<{ figure: string; ratio: number | null; required: number; met: boolean }>;
}

/**
 * The smallest measured batch from which cuda's training rate beats cpu's at that batch and every larger
 * measured one; null when cuda does not win at the largest measured batch. A batch missing either figure
 * (skipped at a time limit) is left out.
 */
export function crossoverBatch(points: readonly CrossoverPoint[]): number | null {
  const measured = points.filter((p) => p.cpu !== undefined && p.cuda !== undefined).sort((a, b) => b.batch - a.batch);
  let from: number | null = null;
  for (const p of measured) {
    if (!(p.cuda! > p.cpu!)) break;
    from = p.batch;
  }
  return from;
}

/** The PyTorch process (bench/peers/torch_bench.py) and the device it runs on, or why it is absent. */
export type TorchPeer = { server: LineServer; device: 'cpu' | 'cuda'; label: string } | { absent: string };

/**
 * Starts torch_bench.py with `python` for figures on `device`: cuda on a GPU machine; cpu only to rehearse
 * the protocol where torch has no CUDA (its figures are then not the GPU's).
 */
export async function startTorchPeer(python: string, device: 'cpu' | 'cuda'): Promise<TorchPeer> {
  const { server, reason } = await startLineServer(python, [join(benchDir, 'peers', 'torch_bench.py')], { info: true });
  if (!server) return { absent: reason };
  const about = await server.request<{ version: string; cuda: string | null; reason: string }>({ info: true });
  if (device === 'cuda' && !about.cuda) {
    server.close();
    return { absent: `PyTorch ${about.version}: ${about.reason}` };
  }
  return { server, device, label: `PyTorch ${about.version} on ${device === 'cuda' ? about.cuda : 'cpu (a rehearsal: not GPU figures)'}` };
}

export interface GpuBenchOptions {
  plan: GpuPlan;
  torch: TorchPeer;
  /** Called after each section, so that a run killed at its hard limit leaves what it measured. */
  save: (partial: GpuReport) => void;
}

/** Stops a section from starting more work past its time limit, and records what it left out. */
class SectionClock {
  private readonly start = performance.now();
  readonly skipped: string[] = [];

  constructor(readonly name: GpuSection, readonly limit: number) {}

  get seconds(): number {
    return (performance.now() - this.start) / 1000;
  }

  /** Whether `what` may start; if not, it is recorded as left out. */
  allows(what: string): boolean {
    if (this.seconds < this.limit) return true;
    this.skipped.push(what);
    return false;
  }
}

const synchronize = (): void => tf.cuda.synchronize();
const errorNote = (e: unknown): string => `error: ${(e as Error).message.split('\n')[0]}`;

/** One kernel timing of ours: `prepare` builds the inputs and returns the call; tensors are released after each call. */
function timeOurs(plan: GpuPlan, tf32: boolean, prepare: () => () => void): Timing {
  tf.setFloat32MatmulPrecision(tf32 ? 'high' : 'highest');
  return tf.releaseAfter(() => {
    const call = prepare();
    return timeGroups(() => tf.releaseAfter(call), { seconds: plan.seconds, reps: plan.reps, warmup: 1, sync: synchronize });
  });
}

/** A kernel case: its row without figures, how ours runs, and PyTorch's request. */
interface KernelCase {
  row: Omit<KernelRow, 'ours' | 'pytorch' | 'ratio'>;
  ours: () => () => void;
  torch: Record<string, unknown>;
}

function gemmCases(plan: GpuPlan): KernelCase[] {
  return plan.gemmSizes.flatMap((n) => (['fp32', 'tf32'] as const).map((precision): KernelCase => ({
    row: { section: 'gemm', name: `${n}³`, pass: 'matmul', precision, unit: 'GFLOP/s', work: 2 * n ** 3, required: precision === 'fp32' ? 0.8 : 0.7 },
    ours: () => {
      const a = tf.randn([n, n], { device: 'cuda' }), b = tf.randn([n, n], { device: 'cuda' });
      return () => void tf.matmul(a, b);
    },
    torch: { kernel: 'gemm', n },
  })));
}

/** The CPU conv table's shapes at the plan's batch (channels and sizes shrunk for tiny runs). */
function convShapes(plan: GpuPlan): Array<{ name: string; x: Shape4; w: Shape4; stride: Pair; padding: Pair }> {
  const shrink = (c: number) => Math.max(1, Math.ceil(c / plan.convShrink));
  const half = (s: number) => (plan.convShrink > 1 ? Math.ceil(s / 2) : s);
  return convCases.map((c) => {
    const x: Shape4 = [plan.convBatch, shrink(c.x[1]), half(c.x[2]), half(c.x[3])];
    const w: Shape4 = [shrink(c.w[0]), x[1], c.w[2], c.w[3]];
    return { name: `${c.name.replace(/\[\d+,/, '[N,')}, N=${plan.convBatch}${plan.convShrink > 1 ? ` (tiny: x [${x}], w [${w}])` : ''}`, x, w, stride: c.stride, padding: c.padding };
  });
}

function convKernelCases(plan: GpuPlan): KernelCase[] {
  return convShapes(plan).flatMap((c) => convPasses.flatMap((pass) => (['fp32', 'tf32'] as const).map((precision): KernelCase => {
    const [N, C, H, W] = c.x, [K, , R, S] = c.w;
    const P = Math.floor((H + 2 * c.padding[0] - R) / c.stride[0]) + 1, Q = Math.floor((W + 2 * c.padding[1] - S) / c.stride[1]) + 1;
    return {
      row: { section: 'conv', name: c.name, pass, precision, unit: 'GFLOP/s', work: 2 * N * K * C * R * S * P * Q, required: 0.5 },
      ours: () => convCall(c, pass),
      torch: { kernel: 'conv', x: c.x, w: c.w, stride: c.stride, padding: c.padding, pass },
    };
  })));
}

/** The call of one conv pass; a backward pass asks autograd for one input's gradient of a retained graph. */
function convCall(c: { x: Shape4; w: Shape4; stride: Pair; padding: Pair }, pass: ConvPass): () => void {
  const x = tf.randn(c.x, { device: 'cuda', requiresGrad: pass === 'backwardData' });
  const w = tf.randn(c.w, { device: 'cuda', requiresGrad: pass === 'backwardWeight' });
  const conv = () => tf.nn.F.conv2d(x, w, null, { stride: c.stride, padding: c.padding });
  if (pass === 'forward') return () => void conv();
  const y = conv();
  const dy = tf.randnLike(y);
  const wrt = pass === 'backwardData' ? x : w;
  return () => void tf.autograd.grad(y, [wrt], { gradOutputs: [freshView(dy)], retainGraph: true });
}

/**
 * A new tensor object on dy's storage (no copy). A fused backward (nn/functional/common.ts fusedBackward) keeps
 * its last results for the gradient object it was given, so a second backward of the same graph with the same
 * gradient object would return the first call's gradients without computing anything.
 */
const freshView = (dy: tf.Tensor): tf.Tensor => dy.view(dy.shape);

function batchNormCases(plan: GpuPlan): KernelCase[] {
  return plan.batchNormShapes.flatMap((shape) => (['forward', 'backward'] as const).map((pass): KernelCase => {
    const elements = shape.reduce((a, b) => a * b, 1);
    return {
      // Minimal traffic: forward reads x and writes y; backward reads x and dy and writes dx.
      row: { section: 'batchnorm', name: `BatchNorm2d [${shape}]`, pass, precision: 'fp32', unit: 'GB/s', work: 4 * elements * (pass === 'forward' ? 2 : 3) },
      ours: () => {
        const bn = new tf.nn.BatchNorm2d(shape[1]).to('cuda');
        bn.train();
        const x = tf.randn(shape, { device: 'cuda', requiresGrad: true });
        if (pass === 'forward') return () => void bn.call(x);
        const y = bn.call(x);
        const dy = tf.randnLike(y);
        const params = bn.parameters();
        return () => void tf.autograd.grad(y, [x, ...params], { gradOutputs: [freshView(dy)], retainGraph: true });
      },
      torch: { kernel: 'batchnorm', shape, pass },
    };
  }));
}

const figure = (timing: Timing, work: number): KernelFigure => ({ timing, rate: work / timing.median / 1e9 });

/** One side's figure of a case, or why there is none. */
interface Side<T> {
  value?: T;
  note: string;
}

/**
 * Ours and PyTorch's figures of one case, measured alternately for up to `rounds` rounds (a round after the first
 * only within the section's limit); each side keeps the figure `pick` prefers.
 */
async function alternate<T>(
  rounds: number, clock: SectionClock, label: string, torch: TorchPeer,
  ours: () => T, theirs: (server: LineServer, device: 'cpu' | 'cuda') => Promise<T>, pick: (a: T | undefined, b: T) => T,
): Promise<{ ours: Side<T>; theirs: Side<T> }> {
  const mine: Side<T> = { note: '' }, peer: Side<T> = { note: 'absent' in torch ? torch.absent : '' };
  for (let round = 0; round < rounds && (round === 0 || clock.allows(`${label} round ${round + 1}`)); round++) {
    try {
      mine.value = pick(mine.value, ours());
    } catch (e) {
      mine.note = errorNote(e);
    }
    if ('server' in torch) {
      try {
        peer.value = pick(peer.value, await theirs(torch.server, torch.device));
      } catch (e) {
        peer.note = errorNote(e);
      }
    }
  }
  return { ours: mine, theirs: peer };
}

/** Times the cases, ours and PyTorch's alternately for `plan.rounds` rounds; each side keeps its best median. */
async function runKernels(cases: KernelCase[], plan: GpuPlan, torch: TorchPeer, clock: SectionClock): Promise<KernelRow[]> {
  const rows: KernelRow[] = [];
  for (const c of cases) {
    const label = `${c.row.name} ${c.row.pass} ${c.row.precision}`;
    if (!clock.allows(label)) continue;
    const tf32 = c.row.precision === 'tf32';
    const { ours, theirs } = await alternate(
      plan.rounds, clock, label, torch,
      () => timeOurs(plan, tf32, c.ours),
      (server, device) => server.request<Timing>({ ...c.torch, tf32, device, seconds: plan.seconds, reps: plan.reps, warmup: 1 }),
      better,
    );
    const kernelFigure = (side: Side<Timing>): KernelFigure => (side.value ? figure(side.value, c.row.work) : { note: side.note });
    const row: KernelRow = { ...c.row, ours: kernelFigure(ours), pytorch: kernelFigure(theirs) };
    if (ours.value && theirs.value) row.ratio = theirs.value.median / ours.value.median;
    rows.push(row);
  }
  return rows;
}

/** LeNet-5 and ResNet-20 training and inference at the plan's batch, ours and PyTorch's alternately, FP32. */
async function runE2e(plan: GpuPlan, torch: TorchPeer, clock: SectionClock): Promise<E2eGpuRow[]> {
  const rows: E2eGpuRow[] = [];
  const rounds = plan.size === 'full' ? 2 : 1;
  const faster = (a: E2eResult | undefined, b: E2eResult) => (a && a.imagesPerSecond >= b.imagesPerSecond ? a : b);
  const cell = (side: Side<E2eResult>): E2eCell => (side.value ? { imagesPerSecond: side.value.imagesPerSecond, spread: side.value.spread } : { note: side.note });
  for (const workload of ['lenet5', 'resnet20'] as const) {
    for (const mode of ['train', 'infer'] as const) {
      const label = `${workload} ${mode}`;
      if (!clock.allows(label)) continue;
      const req: E2eRequest = {
        workload, mode, batch: plan.e2eBatch, threads: tf.getNumThreads(), seconds: plan.e2eSeconds, reps: plan.reps, device: 'cuda', tf32: false, warmup: 1,
      };
      const { ours, theirs } = await alternate(
        rounds, clock, label, torch,
        () => tf.releaseAfter(() => runOurs(req)),
        (server, device) => server.request<E2eResult>({ ...req, device }),
        faster,
      );
      const row: E2eGpuRow = { workload, mode, batch: plan.e2eBatch, ours: cell(ours), pytorch: cell(theirs) };
      if (ours.value && theirs.value) row.ratio = ours.value.imagesPerSecond / theirs.value.imagesPerSecond;
      if (workload === 'resnet20' && mode === 'train') row.required = 1;
      rows.push(row);
    }
  }
  return rows;
}

/** `images` random MNIST-shaped images (the epoch's time does not depend on the pixels) with random labels. */
function syntheticMnist(images: number): tf.data.ArrayDataset {
  const pixels = new Uint8Array(images * 784), labels = new Int32Array(images);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (Math.random() * 256) | 0;
  for (let i = 0; i < images; i++) labels[i] = (Math.random() * 10) | 0;
  return new tf.data.ArrayDataset(pixels, labels, [1, 28, 28]);
}

/**
 * The main job's training loop (lib/train/mnist.ts: LeNet-5, Adam lr 3e-3 with a per-batch one-cycle schedule,
 * trainEpoch over a shuffled DataLoader at batch 64 with the MNIST normalization) for `images` images on `device`,
 * after two untimed warm-up batches. `afterStep` sees each step's index; the loader stops at the section's limit.
 */
async function mainJobRun(device: tf.Device, images: number, clock: SectionClock, afterStep: (step: number) => void = () => {}): Promise<EpochFigure | string> {
  const { data, optim, train, models, nn } = tf;
  const transforms = [data.toFloat().spec, data.normalize([0.1307], [0.3081]).spec];
  const loaderOf = (set: tf.data.ArrayDataset) => new data.DataLoader(set, { batchSize: mainJobBatch, shuffle: true, seed: 1, transforms });
  const model = models.lenet5().to(device);
  const optimizer = new optim.Adam(model.parameters(), { lr: 3e-3 });
  const loader = loaderOf(syntheticMnist(images));
  const scheduler = new optim.OneCycleLR(optimizer, { maxLr: 3e-3, totalSteps: loader.length + 2 });
  const lossFn = (y: tf.Tensor, t: tf.Tensor) => nn.F.crossEntropy(y, t);
  await train.trainEpoch(model, loaderOf(syntheticMnist(2 * mainJobBatch)), optimizer, lossFn, { afterStep: () => scheduler.step() });
  let step = 0;
  const limited = {
    length: loader.length,
    async *[Symbol.asyncIterator]() {
      for await (const batch of loader) {
        if (!clock.allows(`${device} steps from ${step + 1} of ${loader.length}`)) return;
        yield batch;
      }
    },
  };
  const fit = await train.trainEpoch(model, limited, optimizer, lossFn, { afterStep: () => { scheduler.step(); afterStep(++step); } });
  if (fit.samples === 0) return 'not run: section time limit';
  return { images: fit.samples, seconds: fit.seconds, imagesPerSecond: fit.imagesPerSecond, epochSeconds: mainJobEpochImages / fit.imagesPerSecond };
}

/** Memory after each step at 1, 2, 5 × powers of ten and the last; min and max from `settledAfter` on. */
function memoryTracer(settledAfter: number): { record: (step: number) => void; trace: () => MemoryTrace | undefined } {
  const samples: Array<[number, number]> = [];
  let min = Infinity, max = -Infinity, last: [number, number] | undefined;
  return {
    record(step) {
      const bytes = tf.cuda.memoryAllocated();
      last = [step, bytes];
      if (/^[125]0*$/.test(String(step))) samples.push(last);
      if (step >= settledAfter) {
        min = Math.min(min, bytes);
        max = Math.max(max, bytes);
      }
    },
    trace() {
      if (!last) return undefined;
      if (samples.at(-1) !== last) samples.push(last);
      return { steps: last[0], settledAfter, samples, min, max, flat: last[0] >= settledAfter && min === max };
    },
  };
}

async function runEpoch(plan: GpuPlan, clock: SectionClock): Promise<GpuReport['epoch']> {
  const result: GpuReport['epoch'] = { cpuThreads: tf.getNumThreads(), notes: [] };
  const keep = (device: 'cpu' | 'cuda', r: EpochFigure | string) => (typeof r === 'string' ? void result.notes.push(`${device}: ${r}`) : (result[device] = r));
  try {
    keep('cpu', await mainJobRun('cpu', plan.epochCpuImages, clock));
  } catch (e) {
    result.notes.push(`cpu: ${errorNote(e)}`);
  }
  const memory = memoryTracer(Math.min(10, plan.epochCudaSteps));
  try {
    keep('cuda', await mainJobRun('cuda', plan.epochCudaSteps * mainJobBatch, clock, memory.record));
  } catch (e) {
    result.notes.push(`cuda: ${errorNote(e)}`);
  }
  result.memory = memory.trace();
  if (plan.epochCpuImages < mainJobEpochImages || plan.epochCudaSteps * mainJobBatch !== mainJobEpochImages) {
    result.notes.push(`epoch seconds = ${mainJobEpochImages} images at the images/s of the run (cpu ran ${result.cpu?.images ?? 0}, cuda ${result.cuda?.images ?? 0})`);
  }
  return result;
}

async function runCrossover(plan: GpuPlan, clock: SectionClock): Promise<CrossoverRow[]> {
  const threads = tf.getNumThreads();
  const rows: CrossoverRow[] = [];
  for (const workload of ['lenet5', 'mlp'] as const) {
    const points: CrossoverPoint[] = [];
    for (const batch of plan.crossoverBatches) {
      const point: CrossoverPoint = { batch };
      for (const device of ['cpu', 'cuda'] as const) {
        if (!clock.allows(`${workload} batch ${batch} ${device}`)) continue;
        const req: E2eRequest = { workload, mode: 'train', batch, threads, seconds: plan.e2eSeconds, reps: plan.reps, device, warmup: 1 };
        try {
          point[device] = tf.releaseAfter(() => runOurs(req)).imagesPerSecond;
        } catch (e) {
          clock.skipped.push(`${workload} batch ${batch} ${device}: ${errorNote(e)}`);
        }
      }
      points.push(point);
    }
    rows.push({ workload, points, batch: crossoverBatch(points) });
  }
  return rows;
}

/** Runs the GPU sections in order; each section's figures are saved as soon as it ends. */
export async function runGpuBench({ plan, torch, save }: GpuBenchOptions): Promise<GpuReport> {
  const info = tf.backendInfo().cuda.devices[0];
  const report: GpuReport = {
    size: plan.size,
    device: info ? `${info.name} (sm ${info.computeCapability})` : 'none',
    pytorch: 'absent' in torch ? `absent: ${torch.absent}` : torch.label,
    kernels: [], e2e: [], epoch: { cpuThreads: tf.getNumThreads(), notes: [] }, crossover: [], sections: {}, acceptance: [],
  };
  const section = async (name: GpuSection, body: (clock: SectionClock) => Promise<void>) => {
    const clock = new SectionClock(name, plan.limits[name]);
    try {
      await body(clock);
    } catch (e) {
      clock.skipped.push(`the rest: ${errorNote(e)}`);
    }
    report.sections[name] = { limit: clock.limit, seconds: Math.round(clock.seconds * 10) / 10, skipped: clock.skipped };
    report.acceptance = acceptanceOf(report);
    save(report);
  };
  await section('gemm', async (clock) => void report.kernels.push(...await runKernels(gemmCases(plan), plan, torch, clock)));
  await section('conv', async (clock) => void report.kernels.push(...await runKernels(convKernelCases(plan), plan, torch, clock)));
  await section('batchnorm', async (clock) => void report.kernels.push(...await runKernels(batchNormCases(plan), plan, torch, clock)));
  await section('e2e', async (clock) => void (report.e2e = await runE2e(plan, torch, clock)));
  await section('epoch', async (clock) => void (report.epoch = await runEpoch(plan, clock)));
  await section('crossover', async (clock) => void (report.crossover = await runCrossover(plan, clock)));
  tf.setFloat32MatmulPrecision('highest');
  return report;
}

/** The figures with a target, from the kernel and end-to-end rows. */
function acceptanceOf(r: GpuReport): GpuReport['acceptance'] {
  const rows: Array<{ figure: string; ratio?: number; required?: number }> = [
    ...r.kernels.map((k) => ({ figure: `${k.section} ${k.name} ${k.pass} ${k.precision}`, ratio: k.ratio, required: k.required })),
    ...r.e2e.map((e) => ({ figure: `${e.workload} ${e.mode} batch ${e.batch}`, ratio: e.ratio, required: e.required })),
  ];
  return rows.filter((a) => a.required !== undefined)
    .map((a) => ({ figure: a.figure, ratio: a.ratio ?? null, required: a.required!, met: a.ratio !== undefined && a.ratio >= a.required! }));
}

const figureText = (f: KernelFigure): string => ('timing' in f ? formatCell(f.rate) : f.note);
const ratioText = (ratio: number | undefined, required: number | undefined): string =>
  ratio === undefined ? '—' : `${(100 * ratio).toFixed(0)}%${required === undefined ? '' : ratio >= required ? ' ok' : ` < ${100 * required}%`}`;
const ms = (f: KernelFigure): string => ('timing' in f ? `${(f.timing.median * 1e3).toFixed(3)} / ${(f.timing.best * 1e3).toFixed(3)}` : '—');

export function printGpuReport(r: GpuReport): void {
  console.log(`\n== GPU: ${r.device}, size ${r.size}; PyTorch ${r.pytorch}. Rates from the median; ms = median / best per call`);
  console.log('\n-- kernels (ours / PyTorch from the medians; ok when at least the target)');
  printTable(['kernel', 'pass', 'precision', 'unit', 'ours', 'PyTorch', 'ours/PyTorch', 'ours ms', 'PyTorch ms'], r.kernels.map((k) => [
    `${k.section} ${k.name}`, k.pass, k.precision, k.unit, figureText(k.ours), figureText(k.pytorch), ratioText(k.ratio, k.required), ms(k.ours), ms(k.pytorch),
  ]));
  console.log('\n-- end-to-end on cuda, images/s (median), FP32');
  const cell = (c: E2eCell) => (c.imagesPerSecond === undefined ? c.note ?? '—' : formatCell(c.imagesPerSecond));
  printTable(['workload', 'mode', 'batch', 'ours', 'PyTorch', 'ours/PyTorch'], r.e2e.map((e) => [
    e.workload, e.mode, e.batch, cell(e.ours), cell(e.pytorch), ratioText(e.ratio, e.required),
  ]));
  const { cpu, cuda, memory } = r.epoch;
  console.log(`\n-- LeNet-5 main job epoch (${mainJobEpochImages} images, batch ${mainJobBatch}; cpu on ${r.epoch.cpuThreads} threads)`);
  const epochRow = (device: string, f?: EpochFigure) => [device, f ? f.images : '—', f ? f.imagesPerSecond : '—', f ? f.epochSeconds : '—'];
  printTable(['device', 'images run', 'images/s', 'epoch s'], [epochRow('cpu', cpu), epochRow('cuda', cuda)]);
  if (cpu && cuda) console.log(`cuda epoch / cpu epoch: ${(cuda.epochSeconds / cpu.epochSeconds).toFixed(2)}`);
  if (memory) {
    console.log(`device memory over ${memory.steps} cuda steps: ${memory.flat ? 'flat' : 'NOT flat'} from step ${memory.settledAfter} ` +
      `(min ${memory.min}, max ${memory.max} bytes); after step: ${memory.samples.map(([s, b]) => `${s}: ${b}`).join(', ')}`);
  }
  for (const note of r.epoch.notes) console.log(`note: ${note}`);
  console.log('\n-- CPU vs GPU crossover: training images/s by batch');
  for (const c of r.crossover) {
    printTable([`${c.workload} batch`, ...c.points.map((p) => String(p.batch))], [
      ['cpu', ...c.points.map((p) => p.cpu ?? '—')], ['cuda', ...c.points.map((p) => p.cuda ?? '—')],
    ]);
    const smallest = Math.min(...c.points.map((p) => p.batch));
    console.log(`${c.workload}: cuda wins ${c.batch === null ? 'at no measured batch (not at the largest)' : c.batch === smallest ? `at every measured batch (from ≤ ${c.batch})` : `from batch ${c.batch}`}`);
  }
  const missed = r.acceptance.filter((a) => !a.met && a.ratio !== null);
  const unmeasured = r.acceptance.filter((a) => a.ratio === null).length;
  console.log(`\nacceptance: ${r.acceptance.filter((a) => a.met).length} of ${r.acceptance.length} targets met` +
    `${unmeasured ? `, ${unmeasured} without both figures` : ''}` +
    `${missed.length ? `; below target: ${missed.map((a) => `${a.figure} ${(100 * a.ratio!).toFixed(0)}% < ${100 * a.required}%`).join('; ')}` : ''}`);
  console.log(`sections (s used / limit): ${Object.entries(r.sections).map(([k, s]) => `${k} ${s!.seconds}/${s!.limit}${s!.skipped.length ? ` (left out: ${s!.skipped.join('; ')})` : ''}`).join(', ')}`);
}

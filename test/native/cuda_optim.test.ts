// The CUDA multi-tensor optimizer updates and gradient clipping (cuda/optim.cu) against the CPU kernels,
// through the same group bindings: every rule and option, several steps, groups of many tensors of odd
// sizes (chunks of 4096 elements, 12 tensors and 320 chunks a launch: a tensor cut across chunks, a group
// that takes several launches, a tensor cut between two launches), per-parameter step counts, float32 and
// float64. Runs where a CUDA device is usable (the emulated device of build-emu).
import { describe, expect, it } from 'vitest';
import { native } from '../../lib/native.js';
import { expectClose, makeRng, randomArray, type Rng } from '../util.js';
import { deviceCount, dev, download, upload } from './device_calls.js';

type Buf = Float32Array | Float64Array;
type FloatCtor = Float32ArrayConstructor | Float64ArrayConstructor;
const ops = native as unknown as Record<string, (...args: unknown[]) => void>;
const hasCuda = deviceCount > 0;

/** A rule's call: its arguments before the buffer runs, given each tensor's step (1-based) this call. */
interface Rule {
  op: string;
  /** Buffers per tensor after param and grad, and which of them are present. */
  states: boolean[];
  /** The states' starting value (Adagrad's initial accumulator), 0 otherwise. */
  init?: number;
  head(count: number, steps: number[]): unknown[];
}

/** Parameters of `sizes` with their states, on the cpu and on the device; the same grads for both each step. */
function runGroup(rule: Rule, sizes: number[], Arr: FloatCtor, rng: Rng, steps: number, label: string): void {
  const rand = (n: number) => randomArray(Arr as Float64ArrayConstructor, n, rng, -2, 2);
  const host = sizes.map((n) => [rand(n), rand(n), ...rule.states.map((on) => (on ? new Arr(n).fill(rule.init ?? 0) : null))]);
  const handles = host.map((run) => run.map((b) => b && upload(b)));
  // Parameters start at different step counts, as when some had no gradient on earlier steps.
  const firstStep = sizes.map((_, t) => 1 + (t % 3));
  try {
    for (let k = 0; k < steps; k++) {
      const stepOf = firstStep.map((s) => s + k);
      host.forEach((run, t) => {
        run[1] = rand(sizes[t]!);
        dev.deviceUpload(handles[t]![1]!, 0, run[1]);
      });
      const head = rule.head(sizes.length, stepOf);
      ops[rule.op]!(...head, ...host.flat());
      ops[rule.op]!(...head, ...handles.flat());
      const tol = Arr === Float32Array ? 1e-6 : 1e-13;
      host.forEach((run, t) => run.forEach((b, j) => {
        if (b && j !== 1) {
          expectClose(download(handles[t]![j]!, b), b, { atol: tol, rtol: tol, seed: rng.seed, label: `${label} step ${k + 1} tensor ${t} (${sizes[t]}) buffer ${j}` });
        }
      }));
    }
  } finally {
    for (const run of handles) for (const h of run) if (h) dev.deviceFree(h);
  }
}

const sgd = (h: Record<string, unknown>): Rule => ({
  op: 'sgdStep', states: [h.momentum !== 0],
  head: (count, steps) => [{ lr: 0.05, momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, maximize: false, ...h }, count, steps.map((s) => (s === 1 ? 1 : 0))],
});
const adam = (h: Record<string, unknown>, decoupled: boolean): Rule => ({
  op: 'adamStep', states: [true, true, h.amsgrad === true],
  head: (count, steps) => [{ lr: 0.01, betas: [0.9, 0.99], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false, ...h }, decoupled, count, steps],
});
const rmsprop = (h: Record<string, unknown>): Rule => ({
  op: 'rmspropStep', states: [true, h.centered === true, (h.momentum as number ?? 0) > 0],
  head: (count) => [{ lr: 0.01, alpha: 0.9, eps: 1e-8, weightDecay: 0, momentum: 0, centered: false, maximize: false, ...h }, count],
});
const adagrad = (h: Record<string, unknown>): Rule => ({
  op: 'adagradStep', states: [true], init: (h.initialAccumulatorValue as number) ?? 0,
  head: (count, steps) => [{ lr: 0.1, lrDecay: 0, weightDecay: 0, eps: 1e-10, initialAccumulatorValue: 0, maximize: false, ...h }, count, steps],
});

const rules: Array<[string, Rule]> = [
  ['SGD plain', sgd({})],
  ['SGD momentum + dampening + weight decay', sgd({ momentum: 0.9, dampening: 0.3, weightDecay: 0.01 })],
  ['SGD nesterov + maximize', sgd({ momentum: 0.8, nesterov: true, maximize: true })],
  ['Adam', adam({}, false)],
  ['Adam L2 decay + amsgrad + maximize', adam({ weightDecay: 0.05, amsgrad: true, maximize: true }, false)],
  ['AdamW', adam({ weightDecay: 0.1 }, true)],
  ['AdamW amsgrad', adam({ weightDecay: 0.1, amsgrad: true }, true)],
  ['RMSprop plain', rmsprop({})],
  ['RMSprop centered + momentum + weight decay', rmsprop({ centered: true, momentum: 0.5, weightDecay: 0.01 })],
  ['RMSprop momentum + maximize', rmsprop({ momentum: 0.9, maximize: true })],
  ['Adagrad', adagrad({})],
  ['Adagrad lr decay + weight decay + initial accumulator + maximize', adagrad({ lrDecay: 0.05, weightDecay: 0.01, initialAccumulatorValue: 0.1, maximize: true })],
];

// Odd sizes around the 4096-element chunk, 14 tensors (> 12 a launch), an empty one in the middle.
const GROUP = [1, 4095, 4096, 4097, 7, 0, 9001, 3, 12289, 5, 33, 1, 2, 4099];

describe.skipIf(!hasCuda)('cuda multi-tensor optimizer updates match the cpu kernels', () => {
  const rng = makeRng();
  for (const Arr of [Float32Array, Float64Array] as FloatCtor[]) {
    for (const [name, rule] of rules) {
      it(`${Arr.name} ${name}: a 14-tensor group over 3 steps`, () => runGroup(rule, GROUP, Arr, rng, 3, name));
    }
  }

  it('a tensor larger than one launch (320 chunks) continues in the next launch', () => {
    // 320 * 4096 + 4099 elements after a 4097-element tensor: the block table fills mid-tensor.
    runGroup(adam({ amsgrad: true }, true), [4097, 320 * 4096 + 4099, 5], Float32Array, rng, 1, 'AdamW amsgrad, large');
  });

  it('an empty group and a group of empty tensors are no-ops', () => {
    runGroup(sgd({ momentum: 0.9 }), [], Float64Array, rng, 1, 'empty group');
    runGroup(adam({}, false), [0, 0], Float64Array, rng, 1, 'empty tensors');
  });

  it('Adam on cuda follows the published update (bias corrections of each parameter step)', () => {
    const n = 4101, lr = 0.01, b1 = 0.8, b2 = 0.95, eps = 1e-8;
    const p0 = randomArray(Float64Array, n, rng), g = randomArray(Float64Array, n, rng);
    const step = 3;  // as if two earlier steps had zero gradients: m and v still zero
    const h = [upload(p0), upload(g), upload(new Float64Array(n)), upload(new Float64Array(n))];
    try {
      ops.adamStep!({ lr, betas: [b1, b2], eps, weightDecay: 0, amsgrad: false, maximize: false }, false, 1, [step], ...h, null);
      const expected = Array.from(p0, (p, i) => {
        const m = (1 - b1) * g[i]!, v = (1 - b2) * g[i]! * g[i]!;
        return p - (lr / (1 - b1 ** step)) * m / (Math.sqrt(v) / Math.sqrt(1 - b2 ** step) + eps);
      });
      expectClose(download(h[0]!, p0), expected, { atol: 1e-12, rtol: 1e-10, seed: rng.seed });
    } finally {
      for (const x of h) dev.deviceFree(x);
    }
  });
});

describe.skipIf(!hasCuda)('cuda gradient norm and clipping match the cpu kernels', () => {
  const rng = makeRng();
  const sizes = [3, 4097, 1, 9000, 0, 17, 5, 6, 7, 8, 9, 10, 11, 4096];
  for (const Arr of [Float32Array, Float64Array] as FloatCtor[]) {
    for (const normType of [2, 1, 3.5, Infinity]) {
      it(`${Arr.name} norm ${normType} over a 14-tensor group, then clipByNorm reading it on the device`, () => {
        const grads = sizes.map((n) => randomArray(Arr as Float64ArrayConstructor, n, rng, -2, 2));
        const acc = new Float64Array(1);
        native.gradNormAccumulate(normType, acc, grads.length, ...grads);
        const handles = grads.map(upload), accHandle = upload(new Float64Array(1));
        try {
          ops.gradNormAccumulate!(normType, accHandle, handles.length, ...handles);
          const got = download(accHandle, new Float64Array(1));
          expectClose(got, acc, { atol: 0, rtol: 1e-12, seed: rng.seed, label: `norm ${normType} accumulation` });
          const total = normType === Infinity || normType === 1 ? acc[0]! : acc[0]! ** (1 / normType);
          const totalHandle = upload(Float64Array.from([total]));
          try {
            native.clipByNorm(Float64Array.from([total]), 0.3, grads.length, ...grads);
            ops.clipByNorm!(totalHandle, 0.3, handles.length, ...handles);
          } finally {
            dev.deviceFree(totalHandle);
          }
          grads.forEach((g, t) => expect(Array.from(download(handles[t]!, g))).toEqual(Array.from(g)));
        } finally {
          for (const h of [...handles, accHandle]) dev.deviceFree(h);
        }
      });
    }

    it(`${Arr.name} a NaN gradient makes the norm NaN and clipping leaves the gradients alone`, () => {
      const g = randomArray(Arr as Float64ArrayConstructor, 5000, rng);
      g[4321] = NaN;
      for (const normType of [2, Infinity]) {
        const h = upload(g), acc = upload(new Float64Array(1));
        try {
          ops.gradNormAccumulate!(normType, acc, 1, h);
          const total = download(acc, new Float64Array(1));
          expect(total[0]).toBeNaN();
          ops.clipByNorm!(acc, 0.1, 1, h);
          expect(Array.from(download(h, g))).toEqual(Array.from(g));
        } finally {
          dev.deviceFree(h);
          dev.deviceFree(acc);
        }
      }
    });

    it(`${Arr.name} clampInPlace on the device`, () => {
      const x = randomArray(Arr as Float64ArrayConstructor, 1001, rng, -3, 3);
      x[5] = NaN;
      const h = upload(x);
      try {
        native.clampInPlace(x, -1, 1.5);
        ops.clampInPlace!(h, -1, 1.5);
        expect(Array.from(download(h, x))).toEqual(Array.from(x));
      } finally {
        dev.deviceFree(h);
      }
    });
  }
});

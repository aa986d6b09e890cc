/**
 * The device axis of the op tables. Every table row runs on each device listed here and is compared with
 * the float64 CPU reference: 'cpu' always, 'cuda' when the loaded addon has a usable CUDA device (a GPU, or
 * the emulated device of the build-emu addon that `npm test` runs the device suites on).
 * TF_TEST_DEVICES=cuda restricts a run to the listed devices (the emulated project sets it, since the
 * cpu column already ran in the main project).
 */
import * as tf from '../lib/index.js';
import type { Tensor } from '../lib/index.js';
import { native } from '../lib/native.js';
import { type KernelFamily, kernelFamilies } from '../lib/kernels/family.js';

export type TestDevice = 'cpu' | 'cuda';

const available: TestDevice[] = tf.cuda.isAvailable() ? ['cpu', 'cuda'] : ['cpu'];
const wanted = process.env.TF_TEST_DEVICES?.split(',').map((d) => d.trim()).filter(Boolean);

export const testDevices: TestDevice[] = wanted ? available.filter((d) => wanted.includes(d)) : available;

/** True when the cpu column runs in this process (cpu-only checks: gradcheck, argument errors). */
export const runsCpu = testDevices.includes('cpu');

/**
 * t on `device`, contiguous (as a move to another device makes it, so that a case takes the same kernel
 * paths on every device), as a leaf requiring grad where t does.
 */
export function moveTo(device: TestDevice, t: Tensor): Tensor {
  const moved = t.detach().to(device).contiguous();
  return t.requiresGrad ? moved.requiresGrad_() : moved;
}

/**
 * Forward and backward of fn on `device` against the same on cpu: the inputs (cpu tensors, float64) are
 * copied to the device with requiresGrad where the cpu ones have it, both outputs get the same random
 * upstream gradient, and outputs and input gradients are returned as host arrays for comparison.
 */
export function forwardBackwardOn(
  device: TestDevice, fn: (...x: Tensor[]) => Tensor, inputs: Tensor[], upstream: Float64Array,
): { out: Float64Array; grads: Array<Float64Array | null>; outDevice: string } {
  const xs = inputs.map((t) => moveTo(device, t));
  const out = fn(...xs);
  const g = tf.tensor(upstream, { shape: [...out.shape] }).to(out.dtype).to(device);
  out.backward(g);
  return {
    out: Float64Array.from(out.dataSync() as ArrayLike<number>),
    grads: xs.map((x) => (x.grad ? Float64Array.from(x.grad.dataSync() as ArrayLike<number>) : null)),
    outDevice: out.device,
  };
}

/** One call to an entry point of a kernel family, as nativeCallsOf recorded it. */
export interface NativeCall {
  entry: string;
  family: KernelFamily;
  /** For the entry points that take an op id (unary, binary, compare, reduce): the op's name in that list. */
  listed?: string;
  /** Where its buffers were: device handles, host arrays, or null for an entry given no buffers (a shape helper). */
  memory: 'device' | 'host' | null;
}

/** The addon's op lists (native/include/ops.h) by the entry point whose first argument indexes them. */
export const nativeOpLists: Readonly<Record<string, readonly string[]>> = {
  unary: native.unaryOps, binary: native.binaryOps, compare: native.compareOps, reduce: native.reduceOps,
};

const isDeviceHandle = (v: unknown): boolean =>
  v !== null && typeof v === 'object' && !ArrayBuffer.isView(v) && !Array.isArray(v) && !(v instanceof ArrayBuffer);

let recording: NativeCall[] | null = null;

// Every entry point of every kernel family, wrapped once so that recordNativeCalls can see the calls.
const addon = native as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const family of kernelFamilies.values()) {
  for (const entry of family.entries) {
    const call = addon[entry]!;
    addon[entry] = (...args: unknown[]) => {
      if (recording) {
        const memory = args.some(isDeviceHandle) ? 'device' : args.some((a) => ArrayBuffer.isView(a)) ? 'host' : null;
        recording.push({ entry, family, memory, listed: nativeOpLists[entry]?.[args[0] as number] });
      }
      return call(...args);
    };
  }
}

/** Runs fn and returns the calls it made to the kernel families' entry points. */
function recordNativeCalls(fn: () => void): NativeCall[] {
  const calls: NativeCall[] = [];
  recording = calls;
  try {
    fn();
  } finally {
    recording = null;
  }
  return calls;
}

/**
 * The native calls of fn's forward on `inputs` and, when `backward`, of its backward from an upstream gradient
 * of ones (made on the output's device, not recorded).
 */
export function nativeCallsOf(fn: (...x: Tensor[]) => Tensor, inputs: Tensor[], backward: boolean): NativeCall[] {
  let out: Tensor | undefined;
  const calls = recordNativeCalls(() => void (out = fn(...inputs)));
  if (!backward) return calls;
  const g = tf.ones([...out!.shape], { dtype: out!.dtype, device: out!.deviceName });
  return [...calls, ...recordNativeCalls(() => out!.backward(g))];
}

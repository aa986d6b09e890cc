/**
 * The device axis of the op tables. Every table row runs on each device listed here and is compared with
 * the float64 CPU reference: 'cpu' always, 'cuda' when the loaded addon has a usable CUDA device (a GPU, or
 * the emulated device of the build-emu addon that `npm test` runs the device suites on).
 * TF_TEST_DEVICES=cuda restricts a run to the listed devices (the emulated project sets it, since the
 * cpu column already ran in the main project).
 */
import * as tf from '../lib/index.js';
import type { Tensor } from '../lib/index.js';

export type TestDevice = 'cpu' | 'cuda';

const available: TestDevice[] = tf.cuda.isAvailable() ? ['cpu', 'cuda'] : ['cpu'];
const wanted = process.env.TF_TEST_DEVICES?.split(',').map((d) => d.trim()).filter(Boolean);

export const testDevices: TestDevice[] = wanted ? available.filter((d) => wanted.includes(d)) : available;

/** True when the cpu column runs in this process (cpu-only checks: gradcheck, argument errors). */
export const runsCpu = testDevices.includes('cpu');

/**
 * Forward and backward of fn on `device` against the same on cpu: the inputs (cpu tensors, float64) are
 * copied to the device with requiresGrad where the cpu ones have it, both outputs get the same random
 * upstream gradient, and outputs and input gradients are returned as host arrays for comparison.
 */
export function forwardBackwardOn(
  device: TestDevice, fn: (...x: Tensor[]) => Tensor, inputs: Tensor[], upstream: Float64Array,
): { out: Float64Array; grads: Array<Float64Array | null>; outDevice: string } {
  const xs = inputs.map((t) => {
    const moved = t.detach().to(device);
    return t.requiresGrad ? moved.requiresGrad_() : moved;
  });
  const out = fn(...xs);
  const g = tf.tensor(upstream, { shape: [...out.shape] }).to(out.dtype).to(device);
  out.backward(g);
  return {
    out: Float64Array.from(out.dataSync() as ArrayLike<number>),
    grads: xs.map((x) => (x.grad ? Float64Array.from(x.grad.dataSync() as ArrayLike<number>) : null)),
    outDevice: out.device,
  };
}

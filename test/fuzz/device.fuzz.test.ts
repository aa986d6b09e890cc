/**
 * The native fuzzer's device column: the same baselines and mutations as native.fuzz.test.ts, with every
 * Float32/Float64/Int32/Uint8 array argument replaced by a device handle of the same dtype and length holding
 * the same data. The families with CUDA kernels must return or throw a TypeError/RangeError naming the op;
 * after every call the device is synchronized, where the emulator's checked mode reports a kernel's
 * out-of-bounds write. Each case frees what it allocated and must leave the device's allocated bytes as it
 * found them, and no call may allocate more than a small case could need (a hostile size must be rejected
 * before it reaches the allocator). The families without CUDA kernels must refuse handles; tensors on two
 * devices and freed handles must be refused by every family.
 *
 * Runs where deviceCount() > 0: in the 'cuda-emulated' vitest project, or on a GPU. FUZZ_DEVICE_RUNS (else
 * FUZZ_RUNS, else 200) sets the mutated calls per entry point; each emulated call costs about 0.2 ms, so the
 * default run takes a few seconds. FUZZ_SEED and FUZZ_TRACE as in native.fuzz.test.ts (traced calls are named
 * `op@cuda:<device>`, `op@mixed` or `op@freed`, with their host-side arguments).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { native } from '../../lib/native.js';
import '../../lib/index.js';
import { kernelFamilies } from '../../lib/kernels/family.js';
import { specs } from './specs.js';
import { anyValue } from './hostile.js';
import { addon, callChecked, mutatedArgs, trace } from './calls.js';

type Handle = { readonly __deviceHandle: unique symbol };
type DeviceArray = Float32Array | Float64Array | Int32Array | Uint8Array;
interface DeviceSurface {
  deviceCount(): number;
  deviceAlloc(device: number, dtype: number, length: number, zero: boolean): Handle;
  deviceFree(handle: Handle): void;
  deviceUpload(handle: Handle, offset: number, src: DeviceArray): void;
  deviceSynchronize(device: number): void;
  deviceMemoryStats(device: number): { allocated: number; maxAllocated: number };
  deviceResetPeakStats(device: number): void;
}
const dev = native as unknown as DeviceSurface;

const RUNS = Number(process.env.FUZZ_DEVICE_RUNS ?? process.env.FUZZ_RUNS ?? 200);
const RANDOM_RUNS = Math.max(10, Math.round(RUNS / 5));
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const params = { seed: SEED, endOnFailure: true };

/** The entry points of the kernel families whose device column says cuda: 'native' (lib/kernels/family.ts). */
const onCuda: string[] = [...kernelFamilies.values()].filter((f) => f.devices.cuda === 'native').flatMap((f) => [...f.entries]);

/** An argument's name in a message: a word, or an element of a group's list such as params[3]. */
const ARG = '\\w+(?:\\[\\d+\\])?';

/** The dtype codes of deviceAlloc, by the array kind a handle stands in for. */
const DTYPE_CODE = new Map<unknown, number>([[Float32Array, 0], [Float64Array, 1], [Int32Array, 2], [Uint8Array, 3]]);
const isDeviceArray = (v: unknown): v is DeviceArray => ArrayBuffer.isView(v) && DTYPE_CODE.has(v.constructor);

/**
 * The most bytes one case may have allocated at once on top of what it found: its own handles (a few dozen
 * elements each, rounded up to the allocator's size classes) and the small scratch a kernel needs. A call
 * going past it sized an allocation by a hostile argument.
 */
const CASE_PEAK_BYTES = 1 << 20;

/** The handles a case made, one per distinct host array (an aliased array stays aliased on the device). */
class Handles {
  private readonly made = new Map<DeviceArray, Handle>();

  /** `v` as a handle on `device` holding its data, if it is an array a handle can stand in for. */
  on(device: number, v: unknown): unknown {
    if (!isDeviceArray(v)) return v;
    let h = this.made.get(v);
    if (!h) {
      h = dev.deviceAlloc(device, DTYPE_CODE.get(v.constructor)!, v.length, false);
      this.made.set(v, h);
      if (v.length > 0) dev.deviceUpload(h, 0, v);
    }
    return h;
  }

  freeAll(): void {
    for (const h of this.made.values()) dev.deviceFree(h);
    this.made.clear();
  }
}

const count = dev.deviceCount();
const devices = Array.from({ length: Math.min(count, 2) }, (_, i) => i);

/** Every device synchronized: an out-of-bounds write by a kernel (checked emulation) or a fault throws here. */
function synchronizeAll(name: string): void {
  for (const d of devices) {
    try {
      dev.deviceSynchronize(d);
    } catch (err) {
      throw new Error(`${name} on cuda left a fault reported at synchronization of cuda:${d}: ${String(err)}`);
    }
  }
}

/**
 * One fuzz case on `device`: `hostArgs` with their arrays as handles, called, checked like a host call, then
 * synchronized, freed, and the device's allocation statistics checked.
 */
function deviceCall(name: string, hostArgs: unknown[], device = 0): void {
  trace(`${name}@cuda:${device}`, hostArgs);
  const before = dev.deviceMemoryStats(device).allocated;
  dev.deviceResetPeakStats(device);
  const handles = new Handles();
  try {
    const err = callChecked(name, hostArgs.map((a) => handles.on(device, a)));
    if (err?.message.includes('out of memory')) {
      throw new Error(`${name} sized an allocation by a hostile argument: ${err.message}`);
    }
  } finally {
    try {
      synchronizeAll(name);
    } finally {
      handles.freeAll();
    }
  }
  const stats = dev.deviceMemoryStats(device);
  if (stats.allocated !== before) {
    throw new Error(`${name} on cuda:${device} leaked ${stats.allocated - before} bytes of device memory`);
  }
  if (stats.maxAllocated - before > CASE_PEAK_BYTES) {
    throw new Error(`${name} on cuda:${device} allocated ${stats.maxAllocated - before} bytes for a small case`);
  }
}

/** The positions of a baseline's arguments that a handle can stand in for. */
const tensorPositions = (args: unknown[]): number[] => args.flatMap((a, i) => (isDeviceArray(a) ? [i] : []));

const withTensors = Object.keys(specs)
  .filter((name) => !name.startsWith('device') && tensorPositions(specs[name]!.baseline()).length > 0)
  .sort();
/** The entry points taking tensors that have CUDA kernels: all of them (the first test checks it). */
const onCudaWithTensors = withTensors.filter((name) => onCuda.includes(name));

describe.skipIf(count === 0)('native binding fuzz on cuda', () => {
  it('every entry point of a family with CUDA kernels has a fuzz spec', () => {
    expect(onCuda.filter((name) => !(name in specs))).toEqual([]);
    expect(withTensors.filter((name) => !onCuda.includes(name)), 'entry points taking tensors without CUDA kernels').toEqual([]);
  });

  for (const name of onCudaWithTensors) {
    const spec = specs[name]!;
    it(`${name}: the baseline on every device, then each tensor one short, mutated and random arguments on cuda:0`, () => {
      try {
        for (const d of devices) deviceCall(name, spec.baseline(), d);
        // The baseline itself must be accepted on the device, or the mutations test nothing.
        for (const d of devices) {
          const handles = new Handles();
          try {
            expect(() => addon[name]!(...spec.baseline().map((a) => handles.on(d, a)))).not.toThrow();
          } finally {
            handles.freeAll();
          }
        }
        // Every tensor one element short, in turn: the baselines are exactly as long as the op needs, so this
        // is the overrun a missing or off-by-one length check lets a kernel make, found without luck.
        for (const i of tensorPositions(spec.baseline())) {
          const args = spec.baseline();
          args[i] = (args[i] as DeviceArray).subarray(0, Math.max(0, (args[i] as DeviceArray).length - 1));
          deviceCall(name, args);
        }
        fc.assert(fc.property(fc.gen(), (g) => deviceCall(name, mutatedArgs(g, spec.baseline()))), {
          ...params,
          numRuns: RUNS,
        });
        fc.assert(fc.property(fc.array(anyValue, { maxLength: 16 }), (args) => deviceCall(name, args)), {
          ...params,
          numRuns: RANDOM_RUNS,
        });
      } finally {
        spec.after?.();
      }
    });
  }

  const mixed = withTensors.filter((name) => tensorPositions(specs[name]!.baseline()).length > 1);
  it.each(mixed)('%s: tensors on two devices are refused, naming both', (name) => {
    const positions = tensorPositions(specs[name]!.baseline());
    // Some tensors on cuda:0, the rest on the host or (with two devices) on cuda:1.
    const split = fc.tuple(
      fc.subarray(positions, { minLength: 1, maxLength: positions.length - 1 }),
      fc.boolean().map((second) => second && count > 1),
    );
    fc.assert(
      fc.property(split, ([onFirst, second]) => {
        const base = specs[name]!.baseline();
        trace(`${name}@mixed`, base);
        const handles = new Handles();
        try {
          const args = base.map((a, i) => (onFirst.includes(i) ? handles.on(0, a) : second ? handles.on(1, a) : a));
          const other = second ? 'cuda:1' : 'cpu';
          const pattern = new RegExp(
            `^${name}: all tensors must be on one device, got ${ARG} on (cuda:0 and ${ARG} on ${other}|${other} and ${ARG} on cuda:0)$`,
          );
          expect(() => addon[name]!(...args)).toThrow(pattern);
        } finally {
          handles.freeAll();
        }
      }),
      { ...params, numRuns: Math.min(RUNS, 2 ** positions.length) },
    );
  });

  it.each(withTensors)('%s: a freed handle is refused, naming the argument', (name) => {
    const positions = tensorPositions(specs[name]!.baseline());
    fc.assert(
      fc.property(fc.constantFrom(...positions), (freed) => {
        const base = specs[name]!.baseline();
        trace(`${name}@freed`, base);
        const handles = new Handles();
        try {
          const args = base.map((a) => handles.on(0, a));
          dev.deviceFree(args[freed] as Handle);
          expect(() => addon[name]!(...args)).toThrow(new RegExp(`^${name}: ${ARG} was freed$`));
        } finally {
          handles.freeAll();
        }
      }),
      { ...params, numRuns: Math.min(RUNS, positions.length * 2) },
    );
    synchronizeAll(name);
  });
});

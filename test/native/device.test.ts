// The raw device surface of the addon (binding/device.cc, cuda/runtime.cu): handles, copies, the caching
// allocator's statistics, and the device checks every op binding makes. Device cases run where
// deviceCount() > 0: on a GPU, or in the emulated build (npm run build:emu, then
// TENSORFORGE_ADDON=build-emu/Release/tensorforge.node).
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { native, packageRoot } from '../../lib/native.js';
import { makeRng, randomArray } from '../util.js';

/** An opaque device handle from deviceAlloc. */
type Handle = { readonly __deviceHandle: unique symbol };
type DeviceArray = Float32Array | Float64Array | Int32Array | Uint8Array;
interface MemoryStats {
  allocated: number;
  reserved: number;
  maxAllocated: number;
  maxReserved: number;
  allocations: number;
}
interface DeviceSurface {
  deviceCount(): number;
  deviceAlloc(device: number, dtype: 0 | 1 | 2 | 3, length: number, zero: boolean): Handle;
  deviceFree(handle: Handle): void;
  deviceUpload(handle: Handle, offset: number, src: DeviceArray): void;
  deviceDownload(handle: Handle, offset: number, dst: DeviceArray): void;
  deviceDownloadAsync(handle: Handle, offset: number, dst: DeviceArray): Promise<void>;
  deviceSynchronize(device: number): void;
  deviceMemoryStats(device: number): MemoryStats;
  deviceEmptyCache(device: number): void;
  deviceResetPeakStats(device: number): void;
  deviceHandleInfo(handle: Handle): { device: number; dtype: number; length: number; freed: boolean };
}
// The device entry points are not typed in lib/ yet; the ops take a handle wherever they take an array.
const dev = native as unknown as DeviceSurface;
const ops = native as unknown as Record<string, (...args: unknown[]) => unknown>;

const DTYPES = [
  { code: 0, Arr: Float32Array },
  { code: 1, Arr: Float64Array },
  { code: 2, Arr: Int32Array },
  { code: 3, Arr: Uint8Array },
] as const;

const count = dev.deviceCount();
// lib/ does not type `emulated` yet.
const cudaInfo = native.backendInfo().cuda as ReturnType<typeof native.backendInfo>['cuda'] & { emulated: boolean };
const rng = makeRng();

function fill(Arr: (typeof DTYPES)[number]['Arr'], n: number): DeviceArray {
  if (Arr === Float32Array || Arr === Float64Array) return randomArray(Arr, n, rng);
  const out = new Arr(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(1, Arr === Uint8Array ? 255 : 2 ** 30);
  return out;
}

function upload(src: DeviceArray): Handle {
  const code = DTYPES.find((d) => src instanceof d.Arr)!.code;
  const h = dev.deviceAlloc(0, code, src.length, false);
  dev.deviceUpload(h, 0, src);
  return h;
}

/** The whole handle, as an array of `like`'s type. */
function download<A extends DeviceArray>(h: Handle, like: A): A {
  const dst = new (like.constructor as new (n: number) => A)(dev.deviceHandleInfo(h).length);
  dev.deviceDownload(h, 0, dst);
  return dst;
}

describe('device surface', () => {
  it('deviceCount() is a non-negative integer and backendInfo reports emulated', () => {
    expect(Number.isInteger(count) && count >= 0).toBe(true);
    expect(typeof cudaInfo.emulated).toBe('boolean');
    expect(cudaInfo.devices.length).toBe(count);
  });

  it.skipIf(count > 0)('without a device, device calls throw the reason and ops refuse forged handles', () => {
    const reason = cudaInfo.reason!;
    expect(() => dev.deviceAlloc(0, 0, 4, false)).toThrow(`deviceAlloc: no CUDA device is usable: ${reason}`);
    expect(() => dev.deviceMemoryStats(0)).toThrow('deviceMemoryStats: no CUDA device is usable');
    expect(() => dev.deviceFree({} as Handle)).toThrow(TypeError);
    const x = new Float32Array(3);
    expect(() => ops.unary!(0, [3], {}, 0, [1], x, 0, [1], 0, 0)).toThrow(
      'unary: out must be a Float32Array, Float64Array, Int32Array, Uint8Array or a device handle',
    );
  });
});

describe.skipIf(count === 0)('device memory', () => {
  it('round-trips every dtype at element offsets, and zero-filled allocations read back as zeros', () => {
    for (const { code, Arr } of DTYPES) {
      const n = rng.int(40, 300), off = rng.int(1, 20), m = rng.int(1, n - off);
      dev.deviceFree(upload(fill(Arr, n)));  // the cache hands this dirty block out next
      const h = dev.deviceAlloc(0, code, n, true);
      expect(dev.deviceHandleInfo(h)).toEqual({ device: 0, dtype: code, length: n, freed: false });
      const src = fill(Arr, m);
      dev.deviceUpload(h, off, src);
      const part = new Arr(m);
      dev.deviceDownload(h, off, part);
      expect(part, `${Arr.name} (TF_TEST_SEED=${rng.seed})`).toEqual(src);
      const whole = new Arr(n);
      dev.deviceDownload(h, 0, whole);
      const expected = new Arr(n);
      expected.set(src, off);
      expect(whole).toEqual(expected);
      dev.deviceFree(h);
    }
  });

  it('copies larger than one staging buffer (4 MiB) arrive whole', () => {
    const src = new Float64Array(1_300_000).map(() => rng.normal());  // 10.4 MB: three chunks
    const h = upload(src);
    const back = download(h, src);
    // Byte equality: a deep equal over a million elements takes seconds.
    expect(Buffer.from(back.buffer).equals(Buffer.from(src.buffer)), `TF_TEST_SEED=${rng.seed}`).toBe(true);
    dev.deviceFree(h);
  });

  it('zero-length handles and copies', () => {
    const h = dev.deviceAlloc(0, 0, 0, true);
    dev.deviceUpload(h, 0, new Float32Array(0));
    dev.deviceDownload(h, 0, new Float32Array(0));
    expect(dev.deviceHandleInfo(h).length).toBe(0);
    dev.deviceFree(h);
    const g = dev.deviceAlloc(0, 0, 5, false);
    dev.deviceUpload(g, 5, new Float32Array(0));
    dev.deviceFree(g);
  });

  it('rejects a dtype mismatch, a range past the end and a device handle as the host side', () => {
    const h = dev.deviceAlloc(0, 0, 10, false);
    expect(() => dev.deviceUpload(h, 0, new Float64Array(2))).toThrow('deviceUpload: src must be float32, got float64');
    expect(() => dev.deviceUpload(h, 7, new Float32Array(4))).toThrow(
      "deviceUpload: 4 elements at offset 7 exceed the handle's 10 elements",
    );
    expect(() => dev.deviceDownload(h, 11, new Float32Array(0))).toThrow(RangeError);
    expect(() => dev.deviceDownload(h, 0, h as unknown as Float32Array)).toThrow(
      'deviceDownload: dst must be a typed array',
    );
    dev.deviceFree(h);
  });

  it('allocated rises by the size class and falls back exactly; freed blocks stay reserved until emptyCache', () => {
    dev.deviceSynchronize(0);
    dev.deviceEmptyCache(0);
    const base = dev.deviceMemoryStats(0);
    expect(base.reserved).toBe(base.allocated);  // nothing cached
    const a = dev.deviceAlloc(0, 0, 1050, false);  // 4200 bytes: the 4608-byte class
    const b = dev.deviceAlloc(0, 1, 300_000, false);  // 2.4 MB: a 4 MiB block
    const mid = dev.deviceMemoryStats(0);
    expect(mid.allocated - base.allocated).toBe(4608 + 4 * 2 ** 20);
    expect(mid.allocations - base.allocations).toBe(2);
    expect(mid.reserved - base.reserved).toBe(4608 + 4 * 2 ** 20);
    expect(mid.maxAllocated).toBeGreaterThanOrEqual(mid.allocated);
    dev.deviceFree(a);
    dev.deviceFree(b);
    dev.deviceFree(b);  // idempotent
    const after = dev.deviceMemoryStats(0);
    expect(after.allocated).toBe(base.allocated);
    expect(after.allocations).toBe(base.allocations);
    expect(after.reserved).toBe(mid.reserved);  // the blocks are cached, not returned
    const again = dev.deviceAlloc(0, 2, 1100, false);  // 4400 bytes, the same class: served from the cache
    expect(dev.deviceMemoryStats(0).reserved).toBe(mid.reserved);
    dev.deviceFree(again);
    dev.deviceResetPeakStats(0);
    expect(dev.deviceMemoryStats(0).maxAllocated).toBe(base.allocated);
    dev.deviceEmptyCache(0);
    const emptied = dev.deviceMemoryStats(0);
    expect(emptied.reserved).toBe(base.reserved);
    expect(emptied.reserved).toBe(emptied.allocated);
  });

  it('deviceDownloadAsync resolves with the contents at the time of the call', async () => {
    const src = randomArray(Float32Array, 5000, rng);
    const h = upload(src);
    const dst = new Float32Array(4000);
    const pending = dev.deviceDownloadAsync(h, 1000, dst);
    dev.deviceUpload(h, 0, new Float32Array(5000));  // later work on the stream must not show
    dev.deviceFree(h);
    await pending;
    expect(dst).toEqual(src.subarray(1000));
  });

  it('rejects forged and freed handles wherever a tensor is read', () => {
    const h = upload(new Float32Array([1, 2, 3]));
    const forged = { ptr: 0, length: 3 } as unknown as Handle;
    expect(() => dev.deviceFree(forged)).toThrow('deviceFree: handle must be a device handle from deviceAlloc');
    expect(() => dev.deviceHandleInfo(forged)).toThrow(TypeError);
    expect(() => ops.unary!(0, [3], forged, 0, [1], h, 0, [1], 0, 0)).toThrow(
      'unary: out must be a Float32Array, Float64Array, Int32Array, Uint8Array or a device handle',
    );
    dev.deviceFree(h);
    expect(dev.deviceHandleInfo(h).freed).toBe(true);
    expect(() => dev.deviceUpload(h, 0, new Float32Array(1))).toThrow('deviceUpload: handle was freed');
    const out = dev.deviceAlloc(0, 0, 3, false);
    expect(() => ops.unary!(0, [3], out, 0, [1], h, 0, [1], 0, 0)).toThrow('unary: x was freed');
    dev.deviceFree(out);
  });

  it('an op given tensors on two devices names both', () => {
    const out = dev.deviceAlloc(0, 0, 4, false);
    const x = new Float32Array(4);
    expect(() => ops.unary!(0, [4], out, 0, [1], x, 0, [1], 0, 0)).toThrow(
      'unary: all tensors must be on one device, got out on cuda:0 and x on cpu',
    );
    expect(() => ops.binary!(0, [4], x, 0, [1], x, 0, [1], out, 0, [1], 1, 1)).toThrow(
      'binary: all tensors must be on one device, got out on cpu and y on cuda:0',
    );
    dev.deviceFree(out);
  });

  it('unary and binary on device handles match the cpu, and index ops range-check device indices', () => {
    const n = 37, x = randomArray(Float32Array, n, rng), y = randomArray(Float32Array, n, rng);
    const expU = new Float32Array(n), expB = new Float32Array(n);
    const tanh = native.unaryOps.indexOf('tanh'), mul = native.binaryOps.indexOf('mul');
    native.unary(tanh, [n], expU, 0, [1], x, 0, [1], 0, 0);
    native.binary(mul, [n], expB, 0, [1], x, 0, [1], y, 0, [1], 1, 1);
    const hx = upload(x), hy = upload(y), hout = dev.deviceAlloc(0, 0, n, false);
    ops.unary!(tanh, [n], hout, 0, [1], hx, 0, [1], 0, 0);
    expect(download(hout, x)).toEqual(expU);
    ops.binary!(mul, [n], hout, 0, [1], hx, 0, [1], hy, 0, [1], 1, 1);
    expect(download(hout, x)).toEqual(expB);
    const idx = upload(new Int32Array([0, 5, 3]));
    expect(() => ops.indexSelect!(hx, idx, hout, 1, 4, 3, 1)).toThrow(
      'indexSelect: index 5 at position 1 is out of range for a dim of size 4',
    );
    for (const h of [hx, hy, hout, idx]) dev.deviceFree(h);
  });
});

/** Runs async `body` in a fresh node process (with gc exposed) that loads the same addon as `native`. */
function runChild(body: string, env: Record<string, string> = {}): { stdout: string; stderr: string } {
  const root = JSON.stringify(packageRoot);
  const script = `
    const req = require('node:module').createRequire(${root} + '/');
    const addon = process.env.TENSORFORGE_ADDON;
    const native = addon ? req(addon) : req('node-gyp-build')(${root});
    (async () => { ${body} })().catch((e) => { console.log('ERROR ' + e.message); });`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(count === 0)('device memory in a fresh process', () => {
  it('a handle dropped without deviceFree is freed by its finalizer', () => {
    const r = runChild(`
      const before = native.deviceMemoryStats(0).allocations;
      for (let i = 0; i < 50; i++) native.deviceAlloc(0, 0, 1000, false);
      const held = native.deviceMemoryStats(0).allocations - before;
      for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setImmediate(r)); }
      console.log(held, native.deviceMemoryStats(0).allocations - before);`);
    expect(r.stdout.trim(), r.stderr).toBe('50 0');
  });

  it.skipIf(!cudaInfo.emulated)(
    'out of memory releases the cache, retries, then names the request and the device totals',
    () => {
      const r = runChild(
        `
        const kept = native.deviceAlloc(0, 3, 3 << 20, false);     // 3 MiB held (a 4 MiB block)
        native.deviceFree(native.deviceAlloc(0, 3, 7 << 20, false));  // 8 MiB cached
        const retried = native.deviceAlloc(0, 3, 9 << 20, false);    // fits once the cache is released
        console.log(native.deviceMemoryStats(0).reserved);
        try {
          native.deviceAlloc(0, 3, 64 << 20, false);
        } catch (e) {
          console.log(e.constructor.name + ' ' + e.message);
        }`,
        { TENSORFORGE_EMU_MEMORY: String(16 << 20) },
      );
      const lines = r.stdout.trim().split('\n');
      expect(lines[0], r.stderr).toBe(String((4 + 10) << 20));
      expect(lines[1]).toBe(
        `RangeError deviceAlloc: cuda: out of memory allocating ${64 << 20} bytes on device 0 ` +
          `(allocated ${14 << 20}, reserved ${14 << 20})`,
      );
    },
  );
});

/**
 * A test double of the addon's device API over the real CPU addon, for exercising lib/'s cuda paths on a
 * machine with neither a GPU nor the emulated-CUDA build:
 *
 *   TENSORFORGE_ADDON=$PWD/test/tensor/fake_cuda_addon.cjs npx vitest run test/tensor/device.test.ts
 *
 * "Device memory" is a host typed array behind an opaque handle on one of two fake devices. Entry points
 * of the families that run on cuda in this milestone accept handles (unwrapped to their arrays); the
 * others throw "not implemented on cuda yet" for a handle, as the native side does; mixing devices in one
 * call throws. Memory statistics count live handles' bytes. It checks the TypeScript seam, not kernels.
 */
'use strict';
const path = require('node:path');

const real = require(path.join(__dirname, '..', '..', 'build', 'Release', 'tensorforge.node'));
const deviceCount = 2;
const ctors = [Float32Array, Float64Array, Int32Array, Uint8Array];
const light = new Set([
  'unary', 'binary', 'compare', 'where', 'copy', 'random', 'reduce', 'softmax', 'softmaxBackward',
  'indexSelect', 'indexAdd', 'gather', 'scatterAdd', 'dropoutForward', 'dropoutBackward',
]);

class Handle {
  constructor(device, dtype, data) {
    this.device = device;
    this.dtype = dtype;
    this.data = data;
    this.freed = false;
  }
}

const stats = Array.from({ length: deviceCount }, () => ({ allocated: 0, reserved: 0, maxAllocated: 0, maxReserved: 0, allocations: 0 }));

function live(h, op) {
  if (!(h instanceof Handle)) throw new TypeError(`${op}: expected a device handle`);
  if (h.freed) throw new Error(`${op}: device handle used after deviceFree`);
  return h.data;
}

const fake = { ...real };
for (const [name, fn] of Object.entries(real)) {
  if (typeof fn !== 'function' || name === 'backendInfo') continue;
  fake[name] = (...args) => {
    const devices = new Set();
    const unwrapped = args.map((a) => {
      if (a instanceof Handle) {
        devices.add(`cuda:${a.device}`);
        return live(a, name);
      }
      if (ArrayBuffer.isView(a)) devices.add('cpu');
      return a;
    });
    if (devices.size > 1) throw new Error(`${name}: buffers on more than one device (${[...devices].join(', ')})`);
    const onDevice = devices.size === 1 && !devices.has('cpu');
    if (onDevice && !light.has(name)) throw new Error(`${name}: not implemented on cuda yet`);
    return fn(...unwrapped);
  };
}

Object.assign(fake, {
  backendInfo() {
    const info = real.backendInfo();
    const devices = Array.from({ length: deviceCount }, (_, index) => ({
      index, name: 'fake device', computeCapability: '0.0', totalMemory: 2 ** 30, multiprocessors: 1,
    }));
    return { ...info, cuda: { ...info.cuda, compiled: true, emulated: true, devices, reason: undefined } };
  },
  deviceCount: () => deviceCount,
  deviceAlloc(device, dtype, length, zero) {
    if (!(device >= 0 && device < deviceCount)) throw new RangeError(`deviceAlloc: no device ${device}`);
    const data = new ctors[dtype](length);
    if (!zero) data.fill(dtype < 2 ? NaN : 0x55); // undefined contents show up in tests
    const s = stats[device];
    s.allocated += data.byteLength;
    s.allocations++;
    s.reserved = Math.max(s.reserved, s.allocated);
    s.maxAllocated = Math.max(s.maxAllocated, s.allocated);
    s.maxReserved = Math.max(s.maxReserved, s.reserved);
    return new Handle(device, dtype, data);
  },
  deviceFree(h) {
    if (h.freed) return;
    h.freed = true;
    stats[h.device].allocated -= h.data.byteLength;
    stats[h.device].allocations--;
  },
  deviceUpload(h, offset, src) {
    live(h, 'deviceUpload').set(src, offset);
  },
  deviceDownload(h, offset, dst) {
    dst.set(live(h, 'deviceDownload').subarray(offset, offset + dst.length));
  },
  async deviceDownloadAsync(h, offset, dst) {
    await new Promise((resolve) => setImmediate(resolve));
    fake.deviceDownload(h, offset, dst);
  },
  deviceSynchronize() {},
  deviceMemoryStats: (device) => ({ ...stats[device] }),
  deviceEmptyCache(device) {
    stats[device].reserved = stats[device].allocated;
  },
  deviceResetPeakStats(device) {
    stats[device].maxAllocated = stats[device].allocated;
    stats[device].maxReserved = stats[device].reserved;
  },
  deviceHandleInfo: (h) => ({ device: h.device, dtype: h.dtype, length: h.data.length }),
});

module.exports = fake;

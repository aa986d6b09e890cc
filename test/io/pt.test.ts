/**
 * PyTorch .pt files both ways (lib/io/pt.ts): files torch.save wrote load with their values, dtypes and views;
 * files we write load in torch.load(weights_only=True) and into a torch module with strict=True; damaged and
 * hostile files give our own error naming the file and the problem.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as tf from '../../lib/index.js';
import { makeRng } from '../util.js';
import { loadPt, loadPtStateDict, savePt, serializePt, storedZip } from '../../lib/io/pt.js';

const PYTHON = '/usr/bin/python3';
const torchAvailable = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch'], { timeout: 60_000 }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'tf-pt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function python(script: string, input = ''): string {
  const run = spawnSync(PYTHON, ['-c', script], { input, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`python failed (${run.status}): ${run.stderr}`);
  return run.stdout;
}

/** Pickle bytes from a list of opcodes and operands (numbers are bytes, strings are latin1 text). */
function pickle(...parts: Array<number | string>): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => (typeof p === 'number' ? [p] : [...Buffer.from(p, 'latin1')])));
}

let fileCount = 0;
async function ptFile(entries: Record<string, Uint8Array>): Promise<string> {
  const path = join(dir, `hostile-${fileCount++}.pt`);
  writeFileSync(path, await storedZip(Object.entries(entries)));
  return path;
}

describe.skipIf(!torchAvailable)('.pt files written by torch.save', () => {
  const path = join(dir, 'from-torch.pt');
  // every storage type, a transposed view, two tensors sharing one storage, a slice at an offset, a checkpoint dict
  const values = JSON.parse(python(`
import torch, json
torch.manual_seed(0)
base = torch.randn(6, 5)
sd = {
  'f32': torch.randn(3, 4), 'f64': torch.randn(2, 3, dtype=torch.float64), 'f16': torch.randn(7).half(),
  'bf16': torch.randn(5).bfloat16(), 'i64': torch.tensor([[-3, 4], [2**31 - 1, -2**31]]), 'i32': torch.arange(6, dtype=torch.int32),
  'i16': torch.tensor([-300, 7], dtype=torch.int16), 'i8': torch.tensor([-5, 9], dtype=torch.int8), 'u8': torch.tensor([0, 255], dtype=torch.uint8),
  'b': torch.tensor([True, False, True]), 'transposed': base.t(), 'tied_a': base, 'tied_b': base[2:4, 1:],
  'scalar': torch.tensor(2.5), 'empty': torch.zeros(0, 3), 'num_batches_tracked': torch.tensor(7),
}
lin = torch.nn.Linear(4, 3)
torch.save(sd, ${JSON.stringify(path)})
torch.save({'model': lin.state_dict(), 'epoch': 3, 'lr': 0.1, 'name': 'run', 'history': [1.5, 2]}, ${JSON.stringify(path + '.ckpt')})
out = {k: {'shape': list(v.shape), 'values': v.float().flatten().tolist() if v.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool) else v.flatten().int().tolist()} for k, v in sd.items()}
out['lin'] = {k: v.flatten().tolist() for k, v in lin.state_dict().items()}
print(json.dumps(out))
`));

  it('loads every dtype, views, shared storages, scalars and empty tensors with their values', async () => {
    const sd = await loadPtStateDict(path);
    expect(Object.keys(sd).sort()).toEqual(Object.keys(values).filter((k) => k !== 'lin').sort());
    const dtypes: Record<string, string> = { f64: 'float64', i64: 'int32', i32: 'int32', i16: 'int32', i8: 'int32', u8: 'int32', b: 'bool', num_batches_tracked: 'int32' };
    for (const [key, t] of Object.entries(sd)) {
      const want = values[key] as { shape: number[]; values: number[] };
      expect(t.shape, key).toEqual(want.shape);
      expect(t.dtype, key).toBe(dtypes[key] ?? 'float32');
      const got = Array.from(t.dataSync() as ArrayLike<number>, Number);
      if (t.dtype === 'float32' || t.dtype === 'float64') {
        got.forEach((v, i) => expect(v, `${key}[${i}]`).toBeCloseTo(want.values[i]!, 5));
      } else {
        expect(got, key).toEqual(want.values);
      }
    }
  });

  it('loads a checkpoint dict with numbers, strings and lists, and its state dict by key into a module (strict)', async () => {
    const ckpt = await loadPt(`${path}.ckpt`) as Record<string, unknown>;
    expect(ckpt.epoch).toBe(3);
    expect(ckpt.lr).toBe(0.1);
    expect(ckpt.name).toBe('run');
    expect(ckpt.history).toEqual([1.5, 2]);
    await expect(loadPtStateDict(`${path}.ckpt`)).rejects.toThrow(/entry 'model' is not a tensor \(a checkpoint\? pass the key/);
    const lin = new tf.nn.Linear(4, 3);
    lin.loadStateDict(await loadPtStateDict(`${path}.ckpt`, 'model'));
    const want = values.lin as Record<string, number[]>;
    for (const [k, p] of Object.entries(lin.stateDict())) {
      Array.from(p.dataSync() as Float32Array).forEach((v, i) => expect(v).toBeCloseTo(want[k]![i]!, 6));
    }
  });
});

describe.skipIf(!torchAvailable)('.pt files we write', () => {
  it('torch.load(weights_only=True) reads them, and a torch module loads our LeNet-5 with strict=True and computes the same output', async () => {
    tf.manualSeed(3);
    const model = tf.models.lenet5();
    const bn = new tf.nn.BatchNorm2d(3);
    const extra = {
      ...Object.fromEntries(Object.entries(bn.stateDict()).map(([k, v]) => [`bn.${k}`, v])),
      f64: tf.randn([2, 2], { dtype: 'float64' }), flags: tf.tensor([1, 0, 1]).gt(0), view: tf.randn([4, 3]).T,
    };
    const path = join(dir, 'ours.pt');
    const x = tf.randn([2, 1, 28, 28]);
    const y = tf.noGrad(() => model.call(x));
    await savePt(path, { ...model.stateDict(), ...extra });
    const out = JSON.parse(python(`
import torch, json, sys
sd = torch.load(${JSON.stringify(path)}, weights_only=True)
m = torch.nn.Sequential(torch.nn.Conv2d(1, 6, 5, padding=2), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(400, 120), torch.nn.ReLU(), torch.nn.Linear(120, 84), torch.nn.ReLU(), torch.nn.Linear(84, 10))
extra = {k: sd.pop(k) for k in [k for k in sd if not k[0].isdigit()]}
m.load_state_dict(sd, strict=True)
x = torch.tensor(json.loads(sys.stdin.read())).reshape(2, 1, 28, 28)
print(json.dumps({'y': m(x).flatten().tolist(), 'extra': {k: {'dtype': str(v.dtype), 'shape': list(v.shape), 'values': v.flatten().tolist()} for k, v in extra.items()}}))
`, JSON.stringify(Array.from(x.dataSync() as Float32Array)))) as { y: number[]; extra: Record<string, { dtype: string; shape: number[]; values: number[] }> };
    Array.from(y.dataSync() as Float32Array).forEach((v, i) => expect(out.y[i]).toBeCloseTo(v, 4));
    expect(out.extra['bn.num_batches_tracked']!.dtype).toBe('torch.int64');
    expect(out.extra.f64!.dtype).toBe('torch.float64');
    expect(out.extra.flags!.dtype).toBe('torch.bool');
    expect(out.extra.flags!.values).toEqual([true, false, true]);
    expect(out.extra.view!.shape).toEqual([3, 4]);
    expect(out.extra.view!.values.map((v) => Math.fround(v))).toEqual(Array.from(extra.view.contiguous().dataSync() as Float32Array));
  });
});

describe('.pt round trip and damaged or hostile files', () => {
  it('reads back what it writes, empty state dicts included', async () => {
    const path = join(dir, 'round.pt');
    const sd = { a: tf.randn([3, 2]), b: tf.tensor([4, 5, 6], { dtype: 'int32' }), c: tf.zeros([0]) };
    await savePt(path, sd);
    const back = await loadPtStateDict(path);
    for (const [k, t] of Object.entries(sd)) expect(Array.from(back[k]!.dataSync() as ArrayLike<number>)).toEqual(Array.from(t.dataSync() as ArrayLike<number>));
    await savePt(path, {});
    expect(await loadPtStateDict(path)).toEqual({});
  });

  it('a file that is not a torch.save zip says so', async () => {
    const path = join(dir, 'text.pt');
    writeFileSync(path, 'not a zip at all');
    await expect(loadPt(path)).rejects.toThrow(/loadPt: '.*text\.pt' is not a zip archive as torch\.save writes/);
    await expect(loadPt(await ptFile({ 'archive/other': new Uint8Array(3) }))).rejects.toThrow(/has no <archive>\/data\.pkl entry/);
  });

  it('truncated and corrupted files fail cleanly', async () => {
    const good = await serializePt({ w: tf.randn([64]) });
    const truncated = join(dir, 'truncated.pt');
    writeFileSync(truncated, good.subarray(0, good.length - 40));
    await expect(loadPt(truncated)).rejects.toThrow(/loadPt: '.*truncated\.pt'/);
    // flip a byte of the tensor's data: the entry's CRC-32 no longer matches
    const corrupted = join(dir, 'corrupted.pt');
    const bytes = Buffer.from(good);
    const data = bytes.indexOf(Buffer.from('archive/data/0')) + 'archive/data/0'.length + 10;
    bytes[data] ^= 0xff;
    writeFileSync(corrupted, bytes);
    await expect(loadPt(corrupted)).rejects.toThrow(/entry 'archive\/data\/0' fails its CRC-32 check/);
  });

  const header = [0x80, 2] as const;
  const storage = (numel: number) => ['(', 0x8c, 7, 'storage', 'ctorch\nFloatStorage\n', 0x8c, 1, '0', 0x8c, 3, 'cpu', 0x4a, ...int32(numel), 't', 0x51] as Array<number | string>;
  function int32(n: number): number[] {
    const b = Buffer.alloc(4);
    b.writeInt32LE(n);
    return [...b];
  }
  const rebuild = (numel: number, size: number) => pickle(...header, 'ctorch._utils\n_rebuild_tensor_v2\n', '(', ...storage(numel), 0x4b, 0, 0x4a, ...int32(size), 0x85, 0x4b, 1, 0x85, 0x89, 'N', 't', 'R', '.');

  it('refuses globals it does not know, naming them, and runs nothing', async () => {
    const marker = join(dir, 'pwned');
    const path = await ptFile({ 'archive/data.pkl': pickle(...header, 'cos\nsystem\n', 0x8c, 20, `touch ${marker}`.padEnd(20), 0x85, 'R', '.') });
    await expect(loadPt(path)).rejects.toThrow(/names the global 'os\.system', which is not a tensor, storage or container type: refused/);
    expect(existsSync(marker)).toBe(false);
    const builtins = await ptFile({ 'archive/data.pkl': pickle(...header, 0x8c, 8, 'builtins', 0x8c, 4, 'eval', 0x93, '.') });
    await expect(loadPt(builtins)).rejects.toThrow(/the global 'builtins\.eval'/);
  });

  it('storages shorter than their tensors and huge declared sizes fail before allocating', async () => {
    const data = new Uint8Array(16);  // 4 floats
    await expect(loadPt(await ptFile({ 'archive/data.pkl': rebuild(4, 5), 'archive/data/0': data })))
      .rejects.toThrow(/a tensor of size \[5\] at offset 0 reaches element 4 of storage 0, which has 4/);
    await expect(loadPt(await ptFile({ 'archive/data.pkl': rebuild(2 ** 30, 2 ** 30), 'archive/data/0': data })))
      .rejects.toThrow(/storage 0 declares 1073741824 elements of 4 bytes but data\/0 holds 16 bytes/);
    await expect(loadPt(await ptFile({ 'archive/data.pkl': rebuild(4, 4) }))).rejects.toThrow(/storage 0 has no data\/0 entry/);
  });

  it('malformed pickles: unknown opcodes, empty stacks, unset memo, truncation, deep nesting', async () => {
    const load = async (...parts: Array<number | string>) => loadPt(await ptFile({ 'archive/data.pkl': pickle(...parts) }));
    await expect(load(...header, 'i', '.')).rejects.toThrow(/pickle opcode 0x69 at byte 2, which a state dict does not need/);
    await expect(load(...header, 'R', '.')).rejects.toThrow(/pops an empty stack/);
    await expect(load(...header, 'h', 9, '.')).rejects.toThrow(/reads memo entry 9, never stored/);
    await expect(load(...header, 'X', 0xff, 0xff, 0, 0)).rejects.toThrow(/ends inside an opcode/);
    await expect(load(0x80, 1, '.')).rejects.toThrow(/pickle protocol 1; 2 to 5 are supported/);
    // 200,000 nested lists: built without recursion, reported as not a state dict
    const depth = 200_000;
    const nested: Array<number | string> = [...header, ']'];
    for (let i = 0; i < depth; i++) nested.push(']');
    for (let i = 0; i < depth; i++) nested.push('a');
    nested.push('.');
    const path = await ptFile({ 'archive/data.pkl': pickle(...nested) });
    await expect(loadPtStateDict(path)).rejects.toThrow(/holds a list, not a state dict/);
  });
});

describe('.pt fuzz', () => {
  const rng = makeRng();
  it(`never gives anything but a named Error on mutated pickles and archives (seed ${rng.seed})`, async () => {
    const sd = { 'conv.weight': tf.randn([2, 1, 3, 3]), 'bn.num_batches_tracked': tf.tensor([3], { dtype: 'int32' }).reshape([]), mask: tf.tensor([1, 0]).gt(0) };
    const valid = await serializePt(sd);
    const pkl = await (async () => {
      // the pickle of the same state dict, to mutate and re-archive with valid CRCs (so the unpickler sees it)
      const path = join(dir, 'fuzz-source.pt');
      writeFileSync(path, valid);
      const bytes = readFileSync(path);
      const at = bytes.indexOf(Buffer.from([0x80, 0x02]));
      return Uint8Array.from(bytes.subarray(at, bytes.indexOf(Buffer.from('.PK'), at) + 1));
    })();
    const storages = [0, 1, 2].map((i) => {
      const t = Object.values(sd)[i]!;
      const a = t.contiguous().dataSync();
      return t.dtype === 'int32' ? new Uint8Array(8) : new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
    });
    const pickleMutations: Array<(b: Uint8Array) => Uint8Array> = [
      (b) => b.slice(0, rng.int(0, b.length - 1)),
      (b) => { const c = b.slice(); for (let k = rng.int(1, 4); k > 0; k--) c[rng.int(0, c.length - 1)]! ^= 1 << rng.int(0, 7); return c; },
      (b) => { const c = b.slice(); c[rng.int(2, c.length - 1)] = [0x28, 0x29, 0x2e, 0x4a, 0x4b, 0x51, 0x52, 0x58, 0x5d, 0x61, 0x62, 0x68, 0x71, 0x74, 0x75, 0x7d, 0x85, 0x8a, 0x93, 0x94][rng.int(0, 19)]!; return c; },
    ];
    let rejected = 0;
    for (let trial = 0; trial < 240; trial++) {
      const path = join(dir, `fuzz-${trial}.pt`);
      if (trial % 4 === 3) {
        const c = Buffer.from(valid);
        if (rng.int(0, 1)) c[rng.int(0, c.length - 1)]! ^= 1 << rng.int(0, 7);
        writeFileSync(path, rng.int(0, 1) ? c : c.subarray(0, rng.int(0, c.length - 1)));
      } else {
        const mutated = pickleMutations[trial % 3]!(pkl);
        writeFileSync(path, await storedZip([['archive/data.pkl', mutated], ...storages.map((s, i): [string, Uint8Array] => [`archive/data/${i}`, s])]));
      }
      try {
        await loadPt(path);
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message, `trial ${trial}, TF_TEST_SEED=${rng.seed}`).toMatch(/^loadPt: '/);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(80);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randn, tensor } from '../../lib/creation.js';
import { manualSeed } from '../../lib/random.js';
import { Conv2d, BatchNorm2d, Linear, ReLU, Flatten, Sequential } from '../../lib/nn/index.js';
import { Adam, SGD, StepLR, ReduceLROnPlateau } from '../../lib/optim/index.js';
import { loadCheckpoint, loadStateDict, saveCheckpoint, saveStateDict } from '../../lib/io/checkpoint.js';
import { saveFile } from '../../lib/io/safetensors.js';
import type { Tensor } from '../../lib/tensor.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tf-checkpoint-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const bytesOf = (t: Tensor): Uint8Array => {
  const d = t.contiguous().dataSync();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
};

/** The JSON header of a safetensors file. */
async function header(path: string): Promise<Record<string, { dtype: string; shape: number[] }>> {
  const bytes = await readFile(path);
  const n = Number(bytes.readBigUInt64LE(0));
  return JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
}

function convBn(dtype: 'float32' | 'float64' = 'float32'): Sequential {
  return new Sequential(new Conv2d(1, 2, 3, { dtype }), new BatchNorm2d(2, { dtype }), new ReLU(), new Flatten(), new Linear(2 * 4 * 4, 3, { dtype }));
}

describe('state dicts through safetensors', () => {
  it.each(['float32', 'float64'] as const)('round-trip bit-exactly (%s), num_batches_tracked stored as I64', async (dtype) => {
    const model = convBn(dtype);
    model.call(randn([4, 1, 6, 6], { dtype }));
    model.call(randn([4, 1, 6, 6], { dtype }));
    const path = join(dir, `sd-${dtype}.safetensors`);
    await saveStateDict(path, model.stateDict(), { note: 'test' });
    const h = await header(path);
    expect(h['1.num_batches_tracked']).toMatchObject({ dtype: 'I64', shape: [] });
    expect(h['0.weight']).toMatchObject({ dtype: dtype === 'float32' ? 'F32' : 'F64', shape: [2, 1, 3, 3] });
    expect(h.__metadata__).toEqual({ note: 'test' });

    const loaded = await loadStateDict(path);
    expect(Object.keys(loaded).sort()).toEqual(Object.keys(model.stateDict()).sort());
    expect(loaded['1.num_batches_tracked']!.dtype).toBe('int32');
    expect(loaded['1.num_batches_tracked']!.item()).toBe(2);
    const fresh = convBn(dtype);
    fresh.loadStateDict(loaded);
    for (const [key, t] of Object.entries(model.stateDict())) {
      expect(fresh.stateDict()[key]!.dtype).toBe(t.dtype);
      expect(Buffer.compare(bytesOf(fresh.stateDict()[key]!), bytesOf(t)), key).toBe(0);
    }
  });

  it('loads a file written byte by byte with PyTorch key names (Conv2d + BatchNorm2d, I64 num_batches_tracked)', async () => {
    const entries: Array<[string, string, number[], Uint8Array]> = [];
    const f32 = (values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
    const weights = Array.from({ length: 2 * 1 * 2 * 2 }, (_, i) => i / 8 - 0.25);
    entries.push(['0.weight', 'F32', [2, 1, 2, 2], f32(weights)]);
    entries.push(['0.bias', 'F32', [2], f32([0.5, -0.5])]);
    entries.push(['1.weight', 'F32', [2], f32([2, 3])]);
    entries.push(['1.bias', 'F32', [2], f32([0.1, 0.2])]);
    entries.push(['1.running_mean', 'F32', [2], f32([0.25, -1])]);
    entries.push(['1.running_var', 'F32', [2], f32([4, 0.5])]);
    const nbt = new Uint8Array(8);
    new DataView(nbt.buffer).setBigInt64(0, 1234n, true);
    entries.push(['1.num_batches_tracked', 'I64', [], nbt]);
    const head: Record<string, unknown> = { __metadata__: { format: 'pt' } };
    let offset = 0;
    for (const [name, dtype, shape, bytes] of entries) {
      head[name] = { dtype, shape, data_offsets: [offset, offset + bytes.length] };
      offset += bytes.length;
    }
    // Padded with spaces to 8 bytes, as the safetensors writer used by PyTorch does.
    const text = JSON.stringify(head);
    const json = Buffer.from(text.padEnd(Math.ceil(text.length / 8) * 8, ' '), 'utf8');
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(json.length));
    const path = join(dir, 'torch.safetensors');
    await writeFile(path, Buffer.concat([len, json, ...entries.map((e) => e[3])]));

    const model = new Sequential(new Conv2d(1, 2, 2), new BatchNorm2d(2));
    expect(model.loadStateDict(await loadStateDict(path))).toEqual({ missingKeys: [], unexpectedKeys: [] });
    const sd = model.stateDict();
    expect(Array.from(sd['0.weight']!.dataSync())).toEqual(Array.from(Float32Array.from(weights)));
    expect(Array.from(sd['1.running_var']!.dataSync())).toEqual([4, 0.5]);
    expect(sd['1.num_batches_tracked']!.item()).toBe(1234);
    model.eval();
    const y = model.call(tensor([[[[1, 0], [0, 0]]]])).dataSync();
    expect(y[0]).toBeCloseTo(2 * (-0.25 + 0.5 - 0.25) / Math.sqrt(4 + 1e-5) + 0.1, 5);
  });

  it('a mismatching file fails with the keys named; out-of-range int64 and unsupported dtypes are errors', async () => {
    const path = join(dir, 'linear.safetensors');
    await saveStateDict(path, new Linear(3, 2).stateDict());
    await expect(async () => new Linear(4, 2).loadStateDict(await loadStateDict(path))).rejects.toThrow(
      'size mismatch for weight: copying a param with shape [2, 3] from checkpoint, the shape in current model is [2, 4].',
    );
    await expect(async () => new Sequential(new Linear(3, 2)).loadStateDict(await loadStateDict(path))).rejects.toThrow(
      /Missing key\(s\) in state_dict: "0.weight", "0.bias".\n\tUnexpected key\(s\) in state_dict: "bias", "weight"./,
    );
    const big = join(dir, 'big.safetensors');
    await saveFile(big, { n: { dtype: 'I64', shape: [1], data: BigInt64Array.from([2n ** 40n]) } });
    await expect(loadStateDict(big)).rejects.toThrow("checkpoint: tensor 'n' holds the int64 value 1099511627776, outside the int32 range");
    const half = join(dir, 'half.safetensors');
    await saveFile(half, { h: { dtype: 'F16', shape: [1], data: new Uint8Array(2) } });
    await expect(loadStateDict(half)).rejects.toThrow("checkpoint: tensor 'h' has dtype F16");
  });
});

describe('training checkpoints', () => {
  /** One Adam step on a fixed batch; returns the loss. */
  function trainStep(model: Sequential, opt: Adam, x: Tensor): number {
    opt.zeroGrad();
    const loss = model.call(x).square().mean();
    loss.backward();
    opt.step();
    return loss.item();
  }

  it('model + optimizer + scheduler + epoch + extra resume exactly where an uninterrupted run goes', async () => {
    manualSeed(11);
    const x = randn([4, 1, 6, 6]);
    const build = () => {
      const model = convBn();
      const opt = new Adam([{ params: model.at(0).parameters() }, { params: [...model.at(1).parameters(), ...model.at(4).parameters()], lr: 0.02 }], { lr: 0.01, amsgrad: true });
      return { model, opt, sched: new StepLR(opt, 3, 0.5) };
    };
    const a = build();
    for (let i = 0; i < 4; i++) {
      trainStep(a.model, a.opt, x);
      a.sched.step();
    }
    const path = join(dir, 'train.ckpt.safetensors');
    await saveCheckpoint(path, { model: a.model, optimizer: a.opt, scheduler: a.sched, epoch: 4, extra: { history: [1, 2.5] } });
    const h = await header(path);
    expect(h['model.1.num_batches_tracked']!.dtype).toBe('I64');
    expect(Object.keys(h).filter((k) => k.startsWith('optimizer.state.0.'))).toEqual(
      expect.arrayContaining(['optimizer.state.0.exp_avg', 'optimizer.state.0.exp_avg_sq', 'optimizer.state.0.max_exp_avg_sq']),
    );

    manualSeed(99);
    const b = build();
    const restored = await loadCheckpoint(path, { model: b.model, optimizer: b.opt, scheduler: b.sched });
    expect(restored).toEqual({ epoch: 4, extra: { history: [1, 2.5] } });
    expect(b.opt.paramGroups.map((g) => g.lr)).toEqual(a.opt.paramGroups.map((g) => g.lr));
    expect(b.opt.state.get(b.model.parameters()[0]!)!.step).toBe(4);
    for (let i = 0; i < 3; i++) {
      expect(trainStep(b.model, b.opt, x)).toBe(trainStep(a.model, a.opt, x));
      a.sched.step();
      b.sched.step();
    }
    const pa = a.model.parameters(), pb = b.model.parameters();
    pa.forEach((p, i) => expect(Array.from(pb[i]!.dataSync())).toEqual(Array.from(p.dataSync())));
  });

  it('keeps a plateau scheduler state with Infinity, and model-only checkpoints reject optimizer restores', async () => {
    const model = new Linear(2, 1);
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const plateau = new ReduceLROnPlateau(opt);
    const path = join(dir, 'plateau.safetensors');
    await saveCheckpoint(path, { model, optimizer: opt, scheduler: plateau });
    const other = new ReduceLROnPlateau(new SGD(new Linear(2, 1).parameters(), { lr: 0.1 }));
    other.best = 0;
    await loadCheckpoint(path, { model: new Linear(2, 1), scheduler: other });
    expect(other.best).toBe(Infinity);

    const modelOnly = join(dir, 'model-only.safetensors');
    await saveCheckpoint(modelOnly, { model });
    const target = new Linear(2, 1);
    await expect(loadCheckpoint(modelOnly, { model: target, optimizer: new SGD(target.parameters()) })).rejects.toThrow(/has no optimizer state/);
    const plain = join(dir, 'plain.safetensors');
    await saveStateDict(plain, model.stateDict());
    await expect(loadCheckpoint(plain, { model: target })).rejects.toThrow(/is not a tensorforge checkpoint/);
  });

  it('names the file and the metadata field when checkpoint metadata is not what saveCheckpoint writes', async () => {
    const model = new Linear(2, 1);
    const opt = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
    const stored = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) =>
      [`model.${k}`, { dtype: 'F32' as const, shape: [...t.shape], data: t.contiguous().dataSync() as Float32Array }]));
    const withMetadata = async (name: string, metadata: Record<string, string>) => {
      const path = join(dir, name);
      await saveFile(path, stored, { format: 'tensorforge.checkpoint/1', ...metadata });
      return path;
    };
    const target = () => ({ model: new Linear(2, 1), optimizer: new SGD(new Linear(2, 1).parameters()) });
    let path = await withMetadata('bad-json.safetensors', { optimizer: '{"param_groups": [' });
    await expect(loadCheckpoint(path, target())).rejects.toThrow(`loadCheckpoint: metadata field 'optimizer' of ${path} is not valid JSON (`);
    path = await withMetadata('null-state.safetensors', { optimizer: '{"param_groups": [], "state": null}' });
    await expect(loadCheckpoint(path, target())).rejects.toThrow(`loadCheckpoint: metadata field 'optimizer' of ${path}: state must be an object, got null`);
    path = await withMetadata('no-groups.safetensors', { optimizer: '{"state": {}}' });
    await expect(loadCheckpoint(path, target())).rejects.toThrow(`loadCheckpoint: metadata field 'optimizer' of ${path}: param_groups must be an array, got undefined`);
    path = await withMetadata('bad-epoch.safetensors', { epoch: 'three' });
    await expect(loadCheckpoint(path, { model: new Linear(2, 1) })).rejects.toThrow(`loadCheckpoint: metadata field 'epoch' of ${path} is not valid JSON (`);
    path = await withMetadata('string-epoch.safetensors', { epoch: '"3"' });
    await expect(loadCheckpoint(path, { model: new Linear(2, 1) })).rejects.toThrow(`loadCheckpoint: metadata field 'epoch' of ${path} must be a number, got "3"`);
    path = await withMetadata('bad-extra.safetensors', { extra: '{' });
    await expect(loadCheckpoint(path, { model: new Linear(2, 1) })).rejects.toThrow(`loadCheckpoint: metadata field 'extra' of ${path} is not valid JSON (`);
    await saveCheckpoint(join(dir, 'ok.safetensors'), { model, optimizer: opt });
    await expect(saveCheckpoint(dir, { model })).rejects.toThrow(`saveCheckpoint: cannot write '${dir}': it is a directory`);
    await expect(loadCheckpoint(dir, { model })).rejects.toThrow(`loadCheckpoint: cannot read '${dir}': it is a directory`);
    await expect(loadStateDict(join(dir, 'none'))).rejects.toThrow(`loadStateDict: cannot read '${join(dir, 'none')}': no such file or directory`);
  });
});

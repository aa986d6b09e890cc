import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  deserialize,
  loadFile,
  MAX_HEADER_BYTES,
  MAX_HEADER_DEPTH,
  MAX_HEADER_VALUES,
  MAX_KEY_BYTES,
  saveFile,
  serialize,
  writeFileAtomic,
  type DType,
  type StoredTensor,
} from '../../lib/io/safetensors.js';
import { ioChunk } from '../../lib/io/atomic.js';
import { makeRng, type Rng } from '../util.js';

const SIZES: Record<DType, number> = { F64: 8, I64: 8, F32: 4, I32: 4, F16: 2, BF16: 2, I16: 2, I8: 1, U8: 1, BOOL: 1 };
const EXPECTED_VIEW: Record<DType, string> = {
  F64: 'Float64Array', I64: 'BigInt64Array', F32: 'Float32Array', I32: 'Int32Array', U8: 'Uint8Array',
  F16: 'Uint8Array', BF16: 'Uint8Array', I16: 'Uint8Array', I8: 'Uint8Array', BOOL: 'Uint8Array',
};

function bytesOf(data: ArrayBufferView): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function randomBytes(n: number, rng: Rng): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.int(0, 255);
  return out;
}

/** A file assembled by hand from the spec: little-endian u64 length, the header text unpadded, the data. */
function buildFile(header: string | Uint8Array, data: Uint8Array = new Uint8Array(0), declaredLength?: bigint): Uint8Array {
  const json = typeof header === 'string' ? new TextEncoder().encode(header) : header;
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors round trip', () => {
  const rng = makeRng();

  it(`is bit-exact for every dtype, including NaN payloads and -0 (seed ${rng.seed})`, () => {
    const tensors: Record<string, StoredTensor> = {};
    for (const dtype of Object.keys(SIZES) as DType[]) {
      const shape = [rng.int(1, 5), rng.int(1, 7)];
      tensors[`raw.${dtype}`] = { dtype, shape, data: randomBytes(shape[0]! * shape[1]! * SIZES[dtype], rng) };
    }
    const nanBits = new Uint32Array([0x7fc00001, 0xffa00000, 0x7f800001, 0x80000000, 0x7f800000, 0x3f800000, 0]);
    tensors['f32.special'] = { dtype: 'F32', shape: [7], data: new Float32Array(nanBits.buffer) };
    const f64 = new Float64Array([-0, NaN, Infinity, -Infinity, Number.MIN_VALUE, 1 / 3]);
    new DataView(f64.buffer).setBigUint64(8, 0x7ff8_0000_dead_beefn, true);
    tensors['f64.special'] = { dtype: 'F64', shape: [2, 3], data: f64 };
    tensors['i64'] = { dtype: 'I64', shape: [3], data: new BigInt64Array([-(2n ** 63n), 2n ** 63n - 1n, -1n]) };
    tensors['i32'] = { dtype: 'I32', shape: [2], data: new Int32Array([-(2 ** 31), 2 ** 31 - 1]) };
    tensors['empty.1d'] = { dtype: 'F32', shape: [0], data: new Float32Array(0) };
    tensors['empty.3d'] = { dtype: 'I64', shape: [3, 0, 2], data: new Uint8Array(0) };
    tensors['scalar'] = { dtype: 'F64', shape: [], data: new Float64Array([Math.PI]) };
    const metadata = { format: 'pt', note: 'ünïcode ✓', '__proto__': 'kept' };
    Object.defineProperty(metadata, '__proto__', { value: 'kept', enumerable: true });

    const bytes = serialize(tensors, metadata);
    expect(new DataView(bytes.buffer).getBigUint64(0, true) % 8n).toBe(0n);
    const { tensors: back, metadata: meta } = deserialize(bytes);
    expect(Object.keys(back).sort()).toEqual(Object.keys(tensors).sort());
    expect(Object.entries(meta)).toEqual(Object.entries(metadata));
    for (const [name, t] of Object.entries(tensors)) {
      const got = back[name]!;
      expect(got.dtype, name).toBe(t.dtype);
      expect(got.shape, name).toEqual(t.shape);
      expect(got.data.constructor.name, name).toBe(EXPECTED_VIEW[t.dtype]);
      expect(Buffer.from(bytesOf(got.data)).equals(Buffer.from(bytesOf(t.data))), name).toBe(true);
    }
    expect(Object.is((back['f64.special']!.data as Float64Array)[0], -0)).toBe(true);
  });

  it('writes a file with only metadata, and one with nothing at all', () => {
    for (const metadata of [{ epoch: '3' }, undefined]) {
      const bytes = serialize({}, metadata);
      expect(deserialize(bytes)).toEqual({ tensors: {}, metadata: metadata ?? {} });
    }
  });

  it('loads a file built byte by byte from the spec, with unaligned data copied', () => {
    // An unpadded header of odd length puts the F64 data at an unaligned address.
    const header = '{"__metadata__":{"format":"pt"},"b":{"dtype":"F64","shape":[2],"data_offsets":[4,20]},' +
      '"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]},"c":{"dtype":"BF16","shape":[1,1],"data_offsets":[20,22]}}';
    expect((8 + header.length) % 8).not.toBe(0);
    const data = new Uint8Array(22);
    const view = new DataView(data.buffer);
    view.setInt32(0, -7, true);
    view.setFloat64(4, 1.5, true);
    view.setFloat64(12, -2.25, true);
    view.setUint16(20, 0x3f80, true);
    const { tensors, metadata } = deserialize(buildFile(header, data));
    expect(metadata).toEqual({ format: 'pt' });
    expect(Object.keys(tensors)).toEqual(['b', 'a', 'c']);
    expect(tensors.a).toEqual({ dtype: 'I32', shape: [1], data: new Int32Array([-7]) });
    expect(tensors.b).toEqual({ dtype: 'F64', shape: [2], data: new Float64Array([1.5, -2.25]) });
    expect(tensors.c).toEqual({ dtype: 'BF16', shape: [1, 1], data: new Uint8Array([0x80, 0x3f]) });
  });

  it('copies unaligned data correctly from a Node Buffer (whose slice() is a view)', () => {
    const header = '{"b":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}';
    expect((8 + header.length) % 8).not.toBe(0);
    const data = new Uint8Array(16);
    new DataView(data.buffer).setFloat64(0, 1.5, true);
    new DataView(data.buffer).setFloat64(8, -2, true);
    const file = Buffer.from(buildFile(header, data));
    expect(deserialize(file).tensors.b!.data).toEqual(new Float64Array([1.5, -2]));
  });

  it('reads from a Uint8Array at an odd byteOffset', () => {
    const bytes = serialize({ w: { dtype: 'F32', shape: [3], data: new Float32Array([1, 2, 3]) } });
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(deserialize(shifted.subarray(1)).tensors.w!.data).toEqual(new Float32Array([1, 2, 3]));
  });

  it('shares memory with an aligned input instead of copying', () => {
    const bytes = serialize({ w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } });
    expect(deserialize(bytes).tensors.w!.data.buffer).toBe(bytes.buffer);
  });

  it('rejects bad input to serialize', () => {
    const f32 = new Float32Array(2);
    expect(() => serialize({ w: { dtype: 'F32', shape: [3], data: f32 } })).toThrow(
      "safetensors: serialize: tensor 'w' of dtype F32 and shape [3] needs 12 bytes, got 8",
    );
    expect(() => serialize({ w: { dtype: 'F32', shape: [1], data: new Float64Array(1) } })).toThrow(
      "serialize: tensor 'w' has dtype F32 but data is a Float64Array; pass a Float32Array or raw bytes in a Uint8Array",
    );
    expect(() => serialize({ w: { dtype: 'F8' as DType, shape: [1], data: f32 } })).toThrow('unknown dtype "F8"');
    expect(() => serialize({ w: { dtype: 'F32', shape: [-2], data: f32 } })).toThrow('shape entries must be non-negative integers');
    expect(() => serialize({ __metadata__: { dtype: 'F32', shape: [2], data: f32 } })).toThrow('reserved');
    expect(() => serialize({}, { epoch: 3 as unknown as string })).toThrow("metadata values must be strings, got number for key 'epoch'");
  });
});

describe('safetensors rejects malformed files', () => {
  const f32 = (name: string, shape: unknown, offsets: unknown) =>
    `"${name}":{"dtype":"F32","shape":${JSON.stringify(shape)},"data_offsets":${JSON.stringify(offsets)}}`;
  const zeros = (n: number) => new Uint8Array(n);
  const cases: Array<[string, Uint8Array, string | RegExp]> = [
    ['empty file', zeros(0), 'not a safetensors file: it is 0 bytes, shorter than the 8-byte header length'],
    ['7-byte file', zeros(7), 'shorter than the 8-byte header length'],
    ['header length beyond the file', buildFile('{}', zeros(0), 100n), 'not a safetensors file: header length 100 exceeds the file size 10'],
    ['text file', new TextEncoder().encode('{"this is": "JSON, not safetensors"}'), 'not a safetensors file: header length 7575181469798376059 exceeds the file size 36'],
    ['header length over 100 MB', buildFile('{}', zeros(MAX_HEADER_BYTES), BigInt(MAX_HEADER_BYTES) + 1n), `header length ${MAX_HEADER_BYTES + 1} exceeds the ${MAX_HEADER_BYTES}-byte limit`],
    ['header length 2^64 - 1', buildFile('{}', zeros(0), 2n ** 64n - 1n), 'header length 18446744073709551615 exceeds'],
    ['invalid UTF-8', buildFile(new Uint8Array([0x7b, 0xff, 0x7d])), 'header is not valid UTF-8'],
    ['truncated JSON', buildFile('{"a":'), 'header is not valid JSON'],
    ['empty header', buildFile(''), 'header is not valid JSON'],
    ['array header', buildFile('[1,2]'), 'header must be a JSON object, got an array'],
    ['null header', buildFile('null'), 'header must be a JSON object, got null'],
    ['number header', buildFile('42'), 'header must be a JSON object, got number'],
    ['entry not an object', buildFile('{"a":3}'), "tensor 'a': entry must be an object"],
    ['missing dtype', buildFile('{"a":{"shape":[1],"data_offsets":[0,4]}}', zeros(4)), "tensor 'a': missing field 'dtype'"],
    ['missing shape', buildFile('{"a":{"dtype":"F32","data_offsets":[0,4]}}', zeros(4)), "missing field 'shape'"],
    ['missing data_offsets', buildFile('{"a":{"dtype":"F32","shape":[1]}}', zeros(4)), "missing field 'data_offsets'"],
    ['unknown dtype', buildFile('{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', zeros(1)), 'unknown dtype "F8_E4M3"'],
    ['dtype not a string', buildFile('{"a":{"dtype":4,"shape":[1],"data_offsets":[0,4]}}', zeros(4)), 'unknown dtype 4'],
    ['dtype inherited name', buildFile('{"a":{"dtype":"toString","shape":[1],"data_offsets":[0,4]}}', zeros(4)), 'unknown dtype "toString"'],
    ['shape not an array', buildFile(`{${f32('a', 4, [0, 16])}}`, zeros(16)), "tensor 'a': shape must be an array, got 4"],
    ['negative dimension', buildFile(`{${f32('a', [-1], [0, 0])}}`), 'shape entries must be non-negative integers, got [-1]'],
    ['fractional dimension', buildFile(`{${f32('a', [1.5], [0, 6])}}`, zeros(6)), 'shape entries must be non-negative integers, got [1.5]'],
    ['string dimension', buildFile(`{${f32('a', ['2'], [0, 8])}}`, zeros(8)), 'got ["2"]'],
    ['element count overflow', buildFile(`{${f32('a', [2 ** 30, 2 ** 30, 2 ** 30], [0, 4])}}`, zeros(4)), 'element count of shape [1073741824, 1073741824, 1073741824] overflows'],
    ['element count vs byte size', buildFile(`{${f32('a', [3], [0, 8])}}`, zeros(8)), "tensor 'a': dtype F32 and shape [3] need 12 bytes but data_offsets span 8"],
    ['fractional offset', buildFile(`{${f32('a', [1], [0, 4.5])}}`, zeros(5)), 'data_offsets must be non-negative integers, got [0,4.5]'],
    ['string offset', buildFile(`{${f32('a', [1], ['0', 4])}}`, zeros(4)), 'data_offsets must be non-negative integers'],
    ['negative offset', buildFile(`{${f32('a', [1], [-4, 0])}}`, zeros(4)), 'data_offsets must be non-negative integers'],
    ['huge offset', buildFile(`{${f32('a', [1], [1e300, 1e300 + 4])}}`, zeros(4)), 'data_offsets must be non-negative integers'],
    ['one offset', buildFile(`{${f32('a', [1], [4])}}`, zeros(4)), 'data_offsets must be [begin, end], got [4]'],
    ['end before begin', buildFile(`{${f32('a', [0], [4, 0])}}`, zeros(4)), "tensor 'a': data_offsets end 0 is before begin 4"],
    ['overlapping', buildFile(`{${f32('a', [2], [0, 8])},${f32('b', [2], [4, 12])}}`, zeros(12)), "tensor 'b': data_offsets [4, 12] overlap another tensor"],
    ['gap', buildFile(`{${f32('a', [1], [0, 4])},${f32('b', [1], [8, 12])}}`, zeros(12)), 'gap in data: bytes [4, 8) belong to no tensor'],
    ['not starting at 0', buildFile(`{${f32('a', [1], [4, 8])}}`, zeros(8)), "data does not start at offset 0 (first tensor 'a' begins at 4)"],
    ['past the end', buildFile(`{${f32('a', [4], [0, 16])}}`, zeros(8)), "tensor 'a': data_offsets [0, 16] run past the end of the data (8 bytes)"],
    ['trailing bytes', buildFile(`{${f32('a', [1], [0, 4])}}`, zeros(8)), 'gap in data: bytes [4, 8) at the end belong to no tensor'],
    ['data without tensors', buildFile('{}', zeros(3)), 'gap in data: bytes [0, 3) at the end'],
    ['duplicate tensor', buildFile(`{${f32('a', [1], [0, 4])},${f32('a', [1], [4, 8])}}`, zeros(8)), "header has duplicate key 'a'"],
    ['duplicate via escapes', buildFile(`{${f32('a', [1], [0, 4])},${f32('\\u0061', [1], [4, 8])}}`, zeros(8)), "duplicate key 'a'"],
    ['duplicate field', buildFile('{"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}}', zeros(4)), "duplicate key 'dtype'"],
    ['duplicate metadata key', buildFile('{"__metadata__":{"k":"1","k":"2"}}'), "duplicate key 'k'"],
    ['metadata not an object', buildFile('{"__metadata__":[]}'), '__metadata__ must be an object of strings'],
    ['metadata value not a string', buildFile('{"__metadata__":{"epoch":3}}'), "__metadata__ value for 'epoch' must be a string, got 3"],
  ];
  for (const [label, bytes, message] of cases) {
    it(label, () => {
      expect(() => deserialize(bytes)).toThrow(message);
      expect(() => deserialize(bytes)).toThrow(/^safetensors: /);
    });
  }

  it('does not mistake equal keys in different objects, or string values, for duplicates', () => {
    const header = '{"__metadata__":{"a":"dtype","shape":"a"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},' +
      '"b\\"a":{"dtype":"F32","shape":[0],"data_offsets":[4,4]}}';
    expect(Object.keys(deserialize(buildFile(header, zeros(4))).tensors)).toEqual(['a', 'b"a']);
  });
});

describe('safetensors fuzz', () => {
  const rng = makeRng();
  it(`never throws anything but a named Error on mutated files (seed ${rng.seed})`, () => {
    const valid = serialize(
      {
        'layer.weight': { dtype: 'F32', shape: [3, 4], data: new Float32Array(12).fill(0.5) },
        'layer.bias': { dtype: 'F64', shape: [4], data: new Float64Array(4) },
        steps: { dtype: 'I64', shape: [], data: new BigInt64Array([7n]) },
        mask: { dtype: 'BOOL', shape: [5], data: new Uint8Array(5) },
      },
      { format: 'pt' },
    );
    const headerEnd = 8 + Number(new DataView(valid.buffer).getBigUint64(0, true));
    const mutations: Array<(b: Uint8Array) => Uint8Array> = [
      (b) => b.slice(0, rng.int(0, b.length - 1)),
      (b) => {
        const c = b.slice();
        for (let k = rng.int(1, 8); k > 0; k--) c[rng.int(0, c.length - 1)]! ^= 1 << rng.int(0, 7);
        return c;
      },
      (b) => {
        const c = b.slice();
        c[rng.int(0, 7)] = rng.int(0, 255);
        return c;
      },
      (b) => {
        const c = b.slice();
        const at = rng.int(8, headerEnd - 1);
        c[at] = '0123456789{}[]",:-.e '.charCodeAt(rng.int(0, 20));
        return c;
      },
      (b) => {
        const text = new TextDecoder().decode(b.subarray(8, headerEnd));
        const digits = [...text.matchAll(/\d+/g)];
        const hit = digits[rng.int(0, digits.length - 1)]!;
        const replacement = String([0, 1, 3, 4, 8, 2 ** 31, 2 ** 53, 1e21][rng.int(0, 7)]);
        return buildFile(text.slice(0, hit.index) + replacement + text.slice(hit.index + hit[0].length), b.subarray(headerEnd));
      },
    ];
    let rejected = 0;
    for (let trial = 0; trial < 400; trial++) {
      const mutated = mutations[trial % mutations.length]!(valid);
      try {
        const { tensors } = deserialize(mutated);
        for (const t of Object.values(tensors)) {
          const count = t.shape.reduce((a, d) => a * d, 1);
          expect(t.data.byteLength).toBe(count * SIZES[t.dtype]);
        }
      } catch (err) {
        expect(err).toBeInstanceOf(Error);
        expect((err as Error).message, `trial ${trial}, TF_TEST_SEED=${rng.seed}`).toMatch(/^safetensors: /);
        rejected++;
      }
    }
    expect(rejected).toBeGreaterThan(100);
  });

  it('rejects deeply nested headers where the nesting passes the format, without overflowing the stack', () => {
    const depth = 200_000;
    const nested = buildFile('{"a":' + '['.repeat(depth) + ']'.repeat(depth) + '}');
    expect(() => deserialize(nested)).toThrow(
      `safetensors: header nests deeper than ${MAX_HEADER_DEPTH} levels at byte 7 (a safetensors header is an object of objects of arrays of numbers)`);
    expect(() => deserialize(buildFile('{"a":{"shape":[[1]]}}'))).toThrow(`nests deeper than ${MAX_HEADER_DEPTH} levels at byte 15`);
    expect(() => deserialize(buildFile('{"__metadata__":{"k":[["y"]]}}'))).toThrow(`nests deeper than ${MAX_HEADER_DEPTH} levels`);
  });
});

describe('safetensors hostile headers are refused at a limit, in time and memory bounded by the file', () => {
  it('more values than MAX_HEADER_VALUES', () => {
    const zerosList = new Array(MAX_HEADER_VALUES).fill('0').join(',');
    const t0 = performance.now();
    expect(() => deserialize(buildFile(`{"a":{"dtype":"F32","shape":[${zerosList}],"data_offsets":[0,0]}}`)))
      .toThrow(`safetensors: header holds more than ${MAX_HEADER_VALUES} JSON values (the limit; a tensor takes about 8)`);
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('sixty thousand zero-size tensors still load (a limit is not hit by real files)', () => {
    const n = 60_000;
    const parts: string[] = [];
    for (let k = 0; k < n; k++) parts.push(`"t${k}":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`);
    expect(Object.keys(deserialize(buildFile(`{${parts.join(',')}}`)).tensors)).toHaveLength(n);
  });

  it.each([
    ['a number too long', `{"a":{"dtype":"F32","shape":[${'9'.repeat(40)}],"data_offsets":[0,4]}}`, 'header is not valid JSON (a number longer than 32 characters at byte 29 of the header)'],
    ['a malformed number', '{"a":{"dtype":"F32","shape":[0x10],"data_offsets":[0,4]}}', "expected ',' or ']', got 'x' at byte 30 of the header"],
    ['a leading-zero number', '{"a":{"dtype":"F32","shape":[01],"data_offsets":[0,4]}}', "malformed number '01'"],
    ['trailing garbage', '{} x', "header is not valid JSON (unexpected data after the header at byte 3 of the header)"],
    ['a bare word', '{"a":nope}', "header is not valid JSON (unexpected 'n' at byte 5 of the header)"],
    ['a missing colon', '{"a" 1}', "header is not valid JSON (expected ':', got '1' at byte 5 of the header)"],
    ['a control character', '{"a\n":1}', 'header is not valid JSON (control character in a string at byte 3 of the header)'],
    ['a bad escape', '{"\\x":1}', 'header is not valid JSON (invalid escape in a string at byte 2 of the header)'],
    ['an unterminated string', '{"abc', 'header is not valid JSON (unterminated string at byte 5 of the header)'],
  ])('%s', (_, header, message) => {
    expect(() => deserialize(buildFile(header))).toThrow(message);
  });

  it('names a huge string by its first characters only', () => {
    const name = 'n'.repeat(60_000);
    let message = '';
    try {
      deserialize(buildFile(`{"${name}":{"dtype":"${'F'.repeat(1_000_000)}","shape":[],"data_offsets":[0,4]}}`));
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toBe(`safetensors: tensor '${'n'.repeat(57)}...': unknown dtype "${'F'.repeat(56)}...`);
    expect(() => deserialize(buildFile(`{"__metadata__":{"${'k'.repeat(MAX_KEY_BYTES + 1)}":""}}`)))
      .toThrow(`safetensors: header has a key longer than ${MAX_KEY_BYTES} bytes at byte 17 (the limit)`);
  });
});

describe('safetensors files', () => {
  it('saveFile / loadFile round trip, and loadFile names the file on error', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tf-st-'));
    try {
      const path = join(dir, 'model.safetensors');
      await saveFile(path, { w: { dtype: 'F32', shape: [2], data: new Float32Array([1, -2]) } }, { epoch: '1' });
      const back = await loadFile(path);
      expect(back.tensors.w!.data).toEqual(new Float32Array([1, -2]));
      expect(back.metadata).toEqual({ epoch: '1' });
      expect(await readdir(dir)).toEqual(['model.safetensors']);
      await writeFile(path, 'oops');
      await expect(loadFile(path)).rejects.toThrow(`shorter than the 8-byte header length (in ${path})`);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('loadFile and saveFile name the op, the path and the problem on file system errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tf-st-'));
    try {
      const t = { w: { dtype: 'F32' as const, shape: [1], data: new Float32Array(1) } };
      await expect(loadFile(dir)).rejects.toThrow(`loadFile: cannot read '${dir}': it is a directory`);
      await expect(loadFile(join(dir, 'none'))).rejects.toThrow(`loadFile: cannot read '${join(dir, 'none')}': no such file or directory`);
      await mkdir(join(dir, 'sub'));
      await expect(saveFile(join(dir, 'sub'), t)).rejects.toThrow(`saveFile: cannot write '${join(dir, 'sub')}': it is a directory`);
      await expect(saveFile(join(dir, 'no', 'x'), t)).rejects.toThrow(`saveFile: cannot write '${join(dir, 'no', 'x')}': no such file or directory`);
      await expect(saveFile('', t)).rejects.toThrow(`saveFile: path must be a non-empty string, got ""`);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('moves files in chunks of ioChunk.bytes, so any size round-trips (7-byte chunks here)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tf-st-'));
    const saved = ioChunk.bytes;
    try {
      const path = join(dir, 'chunked.safetensors');
      const tensors: Record<string, StoredTensor> = {
        a: { dtype: 'F64', shape: [5], data: new Float64Array([1, 2, 3, 4, 5]) },
        b: { dtype: 'U8', shape: [13], data: new Uint8Array(13).map((_, k) => k * 7) },
      };
      ioChunk.bytes = 7;
      await saveFile(path, tensors, { note: 'x'.repeat(50) });
      const back = await loadFile(path);
      ioChunk.bytes = saved;
      expect(back.tensors.a!.data).toEqual(tensors.a!.data);
      expect(back.tensors.b!.data).toEqual(tensors.b!.data);
      expect(back.metadata.note).toBe('x'.repeat(50));
      expect(new Uint8Array(await readFile(path))).toEqual(serialize(tensors, { note: 'x'.repeat(50) }));
    } finally {
      ioChunk.bytes = saved;
      await rm(dir, { recursive: true });
    }
  });

  it('a save or load removes temp files of that path whose writing process is dead, and only those', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tf-st-'));
    try {
      const path = join(dir, 'm.safetensors');
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
      const live = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
      try {
        const names = {
          dead: `.m.safetensors.${dead}.0123456789ab.tmp`,
          live: `.m.safetensors.${live.pid}.0123456789ab.tmp`,
          mine: `.m.safetensors.${process.pid}.0123456789ab.tmp`,
          otherFile: `.n.safetensors.${dead}.0123456789ab.tmp`,
          notOurs: `.m.safetensors.${dead}.backup.tmp`,
        };
        const make = () => Promise.all(Object.values(names).map((n) => writeFile(join(dir, n), 'partial')));
        const survivors = [names.live, names.mine, names.otherFile, names.notOurs].sort();
        await make();
        await saveFile(path, {});
        expect((await readdir(dir)).sort()).toEqual([...survivors, 'm.safetensors'].sort());
        await make();
        await loadFile(path);
        expect((await readdir(dir)).sort()).toEqual([...survivors, 'm.safetensors'].sort());
        expect((await stat(join(dir, names.live))).size).toBe(7);
      } finally {
        live.kill('SIGKILL');
      }
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('writeFileAtomic leaves the target untouched and no temp file when it fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tf-st-'));
    try {
      await writeFile(join(dir, 'keep'), 'old');
      await expect(writeFileAtomic(join(dir, 'missing', 'x'), new Uint8Array(4))).rejects.toThrow(`writeFileAtomic: cannot write '${join(dir, 'missing', 'x')}': no such file or directory`);
      await writeFileAtomic(join(dir, 'keep'), new TextEncoder().encode('new'));
      await expect(writeFileAtomic(dir, new Uint8Array(1))).rejects.toThrow(`writeFileAtomic: cannot write '${dir}': it is a directory`);
      expect(await readdir(dir)).toEqual(['keep']);
      expect(await readFile(join(dir, 'keep'), 'utf8')).toBe('new');
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('a save killed at random moments leaves the old or the new complete file', async () => {
    const rng = makeRng();
    const dir = await mkdtemp(join(tmpdir(), 'tf-st-kill-'));
    const child = fileURLToPath(new URL('./fixtures/save_loop.ts', import.meta.url));
    const sizeMb = 20;
    try {
      const target = join(dir, 'ckpt.safetensors');
      const bytes = sizeMb * 1024 * 1024;
      await saveFile(target, { blob: { dtype: 'U8', shape: [bytes], data: new Uint8Array(bytes).fill(255) } }, { iteration: '255' });
      const seen = new Set<string>();
      for (let kill = 0; kill < 10; kill++) {
        const proc = spawn(process.execPath, ['--import', 'tsx', child, target, String(sizeMb), String(kill * 1000)], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        const exited = new Promise<NodeJS.Signals | null>((resolve) => proc.on('exit', (_code, signal) => resolve(signal)));
        // Half the kills wait for a completed save, so that the target changes hands during the test.
        const marker = kill % 2 === 0 ? 'ready' : 'saved';
        await new Promise<void>((resolve) => {
          let out = '';
          proc.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString();
            if (out.includes(marker)) resolve();
          });
        });
        await new Promise((resolve) => setTimeout(resolve, rng.uniform(0, 400)));
        proc.kill('SIGKILL');
        expect(await exited).toBe('SIGKILL');

        const { tensors, metadata } = await loadFile(target);
        const data = tensors.blob!.data as Uint8Array;
        expect(data.length).toBe(bytes);
        const fill = Number(metadata.iteration) % 256;
        let mismatches = 0;
        for (let k = 0; k < bytes; k += 4099) mismatches += data[k] === fill ? 0 : 1;
        expect(mismatches, `kill ${kill}: content disagrees with metadata iteration ${metadata.iteration}`).toBe(0);
        // the killed save's temporary file, if it left one, went with that load
        expect(await readdir(dir), `kill ${kill}`).toEqual(['ckpt.safetensors']);
        expect(data[bytes - 1]).toBe(fill);
        seen.add(metadata.iteration!);
      }
      // The kills must land across several saves, or the test proves nothing about mid-save crashes.
      expect(seen.size).toBeGreaterThan(1);
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

import { describe, expect, it } from 'vitest';
import { Random, epochPermutation, philox4x32 } from '../../lib/data/random.js';
import { makeRng } from '../util.js';

describe('philox4x32', () => {
  // Random123 kat_vectors: counter[4], key[2] → output[4].
  it.each([
    [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
    [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
    [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
  ])('matches the Random123 known answer for counter %j key %j', (counter, key, expected) => {
    expect(Array.from(philox4x32(counter, key, new Uint32Array(4)))).toEqual(expected);
  });
});

describe('Random', () => {
  const seed = makeRng().int(0, 2 ** 40);

  it('is a pure function of (seed, stream): same stream repeats, other seeds and streams differ', () => {
    const draw = (s: number, stream: number[]): number[] => {
      const r = new Random(s, stream);
      return Array.from({ length: 9 }, () => r.nextUint32());
    };
    expect(draw(seed, [1, 2, 3])).toEqual(draw(seed, [1, 2, 3]));
    expect(draw(seed, [1, 2, 3])).not.toEqual(draw(seed + 1, [1, 2, 3]));
    expect(draw(seed, [1, 2, 3])).not.toEqual(draw(seed, [1, 2, 4]));
    expect(draw(seed, [1, 2, 3])).not.toEqual(draw(seed + 2 ** 32, [1, 2, 3]));
  });

  it('uniform, normal and int have the right moments and ranges', () => {
    const r = new Random(seed, [7]);
    const n = 50_000;
    let sumU = 0, sumN = 0, sumN2 = 0, minU = Infinity, maxU = -Infinity;
    const counts = new Array<number>(5).fill(0);
    for (let i = 0; i < n; i++) {
      const u = r.uniform(2, 4);
      minU = Math.min(minU, u);
      maxU = Math.max(maxU, u);
      sumU += u;
      const z = r.normal(1, 3);
      sumN += z;
      sumN2 += (z - 1) ** 2;
      counts[r.int(-2, 2) + 2]! += 1;
    }
    expect(minU >= 2 && maxU < 4).toBe(true);
    expect(Math.abs(sumU / n - 3)).toBeLessThan(0.02);
    expect(Math.abs(sumN / n - 1)).toBeLessThan(0.06);
    expect(Math.abs(Math.sqrt(sumN2 / n) - 3)).toBeLessThan(0.06);
    for (const c of counts) expect(Math.abs(c / n - 0.2)).toBeLessThan(0.01);
  });

  it('permutation is a permutation, and epochPermutation depends on (seed, epoch) only', () => {
    const p = epochPermutation(seed, 3, 1001);
    expect(Array.from(p).sort((a, b) => a - b)).toEqual(Array.from({ length: 1001 }, (_, i) => i));
    expect(epochPermutation(seed, 3, 1001)).toEqual(p);
    expect(epochPermutation(seed, 4, 1001)).not.toEqual(p);
    expect(new Random(seed).permutation(0)).toEqual(new Int32Array(0));
  });

  it('rejects bad seeds, streams and ranges with the value in the message', () => {
    expect(() => new Random(-1)).toThrow(/seed must be a non-negative safe integer, got -1/);
    expect(() => new Random(0, [1, 2, 3, 4])).toThrow(/at most 3 words, got 4/);
    expect(() => new Random(0, [2 ** 32])).toThrow(/stream\[0\] must be an integer in \[0, 2\^32\)/);
    expect(() => new Random(0).int(3, 2)).toThrow(/\[3, 2\]/);
  });
});

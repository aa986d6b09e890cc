import { describe, expect, it } from 'vitest';
import { ArrayDataset, Subset, backingRows, randomSplit } from '../../lib/data/dataset.js';
import { makeRng } from '../util.js';

function tinyDataset(n: number): ArrayDataset {
  const images = Uint8Array.from({ length: n * 2 * 3 * 4 }, (_, i) => i % 251);
  return new ArrayDataset(images, Int32Array.from({ length: n }, (_, i) => i * 10), [2, 3, 4]);
}

describe('ArrayDataset', () => {
  it('returns views of image i and its label', () => {
    const ds = tinyDataset(5);
    const { image, label } = ds.get(3);
    expect(label).toBe(30);
    expect([image.channels, image.height, image.width]).toEqual([2, 3, 4]);
    expect(Array.from(image.data)).toEqual(Array.from({ length: 24 }, (_, i) => (72 + i) % 251));
    expect(image.data.buffer).toBe(ds.images.buffer);
  });

  it('checks sizes and indices', () => {
    expect(() => new ArrayDataset(new Uint8Array(23), new Int32Array(1), [2, 3, 4])).toThrow(/need 24 pixel values, got 23/);
    expect(() => tinyDataset(5).get(5)).toThrow(/index 5 out of range \[0, 5\)/);
  });
});

describe('randomSplit', () => {
  it('splits into disjoint subsets covering the dataset, reproducibly for a seed', () => {
    const seed = makeRng().int(0, 1e9);
    const ds = tinyDataset(37);
    const [a, b] = randomSplit(ds, [30, 7], seed);
    expect([a!.length, b!.length]).toEqual([30, 7]);
    const labels = [...Array.from({ length: 30 }, (_, i) => a!.get(i).label), ...Array.from({ length: 7 }, (_, i) => b!.get(i).label)];
    expect(labels.sort((x, y) => x - y)).toEqual(Array.from({ length: 37 }, (_, i) => i * 10));
    expect(randomSplit(ds, [30, 7], seed)[1]!.indices).toEqual(b!.indices);
    expect(randomSplit(ds, [30, 7], seed + 1)[1]!.indices).not.toEqual(b!.indices);
    expect(() => randomSplit(ds, [30, 8], seed)).toThrow(/summing to the dataset length 37/);
  });

  it('nested subsets resolve to rows of the backing ArrayDataset', () => {
    const ds = tinyDataset(10);
    const inner = new Subset(new Subset(ds, Int32Array.of(9, 2, 5, 7)), Int32Array.of(3, 0));
    const resolved = backingRows(inner)!;
    expect(resolved.base).toBe(ds);
    expect(Array.from(resolved.rows)).toEqual([7, 9]);
    expect(inner.get(1).label).toBe(90);
    expect(backingRows({ length: 1, get: () => ds.get(0) })).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { crossoverBatch, type CrossoverPoint } from '../../bench/gpu.js';

/** Points from [batch, cpu images/s, cuda images/s]; undefined stands for a figure skipped at a time limit. */
const points = (...rows: Array<[number, number | undefined, number | undefined]>): CrossoverPoint[] =>
  rows.map(([batch, cpu, cuda]) => ({ batch, cpu, cuda }));

describe('bench crossoverBatch', () => {
  it('is the smallest batch from which cuda wins at every larger batch', () => {
    expect(crossoverBatch(points([16, 900, 300], [64, 1000, 1500], [256, 1100, 6000]))).toBe(64);
  });

  it('ignores a win below a batch where cuda loses again', () => {
    expect(crossoverBatch(points([16, 900, 950], [64, 1000, 800], [256, 1100, 6000], [1024, 1200, 9000]))).toBe(256);
  });

  it('is null when cuda loses at the largest batch', () => {
    expect(crossoverBatch(points([16, 900, 950], [64, 1000, 2000], [256, 1100, 1000]))).toBeNull();
  });

  it('is the smallest batch when cuda wins everywhere, whatever the order of the points', () => {
    expect(crossoverBatch(points([256, 10, 60], [16, 10, 20], [64, 10, 30]))).toBe(16);
  });

  it('counts a tie as no win', () => {
    expect(crossoverBatch(points([16, 500, 500], [64, 500, 900]))).toBe(64);
  });

  it('leaves out batches missing a figure', () => {
    expect(crossoverBatch(points([16, 900, 950], [64, 1000, undefined], [256, undefined, 4000], [1024, 1200, 9000]))).toBe(16);
  });

  it('is null without a batch measured on both devices', () => {
    expect(crossoverBatch(points([16, 900, undefined]))).toBeNull();
  });
});

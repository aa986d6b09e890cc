import { describe, expect, it } from 'vitest';
import { History } from '../../lib/train/history.js';
import { EarlyStopping } from '../../lib/train/early_stopping.js';
import { makeRng } from '../util.js';

describe('History', () => {
  it('numbers epochs, extracts series with NaN for gaps, and finds the best epoch', () => {
    const h = new History();
    h.push({ trainLoss: 1.5, valLoss: 1.6, lr: 0.1 });
    h.push({ trainLoss: 1.0, valAcc: 0.7, gradNorm: 3 });
    h.push({ trainLoss: NaN, valLoss: 1.2, valAcc: 0.7 });
    expect(h.length).toBe(3);
    expect(h.epochs()).toEqual([1, 2, 3]);
    expect(h.series('valLoss')).toEqual([1.6, NaN, 1.2]);
    expect(h.series('gradNorm')).toEqual([NaN, 3, NaN]);
    expect(h.keys()).toEqual(['trainLoss', 'valLoss', 'lr', 'valAcc', 'gradNorm']);
    expect(h.has('trainAcc')).toBe(false);
    expect(h.best('trainLoss')).toEqual({ epoch: 2, value: 1.0 });
    expect(h.best('valAcc', 'max')).toEqual({ epoch: 2, value: 0.7 });
    expect(h.best('trainAcc')).toBeUndefined();
    expect(h.last()!.epoch).toBe(3);
  });

  it('accepts explicit increasing epochs and rejects others and non-numbers', () => {
    const h = new History();
    h.push({ epoch: 5, trainLoss: 1 });
    expect(() => h.push({ epoch: 5 })).toThrow('History.push: epoch must be an integer greater than 5, got 5');
    expect(() => h.push({ trainLoss: '1' as unknown as number })).toThrow(`History.push: metric 'trainLoss' must be a number, got "1"`);
    expect(h.push({}).epoch).toBe(6);
  });

  it(`round-trips through JSON text with NaN and Infinity as null (seed ${makeRng().seed})`, () => {
    const rng = makeRng();
    const h = new History();
    for (let e = 0; e < 17; e++) h.push({ trainLoss: rng.uniform(0, 2), valAcc: e % 5 === 0 ? NaN : rng.uniform(), time: rng.uniform(1, 9), custom: e });
    h.push({ trainLoss: Infinity });
    const text = JSON.stringify(h);
    const back = History.fromJSON(text);
    expect(back.records.slice(0, 17)).toEqual(h.records.slice(0, 17));
    expect(back.series('trainLoss').at(-1)).toBeNaN();
    expect(History.fromJSON(JSON.parse(text)).length).toBe(18);
    expect(() => History.fromJSON({ records: [] })).toThrow('History.fromJSON: expected { version: 1, records: [...] }');
    expect(() => History.fromJSON({ version: 1, records: [{ epoch: 1, loss: 'x' }] })).toThrow(`record 0: metric 'loss' must be a number`);
  });
});

describe('EarlyStopping', () => {
  it('stops after patience epochs without improvement and keeps the best snapshot', () => {
    const es = new EarlyStopping<number[]>({ patience: 2 });
    const values = [1.0, 0.8, 0.85, 0.79, 0.9, 0.95];
    const decisions = values.map((v, i) => es.step(v, () => [i]));
    expect(decisions).toEqual([false, false, false, false, false, true]);
    expect(es.stopped).toBe(true);
    expect(es.best).toBe(0.79);
    expect(es.bestEpoch).toBe(4);
    expect(es.bestSnapshot).toEqual([3]);
  });

  it('respects minDelta and mode max, and only snapshots on improvement', () => {
    const es = new EarlyStopping<string>({ patience: 3, minDelta: 0.01, mode: 'max' });
    let snapshots = 0;
    const snap = () => `s${++snapshots}`;
    for (const v of [0.5, 0.505, 0.52, 0.525]) es.step(v, snap);
    expect(es.best).toBe(0.52);
    expect(es.bestEpoch).toBe(3);
    expect(snapshots).toBe(2);
    expect(es.wait).toBe(1);
  });

  it('never counts NaN as an improvement, even first', () => {
    const es = new EarlyStopping({ patience: 2 });
    expect(es.step(NaN)).toBe(false);
    expect(es.best).toBeUndefined();
    expect(es.step(NaN)).toBe(true);
    const later = new EarlyStopping({ patience: 1, mode: 'max' });
    later.step(0.3);
    expect(later.step(NaN)).toBe(true);
    expect(later.best).toBe(0.3);
  });

  it('patience 0 stops at the first epoch that does not improve', () => {
    const es = new EarlyStopping({ patience: 0 });
    expect(es.step(1)).toBe(false);
    expect(es.step(1)).toBe(true);
  });

  it('validates its options', () => {
    expect(() => new EarlyStopping({ patience: -1 })).toThrow('EarlyStopping: patience must be a non-negative integer, got -1');
    expect(() => new EarlyStopping({ minDelta: -0.1 })).toThrow('EarlyStopping: minDelta must be a finite non-negative number, got -0.1');
    expect(() => new EarlyStopping({ mode: 'up' as 'min' })).toThrow(`EarlyStopping: mode must be 'min' or 'max', got "up"`);
  });
});

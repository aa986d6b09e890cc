import { describe, expect, it } from 'vitest';
import { History } from '../../lib/train/history.js';
import { renderCurvesSvg } from '../../lib/train/plot.js';
import { makeRng } from '../util.js';

/** Checks that every element is closed in order; returns the element names seen. */
function checkWellFormed(svg: string): string[] {
  const stack: string[] = [];
  const names: string[] = [];
  for (const [, close, name, , selfClose] of svg.matchAll(/<(\/?)([a-zA-Z]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    if (close) expect(stack.pop(), `closing </${name}>`).toBe(name);
    else {
      names.push(name!);
      if (!selfClose) stack.push(name!);
    }
  }
  expect(stack).toEqual([]);
  expect(svg.replace(/<[^>]*>/g, '')).not.toMatch(/[<>]/);
  return names;
}

const paths = (svg: string, color: string) => [...svg.matchAll(new RegExp(`<path d="([^"]+)"[^>]*stroke="${color}"`, 'g'))].map((m) => m[1]!);
const TRAIN = '#1f77b4', VAL = '#d62728';

describe('renderCurvesSvg', () => {
  it(`draws both panels with ticks, axis titles, legend and title (seed ${makeRng().seed})`, () => {
    const rng = makeRng();
    const h = new History();
    for (let e = 0; e < 23; e++) {
      h.push({ trainLoss: 2 * Math.exp(-e / 5) + 0.05 * rng.next(), valLoss: 2.1 * Math.exp(-e / 6), trainAcc: 1 - Math.exp(-e / 4), valAcc: 0.9 - Math.exp(-e / 5) });
    }
    const svg = renderCurvesSvg(h, { title: 'cnn <mnist> & "x"' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    const names = checkWellFormed(svg);
    expect(names.filter((n) => n === 'rect').length).toBe(3);
    expect(svg).toContain('cnn &#60;mnist&#62; &#38; &#34;x&#34;');
    for (const label of ['Loss', 'Accuracy', '>epoch<', '>loss<', '>accuracy<', '>train<', '>val<', '>0.5<', '>20<']) expect(svg).toContain(label);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
    expect(paths(svg, TRAIN)).toHaveLength(2);
    expect(paths(svg, VAL)).toHaveLength(2);
    // valLoss decreases, so its y coordinate (downward) increases along the path.
    const ys = paths(svg, VAL)[0]!.split(/[ML]/).filter(Boolean).map((p) => Number(p.trim().split(' ')[1]));
    expect(ys).toHaveLength(23);
    expect(ys.every((y, i) => i === 0 || y > ys[i - 1]!)).toBe(true);
  });

  it('leaves gaps at NaN and draws isolated points as dots', () => {
    const h = new History();
    const valLoss = [1, 0.9, NaN, 0.7, 0.6, NaN, 0.5, NaN, NaN, 0.3];
    valLoss.forEach((v, i) => h.push({ trainLoss: 1 - i * 0.05, valLoss: v }));
    const svg = renderCurvesSvg(h);
    checkWellFormed(svg);
    expect(paths(svg, VAL).map((d) => d.split('L').length)).toEqual([2, 2]);
    expect(svg).not.toContain('NaN');
    // 10 epochs: every finite point gets a dot (10 train + 6 val).
    expect(svg.match(new RegExp(`<circle[^>]*fill="${VAL}"`, 'g'))).toHaveLength(6);
    expect(svg).toContain('no data');
  });

  it('handles a single epoch, missing series, constant values and no epochs', () => {
    const one = new History();
    one.push({ trainLoss: 0.5, valAcc: 0.9 });
    const svg = renderCurvesSvg(one);
    checkWellFormed(svg);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg).not.toContain('<path');
    expect(svg.match(/<circle/g)).toHaveLength(2);
    expect(svg).toContain('>1<');
    const flat = new History();
    for (let e = 0; e < 3; e++) flat.push({ trainLoss: 0, trainAcc: 1 });
    const flatSvg = renderCurvesSvg(flat);
    checkWellFormed(flatSvg);
    expect(flatSvg).not.toMatch(/NaN|Infinity/);
    const empty = renderCurvesSvg([]);
    checkWellFormed(empty);
    expect(empty).toContain('no epochs recorded');
    expect(() => renderCurvesSvg(one, { width: 10 })).toThrow('renderCurvesSvg: width and height must be at least 300 × 200, got 10 × 400');
  });
});

import { describe, expect, it } from 'vitest';
import { ArrayDataset, type Image } from '../../lib/data/dataset.js';
import { Random } from '../../lib/data/random.js';
import {
  type Transform,
  colorJitter,
  compose,
  computeMeanStd,
  cutout,
  fromSpec,
  gaussianNoise,
  normalize,
  randomAffine,
  randomCrop,
  randomErasing,
  randomHorizontalFlip,
  randomRotation,
  randomVerticalFlip,
  toFloat,
} from '../../lib/data/transforms.js';
import { expectClose, makeRng, randomArray } from '../util.js';

const rng = makeRng();
const seed = rng.int(0, 1e9);

function randomImage(channels: number, height: number, width: number, lo = 0, hi = 1): Image {
  return { data: randomArray(Float32Array, channels * height * width, rng, lo, hi), channels, height, width };
}

/** pixel (c, y, x) of a CHW image, or `outside` when off the image */
function at(image: Image, c: number, y: number, x: number, outside = 0): number {
  return y >= 0 && y < image.height && x >= 0 && x < image.width ? image.data[(c * image.height + y) * image.width + x]! : outside;
}

function imageFrom(channels: number, height: number, width: number, pixel: (c: number, y: number, x: number) => number): Image {
  const data = new Float32Array(channels * height * width);
  for (let c = 0; c < channels; c++) for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[(c * height + y) * width + x] = pixel(c, y, x);
  return { data, channels, height, width };
}

const fresh = (stream = 0): Random => new Random(seed, [stream]);

describe('flips', () => {
  it('match a naive mirror and are involutions', () => {
    const image = randomImage(3, 5, 7);
    const h = randomHorizontalFlip(1).apply(image, fresh());
    const v = randomVerticalFlip(1).apply(image, fresh());
    expect(h.data).toEqual(imageFrom(3, 5, 7, (c, y, x) => at(image, c, y, 6 - x)).data);
    expect(v.data).toEqual(imageFrom(3, 5, 7, (c, y, x) => at(image, c, 4 - y, x)).data);
    expect(randomHorizontalFlip(1).apply(h, fresh()).data).toEqual(image.data);
    expect(randomVerticalFlip(1).apply(v, fresh()).data).toEqual(image.data);
    expect(randomHorizontalFlip(0).apply(image, fresh()).data).toEqual(image.data);
  });

  it('flip about half the time with p = 0.5 and never mutate the input', () => {
    const image = randomImage(1, 4, 4);
    const before = image.data.slice();
    let flipped = 0;
    for (let i = 0; i < 400; i++) if (randomHorizontalFlip(0.5).apply(image, fresh(i)).data[0] !== image.data[0]) flipped++;
    expect(flipped).toBeGreaterThan(140);
    expect(flipped).toBeLessThan(260);
    expect(image.data).toEqual(before);
  });
});

describe('randomCrop', () => {
  it('keeps the requested shape and is a window of the padded image', () => {
    const image = randomImage(2, 9, 11, 1, 2);
    for (let trial = 0; trial < 20; trial++) {
      const out = randomCrop([7, 8], 3, -5).apply(image, fresh(trial));
      expect([out.channels, out.height, out.width]).toEqual([2, 7, 8]);
      // Find the offset by brute force against a naive padded reference.
      const matches: number[][] = [];
      for (let top = -3; top <= 9 + 3 - 7; top++) {
        for (let left = -3; left <= 11 + 3 - 8; left++) {
          const reference = imageFrom(2, 7, 8, (c, y, x) => at(image, c, y + top, x + left, -5));
          if (reference.data.every((v, i) => v === out.data[i])) matches.push([top, left]);
        }
      }
      expect(matches.length).toBe(1);
    }
    expect(randomCrop(28, 2).apply(randomImage(1, 28, 28), fresh()).data.length).toBe(784);
    expect(randomCrop([9, 11]).apply(image, fresh()).data).toEqual(image.data);
  });

  it('with no padding and the full size is the identity; too large a window is an error', () => {
    const image = randomImage(3, 6, 6);
    expect(randomCrop(6).apply(image, fresh()).data).toEqual(image.data);
    expect(() => randomCrop(9, 1).apply(image, fresh())).toThrow('randomCrop: crop 9×9 does not fit in the 6×6 image padded by 1');
  });
});

describe('normalize and computeMeanStd', () => {
  it('computeMeanStd matches a float64 reference, and normalize then gives mean 0, std 1 per channel', () => {
    const n = 23, shape = [3, 5, 4] as const;
    const pixels = Uint8Array.from({ length: n * 60 }, () => rng.int(0, 255));
    const ds = new ArrayDataset(pixels, new Int32Array(n), shape);
    const { mean, std } = computeMeanStd(ds, toFloat());
    const stats = (values: (c: number) => number[]): number[][] =>
      [0, 1, 2].map((c) => {
        const v = values(c);
        const m = v.reduce((a, b) => a + b, 0) / v.length;
        return [m, Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length)];
      });
    const raw = (c: number): number[] => Array.from({ length: n * 20 }, (_, k) => pixels[Math.floor(k / 20) * 60 + c * 20 + (k % 20)]! / 255);
    const reference = stats(raw);
    expectClose(mean, reference.map((s) => s[0]!), { atol: 1e-12, seed: rng.seed, label: 'mean' });
    expectClose(std, reference.map((s) => s[1]!), { atol: 1e-9, seed: rng.seed, label: 'std' });

    const pipeline = compose([toFloat(), normalize(mean, std)]);
    const normalized = Array.from({ length: n }, (_, i) => pipeline.apply({ ...ds.get(i).image, data: new Float32Array(ds.get(i).image.data) }, fresh()));
    const after = stats((c) => normalized.flatMap((img) => Array.from(img.data.subarray(c * 20, (c + 1) * 20))));
    expectClose(after.flat(), [0, 1, 0, 1, 0, 1], { atol: 1e-4, seed: rng.seed, label: 'normalized stats' });
  });

  it('rejects mismatched statistics', () => {
    expect(() => normalize([0.5], [0])).toThrow(/std\[0\] must be a finite number/);
    expect(() => normalize([0, 0], [1, 1]).apply(randomImage(3, 2, 2), fresh())).toThrow('normalize: 2 channel statistics for an image with 3 channels');
  });
});

describe('geometric resampling', () => {
  it('rotation and affine by zero are the identity, nearest and bilinear', () => {
    const image = randomImage(2, 7, 10);
    for (const bilinear of [false, true]) {
      expect(randomRotation(0, bilinear).apply(image, fresh()).data).toEqual(image.data);
      expect(randomAffine({ bilinear }).apply(image, fresh()).data).toEqual(image.data);
    }
  });

  it('rotation leaves a centred radial blob nearly unchanged and keeps the shape', () => {
    const blob = imageFrom(1, 21, 21, (_, y, x) => Math.exp(-((x - 10) ** 2 + (y - 10) ** 2) / 50));
    for (let trial = 0; trial < 5; trial++) {
      const out = randomRotation(180, true).apply(blob, fresh(trial));
      expect([out.channels, out.height, out.width]).toEqual([1, 21, 21]);
      // Corners rotate in from outside the image (fill 0); compare inside the inscribed circle.
      const inside = [...blob.data.keys()].filter((i) => Math.hypot((i % 21) - 10, Math.floor(i / 21) - 10) <= 9);
      expectClose(inside.map((i) => out.data[i]!), inside.map((i) => blob.data[i]!), { atol: 0.01, seed: rng.seed, label: 'rotated blob' });
    }
  });

  it('rotation turns an off-centre dot counter-clockwise (as displayed) by the drawn angle', () => {
    const dot = imageFrom(1, 31, 31, (_, y, x) => (Math.abs(y - 15) <= 1 && Math.abs(x - 25) <= 1 ? 1 : 0));
    for (let trial = 0; trial < 5; trial++) {
      const out = randomRotation(170).apply(dot, fresh(trial));
      const theta = (fresh(trial).uniform(-170, 170) * Math.PI) / 180;
      const hits = [...out.data.keys()].filter((i) => out.data[i] === 1);
      expect(hits.length).toBeGreaterThan(3);
      const cx = hits.reduce((a, i) => a + (i % 31), 0) / hits.length, cy = hits.reduce((a, i) => a + Math.floor(i / 31), 0) / hits.length;
      expect(Math.hypot(cx - (15 + 10 * Math.cos(theta)), cy - (15 - 10 * Math.sin(theta)))).toBeLessThan(1);
    }
  });

  it('translate-only affine is an integer shift within the allowed range', () => {
    const image = randomImage(1, 10, 10, 1, 2);
    for (let trial = 0; trial < 10; trial++) {
      const out = randomAffine({ translate: [0.2, 0.3] }).apply(image, fresh(trial));
      let found = 0;
      for (let dy = -3; dy <= 3; dy++) for (let dx = -2; dx <= 2; dx++) {
        if (imageFrom(1, 10, 10, (c, y, x) => at(image, c, y - dy, x - dx)).data.every((v, i) => v === out.data[i])) found++;
      }
      expect(found).toBe(1);
    }
  });

  it('scale 2 about the centre magnifies (nearest): output (y, x) reads input at centre + (p - centre) / 2', () => {
    const image = randomImage(1, 9, 9);
    const out = randomAffine({ scale: [2, 2] }).apply(image, fresh());
    expect(out.data).toEqual(imageFrom(1, 9, 9, (c, y, x) => at(image, c, Math.round(4 + (y - 4) / 2), Math.round(4 + (x - 4) / 2))).data);
  });
});

describe('pixel-value transforms', () => {
  it('gaussianNoise with std 0 is the identity; with std s adds noise of std s', () => {
    const image = randomImage(3, 40, 40);
    expect(gaussianNoise(0).apply(image, fresh()).data).toEqual(image.data);
    const noisy = gaussianNoise(0.25).apply(image, fresh());
    const diff = Array.from(noisy.data, (v, i) => v - image.data[i]!);
    const m = diff.reduce((a, b) => a + b, 0) / diff.length;
    expect(Math.abs(m)).toBeLessThan(0.02);
    expect(Math.abs(Math.sqrt(diff.reduce((a, b) => a + (b - m) ** 2, 0) / diff.length) - 0.25)).toBeLessThan(0.01);
  });

  it('colorJitter: zero amounts are the identity; brightness alone scales every pixel by one factor', () => {
    const image = randomImage(3, 6, 5, 0.1, 0.4);
    expect(colorJitter().apply(image, fresh()).data).toEqual(image.data);
    const out = colorJitter({ brightness: 0.5 }).apply(image, fresh());
    const factor = out.data[0]! / image.data[0]!;
    expect(factor).toBeGreaterThanOrEqual(0.5);
    expect(factor).toBeLessThanOrEqual(1.5);
    expectClose(out.data, image.data.map((v) => Math.min(1, v * factor)), { atol: 1e-6, seed: rng.seed });
    const contrasted = colorJitter({ contrast: 0.9, saturation: 0.9 }).apply(image, fresh());
    expect(contrasted.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('randomErasing and cutout set one box in every channel to the value and leave the rest', () => {
    const image = randomImage(2, 12, 12, 1, 2);
    for (const t of [randomErasing({ p: 1, value: 0 }), cutout(5, 0)]) {
      for (let trial = 0; trial < 10; trial++) {
        const out = t.apply(image, fresh(trial));
        const erased = [...out.data.keys()].filter((i) => out.data[i] !== image.data[i]);
        expect(erased.every((i) => out.data[i] === 0)).toBe(true);
        const ys = erased.map((i) => Math.floor(i / 12) % 12), xs = erased.map((i) => i % 12);
        const boxH = Math.max(...ys) - Math.min(...ys) + 1, boxW = Math.max(...xs) - Math.min(...xs) + 1;
        expect(erased.length).toBe(2 * boxH * boxW);
        if (t.spec.kind === 'cutout') expect(Math.max(boxH, boxW)).toBeLessThanOrEqual(5);
      }
    }
    expect(randomErasing({ p: 0 }).apply(image, fresh()).data).toEqual(image.data);
  });
});

const everyTransform: Transform[] = [
  toFloat(),
  normalize([0.1, 0.2, 0.3], [0.5, 0.6, 0.7]),
  randomHorizontalFlip(0.5),
  randomVerticalFlip(0.3),
  randomCrop(6, 2, 0.5),
  randomCrop([5, 7], 1),
  randomRotation(30, true, 0.25),
  randomAffine({ degrees: 15, translate: [0.1, 0.2], scale: [0.9, 1.1], bilinear: true }),
  gaussianNoise(0.1),
  colorJitter({ brightness: 0.2, contrast: 0.3, saturation: 0.4 }),
  randomErasing({ p: 0.7, scale: [0.05, 0.2] }),
  cutout(3, 0.5),
];

describe('seeding and JSON specs', () => {
  const pipeline = compose(everyTransform.filter((t) => !['randomCrop', 'toFloat'].includes(t.spec.kind)));
  const image = randomImage(3, 8, 9);

  it('a generator state reproduces the output; a different seed or stream differs', () => {
    const out = pipeline.apply(image, new Random(seed, [1, 2, 3]));
    expect(pipeline.apply(image, new Random(seed, [1, 2, 3])).data).toEqual(out.data);
    expect(pipeline.apply(image, new Random(seed + 1, [1, 2, 3])).data).not.toEqual(out.data);
    expect(pipeline.apply(image, new Random(seed, [1, 2, 4])).data).not.toEqual(out.data);
  });

  it.each(everyTransform.map((t) => [t.spec.kind, t] as const))('%s survives a JSON round trip', (_, t) => {
    const json = JSON.parse(JSON.stringify(t.spec));
    const rebuilt = fromSpec(json);
    expect(rebuilt.spec).toEqual(t.spec);
    for (let trial = 0; trial < 3; trial++) expect(rebuilt.apply(image, fresh(trial)).data).toEqual(t.apply(image, fresh(trial)).data);
  });

  it('compose round-trips as nested specs, and the brief spec form is accepted', () => {
    const rebuilt = fromSpec(JSON.parse(JSON.stringify(pipeline.spec)));
    expect(rebuilt.apply(image, fresh(5)).data).toEqual(pipeline.apply(image, fresh(5)).data);
    expect(fromSpec({ kind: 'randomCrop', size: 28, padding: 2 }).spec).toEqual({ kind: 'randomCrop', size: 28, padding: 2, fill: 0 });
  });

  it('rejects bad specs with the transform, the argument and the value', () => {
    expect(() => fromSpec({ kind: 'blur' } as never)).toThrow('fromSpec: unknown transform kind "blur"');
    expect(() => fromSpec({ kind: 'randomCrop', size: -1 })).toThrow('randomCrop: size must be an integer >= 1, got -1');
    expect(() => fromSpec({ kind: 'randomHorizontalFlip', p: 2 })).toThrow('randomHorizontalFlip: p must be a finite number in [0, 1], got 2');
    expect(() => fromSpec({ kind: 'randomAffine', scale: [2, 1] })).toThrow('randomAffine: scale must have lo <= hi, got [2, 1]');
  });
});

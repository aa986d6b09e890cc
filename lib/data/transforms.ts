/**
 * Image transforms and augmentations on CHW float images. Every transform
 *  - is pure: it returns a new Image and never mutates its input;
 *  - takes its randomness from the `rng` argument (the DataLoader passes Random.forSample(seed, epoch, i)),
 *    so the same (seed, epoch, index) gives the same augmentation in any worker;
 *  - carries a JSON spec (`transform.spec`) from which `fromSpec` rebuilds an equivalent transform,
 *    which is how worker threads receive the pipeline.
 *
 * Coordinates: x is the column (0..W-1), y the row (0..H-1, downwards); rotations and affine maps
 * turn about the image centre ((W-1)/2, (H-1)/2). Pixels that come from outside the source are `fill`.
 */
import { type Dataset, type Image, type LabeledImage, shapeSize, toImage } from './dataset.js';
import { Random } from './random.js';

/** JSON description of a transform; `fromSpec` turns it back into a Transform. */
export type TransformSpec =
  | { kind: 'toFloat'; max?: number }
  | { kind: 'normalize'; mean: number[]; std: number[] }
  | { kind: 'randomHorizontalFlip'; p?: number }
  | { kind: 'randomVerticalFlip'; p?: number }
  | { kind: 'randomCrop'; size: number | [number, number]; padding?: number; fill?: number }
  | { kind: 'randomRotation'; degrees: number; bilinear?: boolean; fill?: number }
  | ({ kind: 'randomAffine' } & AffineOptions)
  | { kind: 'gaussianNoise'; std: number }
  | ({ kind: 'colorJitter' } & ColorJitterOptions)
  | ({ kind: 'randomErasing' } & ErasingOptions)
  | { kind: 'cutout'; size: number; value?: number }
  | { kind: 'compose'; transforms: TransformSpec[] };

/** A transform: `apply` maps an image [C, H, W] to a new image, drawing randomness only from `rng`. */
export interface Transform {
  readonly spec: TransformSpec;
  apply(image: Image, rng: Random): Image;
}

export interface AffineOptions {
  /** rotation drawn uniformly from [-degrees, degrees]; default 0 */
  degrees?: number;
  /** maximum shift as fractions [of width, of height]; default [0, 0] */
  translate?: [number, number];
  /** scale drawn uniformly from [lo, hi]; default [1, 1] */
  scale?: [number, number];
  bilinear?: boolean;
  fill?: number;
}

export interface ColorJitterOptions {
  /** brightness factor drawn from [max(0, 1 - b), 1 + b]; default 0 */
  brightness?: number;
  /** contrast factor drawn from [max(0, 1 - c), 1 + c]; default 0 */
  contrast?: number;
  /** saturation factor drawn from [max(0, 1 - s), 1 + s]; RGB images only; default 0 */
  saturation?: number;
}

export interface ErasingOptions {
  /** probability of erasing; default 0.5 */
  p?: number;
  /** erased area as a fraction of the image, drawn from [lo, hi]; default [0.02, 0.33] */
  scale?: [number, number];
  /** aspect ratio h/w of the erased box, drawn log-uniformly from [lo, hi]; default [0.3, 3.3] */
  ratio?: [number, number];
  value?: number;
}

function fail(op: string, message: string): never {
  throw new RangeError(`${op}: ${message}`);
}

function checkNumber(op: string, name: string, value: unknown, min = -Infinity, max = Infinity): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    fail(op, `${name} must be a finite number in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

function checkInteger(op: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) fail(op, `${name} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
  return value;
}

function checkRange(op: string, name: string, value: unknown, min: number, max = Infinity): [number, number] {
  if (!Array.isArray(value) || value.length !== 2) fail(op, `${name} must be a pair [lo, hi], got ${JSON.stringify(value)}`);
  const [lo, hi] = [checkNumber(op, `${name}[0]`, value[0], min, max), checkNumber(op, `${name}[1]`, value[1], min, max)];
  if (lo > hi) fail(op, `${name} must have lo <= hi, got [${lo}, ${hi}]`);
  return [lo, hi];
}

function blank(channels: number, height: number, width: number, fill = 0): Image {
  const data = new Float32Array(shapeSize([channels, height, width], 'image'));
  if (fill !== 0) data.fill(fill);
  return { data, channels, height, width };
}

function copyImage(image: Image): Image {
  return { ...image, data: image.data.slice() };
}

function checkImage(op: string, image: Image): void {
  if (image.data.length !== image.channels * image.height * image.width) {
    fail(op, `image data has ${image.data.length} values, expected C*H*W = ${image.channels}*${image.height}*${image.width}`);
  }
}

/** Divides every pixel by `max` (default 255): uint8-range pixels → [0, 1]. */
export function toFloat(max = 255): Transform {
  checkNumber('toFloat', 'max', max, Number.MIN_VALUE);
  return {
    spec: { kind: 'toFloat', max },
    apply(image) {
      // A plain loop: TypedArray.prototype.map with a closure is several times slower here.
      const data = new Float32Array(image.data.length);
      for (let i = 0; i < data.length; i++) data[i] = image.data[i]! / max;
      return { ...image, data };
    },
  };
}

/**
 * Per-channel (x - mean[c]) / std[c]. `mean` and `std` have one entry per channel, or a single entry
 * used for every channel.
 */
export function normalize(mean: readonly number[], std: readonly number[]): Transform {
  if (!Array.isArray(mean) || !Array.isArray(std) || mean.length === 0 || mean.length !== std.length) {
    fail('normalize', `mean and std must be non-empty arrays of equal length, got ${JSON.stringify(mean)} and ${JSON.stringify(std)}`);
  }
  mean.forEach((m, c) => checkNumber('normalize', `mean[${c}]`, m));
  std.forEach((s, c) => checkNumber('normalize', `std[${c}]`, s, Number.MIN_VALUE));
  return {
    spec: { kind: 'normalize', mean: [...mean], std: [...std] },
    apply(image) {
      checkImage('normalize', image);
      if (mean.length !== 1 && mean.length !== image.channels) {
        fail('normalize', `${mean.length} channel statistics for an image with ${image.channels} channels`);
      }
      const out = blank(image.channels, image.height, image.width);
      const plane = image.height * image.width;
      for (let c = 0; c < image.channels; c++) {
        const m = mean[mean.length === 1 ? 0 : c]!, s = std[std.length === 1 ? 0 : c]!;
        for (let i = c * plane; i < (c + 1) * plane; i++) out.data[i] = (image.data[i]! - m) / s;
      }
      return out;
    },
  };
}

function flip(image: Image, horizontal: boolean): Image {
  const { channels, height, width } = image;
  const out = blank(channels, height, width);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < height; y++) {
      const srcRow = (c * height + (horizontal ? y : height - 1 - y)) * width;
      const dstRow = (c * height + y) * width;
      for (let x = 0; x < width; x++) out.data[dstRow + x] = image.data[srcRow + (horizontal ? width - 1 - x : x)]!;
    }
  }
  return out;
}

/** Mirrors left-right with probability p (default 0.5); draws one uniform. */
export function randomHorizontalFlip(p = 0.5): Transform {
  checkNumber('randomHorizontalFlip', 'p', p, 0, 1);
  return {
    spec: { kind: 'randomHorizontalFlip', p },
    apply: (image, rng) => (rng.uniform() < p ? flip(image, true) : copyImage(image)),
  };
}

/** Mirrors top-bottom with probability p (default 0.5); draws one uniform. */
export function randomVerticalFlip(p = 0.5): Transform {
  checkNumber('randomVerticalFlip', 'p', p, 0, 1);
  return {
    spec: { kind: 'randomVerticalFlip', p },
    apply: (image, rng) => (rng.uniform() < p ? flip(image, false) : copyImage(image)),
  };
}

/**
 * Pads each side by `padding` pixels of value `fill`, then cuts a random size×size (or [h, w]) window:
 * [C, H, W] → [C, h, w]. The window must fit in the padded image.
 */
export function randomCrop(size: number | [number, number], padding = 0, fill = 0): Transform {
  const [cropH, cropW] = typeof size === 'number' ? [size, size] : Array.isArray(size) && size.length === 2 ? size : fail('randomCrop', `size must be a number or [h, w], got ${JSON.stringify(size)}`);
  checkInteger('randomCrop', 'size', cropH, 1);
  checkInteger('randomCrop', 'size', cropW, 1);
  checkInteger('randomCrop', 'padding', padding, 0);
  checkNumber('randomCrop', 'fill', fill);
  return {
    spec: { kind: 'randomCrop', size: typeof size === 'number' ? size : [cropH, cropW], padding, fill },
    apply(image, rng) {
      const { channels, height, width } = image;
      if (cropH > height + 2 * padding || cropW > width + 2 * padding) {
        fail('randomCrop', `crop ${cropH}×${cropW} does not fit in the ${height}×${width} image padded by ${padding}`);
      }
      // Offsets of the window's top-left corner in source coordinates (negative = inside the padding).
      const top = rng.int(0, height + 2 * padding - cropH) - padding;
      const left = rng.int(0, width + 2 * padding - cropW) - padding;
      const out = blank(channels, cropH, cropW, fill);
      const x0 = Math.max(0, -left), x1 = Math.min(cropW, width - left);
      for (let c = 0; c < channels; c++) {
        for (let y = Math.max(0, -top); y < Math.min(cropH, height - top); y++) {
          const src = (c * height + y + top) * width + left;
          out.data.set(image.data.subarray(src + x0, src + x1), (c * cropH + y) * cropW + x0);
        }
      }
      return out;
    },
  };
}

/**
 * Resamples `image` through an affine map: output pixel (x, y) reads source point
 * (m[0] x + m[1] y + m[2], m[3] x + m[4] y + m[5]), bilinearly or from the nearest pixel.
 */
function warpAffine(image: Image, m: readonly number[], bilinear: boolean, fill: number): Image {
  const { channels, height, width } = image;
  const out = blank(channels, height, width);
  const at = (plane: number, x: number, y: number): number =>
    x >= 0 && x < width && y >= 0 && y < height ? image.data[plane + y * width + x]! : fill;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const sx = m[0]! * x + m[1]! * y + m[2]!, sy = m[3]! * x + m[4]! * y + m[5]!;
      for (let c = 0; c < channels; c++) {
        const plane = c * height * width;
        let value: number;
        if (bilinear) {
          const x0 = Math.floor(sx), y0 = Math.floor(sy), fx = sx - x0, fy = sy - y0;
          value =
            (1 - fy) * ((1 - fx) * at(plane, x0, y0) + fx * at(plane, x0 + 1, y0)) +
            fy * ((1 - fx) * at(plane, x0, y0 + 1) + fx * at(plane, x0 + 1, y0 + 1));
        } else {
          value = at(plane, Math.round(sx), Math.round(sy));
        }
        out.data[plane + y * width + x] = value;
      }
    }
  }
  return out;
}

/**
 * The source-from-output map of "scale by s, rotate by `degrees` counter-clockwise (as displayed),
 * then shift by (tx, ty)" about the image centre, as the 6 coefficients warpAffine takes.
 */
function inverseAffine(image: Image, degrees: number, scale: number, tx: number, ty: number): number[] {
  const theta = (degrees * Math.PI) / 180;
  const cos = Math.cos(theta) / scale, sin = Math.sin(theta) / scale;
  const cx = (image.width - 1) / 2, cy = (image.height - 1) / 2;
  // source = centre + R(-theta)/s · (output - centre - t); with y pointing down, R(-theta) = [[cos, -sin], [sin, cos]].
  const ox = cx + tx, oy = cy + ty;
  return [cos, -sin, cx - cos * ox + sin * oy, sin, cos, cy - sin * ox - cos * oy];
}

/** Rotates by an angle drawn uniformly from [-degrees, degrees]; shape unchanged; default nearest-pixel sampling. */
export function randomRotation(degrees: number, bilinear = false, fill = 0): Transform {
  checkNumber('randomRotation', 'degrees', degrees, 0, 360);
  checkNumber('randomRotation', 'fill', fill);
  return {
    spec: { kind: 'randomRotation', degrees, bilinear, fill },
    apply: (image, rng) => warpAffine(image, inverseAffine(image, rng.uniform(-degrees, degrees), 1, 0, 0), bilinear, fill),
  };
}

/**
 * Random rotation, scale and translation in one resampling (see AffineOptions); shape unchanged.
 * Draws, in order: angle, scale, x shift, y shift.
 */
export function randomAffine(options: AffineOptions = {}): Transform {
  const op = 'randomAffine';
  const degrees = checkNumber(op, 'degrees', options.degrees ?? 0, 0, 360);
  const translate = checkRange(op, 'translate', options.translate ?? [0, 0], 0, 1);
  const scale = checkRange(op, 'scale', options.scale ?? [1, 1], Number.MIN_VALUE);
  const bilinear = options.bilinear ?? false;
  const fill = checkNumber(op, 'fill', options.fill ?? 0);
  return {
    spec: { kind: 'randomAffine', degrees, translate, scale, bilinear, fill },
    apply(image, rng) {
      const angle = rng.uniform(-degrees, degrees);
      const s = rng.uniform(scale[0], scale[1]);
      const maxDx = translate[0] * image.width, maxDy = translate[1] * image.height;
      const tx = Math.round(rng.uniform(-maxDx, maxDx)), ty = Math.round(rng.uniform(-maxDy, maxDy));
      return warpAffine(image, inverseAffine(image, angle, s, tx, ty), bilinear, fill);
    },
  };
}

/** Adds independent N(0, std²) noise to every pixel; draws C*H*W normals. */
export function gaussianNoise(std: number): Transform {
  checkNumber('gaussianNoise', 'std', std, 0);
  return {
    spec: { kind: 'gaussianNoise', std },
    apply(image, rng) {
      const data = new Float32Array(image.data.length);
      for (let i = 0; i < data.length; i++) data[i] = image.data[i]! + rng.normal(0, std);
      return { ...image, data };
    },
  };
}

/** Luma of RGB, or the channel mean for other channel counts, per pixel: shape [H*W]. */
function grayscale(image: Image): Float64Array {
  const { channels, height, width } = image;
  const plane = height * width;
  const weights = channels === 3 ? [0.299, 0.587, 0.114] : new Array<number>(channels).fill(1 / channels);
  const gray = new Float64Array(plane);
  for (let c = 0; c < channels; c++) for (let i = 0; i < plane; i++) gray[i]! += weights[c]! * image.data[c * plane + i]!;
  return gray;
}

/**
 * Scales brightness, contrast (about the mean luma) and saturation (about each pixel's luma, RGB only)
 * by random factors, in that fixed order, clamping to [0, 1]: expects images in [0, 1].
 * Always draws three uniforms.
 */
export function colorJitter(options: ColorJitterOptions = {}): Transform {
  const op = 'colorJitter';
  const brightness = checkNumber(op, 'brightness', options.brightness ?? 0, 0);
  const contrast = checkNumber(op, 'contrast', options.contrast ?? 0, 0);
  const saturation = checkNumber(op, 'saturation', options.saturation ?? 0, 0);
  const factor = (rng: Random, amount: number): number => rng.uniform(Math.max(0, 1 - amount), 1 + amount);
  return {
    spec: { kind: 'colorJitter', brightness, contrast, saturation },
    apply(image, rng) {
      checkImage(op, image);
      const b = factor(rng, brightness), c = factor(rng, contrast), s = factor(rng, saturation);
      const plane = image.height * image.width;
      const out = { ...image, data: image.data.map((v) => Math.min(1, Math.max(0, v * b))) };
      const meanLuma = grayscale(out).reduce((a, v) => a + v, 0) / plane;
      out.data.forEach((v, i) => (out.data[i] = Math.min(1, Math.max(0, (v - meanLuma) * c + meanLuma))));
      if (image.channels === 3) {
        const gray = grayscale(out);
        out.data.forEach((v, i) => (out.data[i] = Math.min(1, Math.max(0, (v - gray[i % plane]!) * s + gray[i % plane]!))));
      }
      return out;
    },
  };
}

function fillBox(image: Image, top: number, left: number, boxH: number, boxW: number, value: number): Image {
  const out = copyImage(image);
  for (let c = 0; c < image.channels; c++) {
    for (let y = top; y < top + boxH; y++) {
      const row = (c * image.height + y) * image.width;
      out.data.fill(value, row + left, row + left + boxW);
    }
  }
  return out;
}

/**
 * Random erasing (Zhong et al. 2017): with probability p, sets a box of random area and aspect ratio
 * (see ErasingOptions) to `value` in all channels; gives up after 10 boxes that do not fit.
 */
export function randomErasing(options: ErasingOptions = {}): Transform {
  const op = 'randomErasing';
  const p = checkNumber(op, 'p', options.p ?? 0.5, 0, 1);
  const scale = checkRange(op, 'scale', options.scale ?? [0.02, 0.33], 0, 1);
  const ratio = checkRange(op, 'ratio', options.ratio ?? [0.3, 3.3], Number.MIN_VALUE);
  const value = checkNumber(op, 'value', options.value ?? 0);
  return {
    spec: { kind: 'randomErasing', p, scale, ratio, value },
    apply(image, rng) {
      if (rng.uniform() >= p) return copyImage(image);
      const { height, width } = image;
      for (let attempt = 0; attempt < 10; attempt++) {
        const area = rng.uniform(scale[0], scale[1]) * height * width;
        const aspect = Math.exp(rng.uniform(Math.log(ratio[0]), Math.log(ratio[1])));
        const boxH = Math.round(Math.sqrt(area * aspect)), boxW = Math.round(Math.sqrt(area / aspect));
        if (boxH < 1 || boxW < 1 || boxH > height || boxW > width) continue;
        return fillBox(image, rng.int(0, height - boxH), rng.int(0, width - boxW), boxH, boxW, value);
      }
      return copyImage(image);
    },
  };
}

/**
 * Cutout (DeVries & Taylor 2017): sets a size×size square centred on a uniformly random pixel to
 * `value` in all channels, clipped at the borders. Draws two integers.
 */
export function cutout(size: number, value = 0): Transform {
  checkInteger('cutout', 'size', size, 1);
  checkNumber('cutout', 'value', value);
  return {
    spec: { kind: 'cutout', size, value },
    apply(image, rng) {
      const cy = rng.int(0, image.height - 1), cx = rng.int(0, image.width - 1);
      const top = Math.max(0, cy - Math.floor(size / 2)), left = Math.max(0, cx - Math.floor(size / 2));
      const bottom = Math.min(image.height, cy - Math.floor(size / 2) + size), right = Math.min(image.width, cx - Math.floor(size / 2) + size);
      return fillBox(image, top, left, bottom - top, right - left, value);
    },
  };
}

/** Applies `transforms` left to right, sharing one generator. */
export function compose(transforms: readonly Transform[]): Transform {
  return {
    spec: { kind: 'compose', transforms: transforms.map((t) => t.spec) },
    apply: (image, rng) => transforms.reduce((img, t) => t.apply(img, rng), image),
  };
}

/** Rebuilds a transform from its JSON spec; the result behaves exactly like the original. */
export function fromSpec(spec: TransformSpec): Transform {
  switch (spec.kind) {
    case 'toFloat':
      return toFloat(spec.max);
    case 'normalize':
      return normalize(spec.mean, spec.std);
    case 'randomHorizontalFlip':
      return randomHorizontalFlip(spec.p);
    case 'randomVerticalFlip':
      return randomVerticalFlip(spec.p);
    case 'randomCrop':
      return randomCrop(spec.size, spec.padding, spec.fill);
    case 'randomRotation':
      return randomRotation(spec.degrees, spec.bilinear, spec.fill);
    case 'randomAffine':
      return randomAffine(spec);
    case 'gaussianNoise':
      return gaussianNoise(spec.std);
    case 'colorJitter':
      return colorJitter(spec);
    case 'randomErasing':
      return randomErasing(spec);
    case 'cutout':
      return cutout(spec.size, spec.value);
    case 'compose':
      if (!Array.isArray(spec.transforms)) fail('fromSpec', `compose needs a transforms array, got ${JSON.stringify(spec.transforms)}`);
      return compose(spec.transforms.map(fromSpec));
    default:
      return fail('fromSpec', `unknown transform kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}

/**
 * Per-channel mean and population standard deviation over every pixel of every image in `dataset`
 * (float64 accumulation), after `transform` if given (e.g. toFloat(); applied with a fixed generator,
 * so use a deterministic one). Returns arrays of length C, ready for normalize(mean, std).
 */
export function computeMeanStd(dataset: Dataset<LabeledImage>, transform?: Transform): { mean: number[]; std: number[] } {
  if (dataset.length === 0) fail('computeMeanStd', 'dataset is empty');
  let sum: Float64Array | undefined, sumSq: Float64Array | undefined;
  let count = 0;
  for (let n = 0; n < dataset.length; n++) {
    let image = toImage(dataset.get(n).image);
    if (transform) image = transform.apply(image, new Random(0));
    const plane = image.height * image.width;
    sum ??= new Float64Array(image.channels);
    sumSq ??= new Float64Array(image.channels);
    if (image.channels !== sum.length) fail('computeMeanStd', `sample ${n} has ${image.channels} channels, sample 0 has ${sum.length}`);
    for (let c = 0; c < image.channels; c++) {
      let s = 0, s2 = 0;
      for (let i = c * plane; i < (c + 1) * plane; i++) {
        const v = image.data[i]!;
        s += v;
        s2 += v * v;
      }
      sum[c]! += s;
      sumSq[c]! += s2;
    }
    count += plane;
  }
  const mean = Array.from(sum!, (s) => s / count);
  const std = Array.from(sumSq!, (s2, c) => Math.sqrt(Math.max(0, s2 / count - mean[c]! ** 2)));
  return { mean, std };
}

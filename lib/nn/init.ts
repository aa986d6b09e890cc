/**
 * Parameter initialization, as torch.nn.init. Every function fills its tensor in place without
 * recording autograd, draws from the global generator (so manualSeed makes it reproducible) and
 * returns the tensor.
 *
 * Fans follow PyTorch: for a weight of shape (out, in, *kernel), fanIn = in · prod(kernel) and
 * fanOut = out · prod(kernel); a 1-D tensor has no fans.
 */
import type { Tensor } from '../tensor.js';
import { fromArray, rand, randn } from '../creation.js';
import { noGrad } from '../autograd/mode.js';
import { isFloatDType } from '../dtype.js';

/** Nonlinearities known to calculateGain; snake_case (PyTorch) and camelCase spellings are both accepted. */
export type Nonlinearity =
  | 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'conv_transpose1d' | 'conv_transpose2d' | 'conv_transpose3d'
  | 'convTranspose1d' | 'convTranspose2d' | 'convTranspose3d'
  | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'leakyRelu' | 'selu';

/** Which fan kaiming init preserves: the forward pass's variance (fanIn) or the backward pass's (fanOut). */
export type FanMode = 'fanIn' | 'fanOut';

function checkFloat(op: string, t: Tensor): void {
  if (!isFloatDType(t.dtype)) throw new TypeError(`${op}: tensor must be float32 or float64, got ${t.dtype}`);
}

/** Copies `values` (same shape) into t without recording. */
function assign(t: Tensor, values: Tensor): Tensor {
  noGrad(() => t.copy_(values));
  return t;
}

/**
 * The recommended gain for a nonlinearity: linear/conv/sigmoid 1, tanh 5/3, relu √2,
 * leaky_relu √(2 / (1 + slope²)) (slope `param`, default 0.01), selu 3/4.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear': case 'conv1d': case 'conv2d': case 'conv3d': case 'conv_transpose1d': case 'conv_transpose2d':
    case 'conv_transpose3d': case 'convTranspose1d': case 'convTranspose2d': case 'convTranspose3d': case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': case 'leakyRelu': {
      const slope = param ?? 0.01;
      if (!Number.isFinite(slope)) throw new RangeError(`calculateGain: negative slope must be a finite number, got ${slope}`);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new RangeError(`calculateGain: unsupported nonlinearity '${String(nonlinearity)}'`);
  }
}

/** fanIn and fanOut of a weight of shape (out, in, *kernel); needs at least 2 dims. */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) {
    throw new RangeError(`calculateFanInAndFanOut: fan in and fan out need a tensor with at least 2 dims, got shape [${t.shape.join(', ')}]`);
  }
  const receptive = t.shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: t.shape[1]! * receptive, fanOut: t.shape[0]! * receptive };
}

/** Fills t with U(a, b). */
export function uniform_(t: Tensor, a = 0, b = 1): Tensor {
  checkFloat('uniform_', t);
  if (!(a <= b)) throw new RangeError(`uniform_: need a <= b, got a = ${a}, b = ${b}`);
  return assign(t, rand(t.shape, { dtype: t.dtype, low: a, high: b }));
}

/** Fills t with N(mean, std²). */
export function normal_(t: Tensor, mean = 0, std = 1): Tensor {
  checkFloat('normal_', t);
  if (!(std >= 0)) throw new RangeError(`normal_: std must be non-negative, got ${std}`);
  return assign(t, randn(t.shape, { dtype: t.dtype, mean, std }));
}

/** Fills t with `value`. */
export function constant_(t: Tensor, value: number): Tensor {
  noGrad(() => t.fill_(value));
  return t;
}

export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Xavier/Glorot uniform: U(−a, a) with a = gain · √(6 / (fanIn + fanOut)). */
export function xavierUniform_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -bound, bound);
}

/** Xavier/Glorot normal: N(0, std²) with std = gain · √(2 / (fanIn + fanOut)). */
export function xavierNormal_(t: Tensor, gain = 1): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

/** Options of the kaiming initializers. */
export interface KaimingOptions {
  /** Negative slope of the rectifier after this layer (leaky_relu only); default 0. */
  a?: number;
  /** Default 'fanIn'. */
  mode?: FanMode;
  /** Default 'leaky_relu' (with slope `a`), as PyTorch. */
  nonlinearity?: Nonlinearity;
}

function kaimingStd(op: string, t: Tensor, options: KaimingOptions): number {
  const { a = 0, mode = 'fanIn', nonlinearity = 'leaky_relu' } = options;
  if (mode !== 'fanIn' && mode !== 'fanOut') throw new RangeError(`${op}: mode must be 'fanIn' or 'fanOut', got '${String(mode)}'`);
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const fan = mode === 'fanIn' ? fanIn : fanOut;
  if (fan === 0) throw new RangeError(`${op}: cannot initialize a tensor with zero ${mode}, shape [${t.shape.join(', ')}]`);
  return calculateGain(nonlinearity, a) / Math.sqrt(fan);
}

/** Kaiming/He uniform: U(−b, b) with b = gain · √(3 / fan). */
export function kaimingUniform_(t: Tensor, options: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd('kaimingUniform_', t, options);
  return uniform_(t, -bound, bound);
}

/** Kaiming/He normal: N(0, std²) with std = gain / √fan. */
export function kaimingNormal_(t: Tensor, options: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd('kaimingNormal_', t, options));
}

/**
 * A (semi-)orthogonal matrix times `gain`, over t viewed as (shape[0], rest): QR (Householder, float64)
 * of a standard normal draw, with the signs of R's diagonal folded into Q so that the result is
 * uniformly distributed (Mezzadri), as PyTorch.
 */
export function orthogonal_(t: Tensor, gain = 1): Tensor {
  checkFloat('orthogonal_', t);
  if (t.ndim < 2) throw new RangeError(`orthogonal_: tensor must have at least 2 dims, got shape [${t.shape.join(', ')}]`);
  const rows = t.shape[0]!, cols = t.numel / rows;
  if (t.numel === 0) return t;
  const flat = randn([rows, cols], { dtype: 'float64' }).dataSync() as Float64Array;
  // Work on the tall orientation m × n (m >= n), column-major in `a`.
  const tall = rows >= cols;
  const m = tall ? rows : cols, n = tall ? cols : rows;
  const a = new Float64Array(m * n);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) {
      const v = flat[i * cols + j]!;
      if (tall) a[j * m + i] = v;
      else a[i * m + j] = v;
    }
  }
  const q = householderQ(a, m, n);
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = gain * (tall ? q[j * m + i]! : q[i * m + j]!);
  }
  return assign(t, fromArray(out, t.shape));
}

/**
 * The thin Q (m × n, column-major) of A = QR for column-major A (m >= n), with each column j
 * multiplied by sign(R[j][j]).
 */
function householderQ(a: Float64Array, m: number, n: number): Float64Array {
  const vs: Float64Array[] = [];
  const rDiagSign = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    const col = k * m;
    let norm = 0;
    for (let i = k; i < m; i++) norm += a[col + i]! * a[col + i]!;
    norm = Math.sqrt(norm);
    const alpha = a[col + k]! >= 0 ? -norm : norm;
    const v = new Float64Array(m);
    for (let i = k; i < m; i++) v[i] = a[col + i]!;
    v[k]! -= alpha;
    let vnorm = 0;
    for (let i = k; i < m; i++) vnorm += v[i]! * v[i]!;
    if (vnorm > 0) {
      for (let j = k; j < n; j++) {
        const cj = j * m;
        let dot = 0;
        for (let i = k; i < m; i++) dot += v[i]! * a[cj + i]!;
        const f = (2 * dot) / vnorm;
        for (let i = k; i < m; i++) a[cj + i]! -= f * v[i]!;
      }
    }
    rDiagSign[k] = a[col + k]! < 0 ? -1 : 1;
    vs.push(v);
  }
  // Q = H_0 H_1 ... H_{n-1} applied to the first n columns of the identity.
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * m + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k]!;
    let vnorm = 0;
    for (let i = k; i < m; i++) vnorm += v[i]! * v[i]!;
    if (vnorm === 0) continue;
    for (let j = 0; j < n; j++) {
      const cj = j * m;
      let dot = 0;
      for (let i = k; i < m; i++) dot += v[i]! * q[cj + i]!;
      const f = (2 * dot) / vnorm;
      for (let i = k; i < m; i++) q[cj + i]! -= f * v[i]!;
    }
  }
  for (let j = 0; j < n; j++) {
    if (rDiagSign[j] === -1) for (let i = 0; i < m; i++) q[j * m + i] = -q[j * m + i]!;
  }
  return q;
}

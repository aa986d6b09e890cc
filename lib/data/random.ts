/**
 * Counter-based random numbers for the data pipeline: Philox4x32-10 (Salmon et al., "Parallel random
 * numbers: as easy as 1, 2, 3", SC 2011). A draw is a pure function of (seed, stream, counter), so the
 * augmentation of sample i in epoch e depends only on (seed, e, i) — whichever worker computes it —
 * and the epoch shuffle only on (seed, e). No generator here touches global state.
 *
 * Counter layout: word 0 counts 4-word blocks within a stream; words 1..3 name the stream.
 * Key: the seed's low and high 32 bits.
 */

const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;
const TWO_POW_32 = 4294967296;

/** Stream tags (counter word 1) that keep the pipeline's uses of one seed independent. */
export const STREAM_SAMPLE = 1;
export const STREAM_SHUFFLE = 2;
export const STREAM_SPLIT = 3;

/** High 32 bits of the 64-bit product of two uint32 values, without BigInt. */
function mulHi32(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16, bl = b & 0xffff, bh = b >>> 16;
  const lh = al * bh, hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * Philox4x32-10 block function: counter [4] uint32 and key [2] uint32 → 4 uint32 written to `out`.
 * Matches the Random123 known-answer vectors.
 */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, out: Uint32Array): Uint32Array {
  let c0 = counter[0]! >>> 0, c1 = counter[1]! >>> 0, c2 = counter[2]! >>> 0, c3 = counter[3]! >>> 0;
  let k0 = key[0]! >>> 0, k1 = key[1]! >>> 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
    const hi0 = mulHi32(PHILOX_M0, c0), lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
    const hi1 = mulHi32(PHILOX_M1, c2), lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

function checkUint32(what: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value >= TWO_POW_32) {
    throw new RangeError(`Random: ${what} must be an integer in [0, 2^32), got ${value}`);
  }
  return value;
}

/**
 * A seekable stream of random numbers: the n-th draw of stream (a, b, c) under `seed` is always the
 * same number. Construct one per (purpose, epoch, sample) rather than sharing one across samples.
 */
export class Random {
  private readonly key: [number, number];
  private readonly counter = new Uint32Array(4);
  private readonly block = new Uint32Array(4);
  private used = 4;
  private spareNormal: number | undefined;

  /**
   * @param seed non-negative safe integer (all 53 bits are used)
   * @param stream up to three uint32 words naming an independent stream, e.g. [STREAM_SAMPLE, epoch, index]
   */
  constructor(seed: number, stream: readonly number[] = []) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(`Random: seed must be a non-negative safe integer, got ${seed}`);
    }
    if (stream.length > 3) throw new RangeError(`Random: stream has at most 3 words, got ${stream.length}`);
    this.key = [seed >>> 0, Math.floor(seed / TWO_POW_32) >>> 0];
    stream.forEach((word, i) => (this.counter[i + 1] = checkUint32(`stream[${i}]`, word)));
  }

  /** The generator that augments sample `index` in epoch `epoch`. */
  static forSample(seed: number, epoch: number, index: number): Random {
    return new Random(seed, [STREAM_SAMPLE, epoch, index]);
  }

  /** Next uniform uint32 in [0, 2^32). */
  nextUint32(): number {
    if (this.used === 4) {
      philox4x32(this.counter, this.key, this.block);
      // Four billion blocks per stream; wrapping would silently repeat the stream.
      if (this.counter[0] === 0xffffffff) throw new RangeError('Random: stream exhausted (2^34 draws)');
      this.counter[0] += 1;
      this.used = 0;
    }
    return this.block[this.used++]!;
  }

  /** Uniform double in [lo, hi), with 53 random bits. */
  uniform(lo = 0, hi = 1): number {
    const high = this.nextUint32() >>> 5, low = this.nextUint32() >>> 6;
    return lo + (hi - lo) * ((high * 67108864 + low) / 9007199254740992);
  }

  /** Normal deviate with the given mean and standard deviation (Box–Muller, both halves used). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== undefined) {
      const z = this.spareNormal;
      this.spareNormal = undefined;
      return mean + std * z;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.spareNormal = radius * Math.sin(angle);
    return mean + std * radius * Math.cos(angle);
  }

  /** Uniform integer in [lo, hi] (both inclusive), unbiased; hi - lo must be below 2^32. */
  int(lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo || hi - lo >= TWO_POW_32) {
      throw new RangeError(`Random.int: need integers lo <= hi with hi - lo < 2^32, got [${lo}, ${hi}]`);
    }
    const range = hi - lo + 1;
    // Reject the top partial copy of [0, range) so every value is equally likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % range);
    let draw = this.nextUint32();
    while (draw >= limit) draw = this.nextUint32();
    return lo + (draw % range);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates), shape [n]. */
  permutation(n: number): Int32Array {
    if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
      throw new RangeError(`Random.permutation: n must be an integer in [0, 2^31), got ${n}`);
    }
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(0, i);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}

/** The sample order of epoch `epoch`: a permutation of 0..n-1 that depends only on (seed, epoch, n). */
export function epochPermutation(seed: number, epoch: number, n: number): Int32Array {
  return new Random(seed, [STREAM_SHUFFLE, epoch]).permutation(n);
}

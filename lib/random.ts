/**
 * The global counter-based generator (Philox4x32-10, shared with the native kernels). A random op
 * takes the current (seed, offset) and advances the offset past the counters it used, so after
 * manualSeed(n) every random op — creation, dropout, augmentation — is reproducible.
 */

let seed = (Date.now() ^ (Math.random() * 2 ** 31)) >>> 0;
let offset = 0;

/** Seeds every random op; integers in [0, 2^53). */
export function manualSeed(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`manualSeed: seed must be a non-negative safe integer, got ${n}`);
  seed = n;
  offset = 0;
}

export function initialSeed(): number {
  return seed;
}

/** Reserves counters for `n` elements (two per counter) and returns the stream to use. */
export function nextStream(n: number): { seed: number; offset: number } {
  const stream = { seed, offset };
  offset += Math.ceil(n / 2) + 1;
  return stream;
}

export interface GeneratorState {
  seed: number;
  offset: number;
}

export function getRngState(): GeneratorState {
  return { seed, offset };
}

export function setRngState(state: GeneratorState): void {
  seed = state.seed;
  offset = state.offset;
}

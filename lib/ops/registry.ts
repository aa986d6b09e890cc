/**
 * The op table: every differentiable primitive registers its name here, and the test suite requires
 * samples and error cases for each registered name, so an op cannot be added untested.
 */

export interface OpInfo {
  name: string;
  /** false for ops whose output never carries a gradient (comparisons, argmax, ...) */
  differentiable: boolean;
}

export const opTable = new Map<string, OpInfo>();

/** Registers `fn` as op `name` and returns it unchanged. */
export function defineOp<F extends (...args: never[]) => unknown>(name: string, fn: F, differentiable = true): F {
  if (opTable.has(name)) throw new Error(`defineOp: op '${name}' is defined twice`);
  opTable.set(name, { name, differentiable });
  return fn;
}

/** Dimension arguments, shared by the shape, reduction and indexing ops. */

/** dim in [-n, n) (n = ndim, or ndim + 1 when `inclusive`: a position to insert at) as an index in [0, n). */
export function normalizeDim(dim: number, ndim: number, op: string, inclusive = false): number {
  const n = inclusive ? ndim + 1 : ndim;
  if (!Number.isInteger(dim) || dim < -Math.max(n, 1) || dim >= Math.max(n, 1)) {
    throw new RangeError(`${op}: dim must be an integer in [${-Math.max(n, 1)}, ${Math.max(n, 1) - 1}], got ${dim}`);
  }
  return dim < 0 ? dim + n : dim;
}

/** Dimension arguments, shared by the shape, reduction and indexing ops. */

/** dim in [-n, n) (n = ndim, or ndim + 1 when `inclusive`: a position to insert at) as an index in [0, n). */
export function normalizeDim(dim: number, ndim: number, op: string, inclusive = false): number {
  const n = inclusive ? ndim + 1 : ndim;
  if (!Number.isInteger(dim) || dim < -Math.max(n, 1) || dim >= Math.max(n, 1)) {
    throw new RangeError(`${op}: dim must be an integer in [${-Math.max(n, 1)}, ${Math.max(n, 1) - 1}], got ${dim}`);
  }
  // a 0-d tensor takes dim 0 or -1 (as PyTorch), both meaning 0
  return dim < 0 ? dim + Math.max(n, 1) : dim;
}

/** As normalizeDim, for ops that index along the dim (select, slice, split...): a 0-d tensor has none. */
export function indexedDim(dim: number, shape: readonly number[], op: string): number {
  if (shape.length === 0) throw new RangeError(`${op}: a 0-d tensor has no dim to index (dim ${dim}); reshape it to [1] first`);
  return normalizeDim(dim, shape.length, op);
}

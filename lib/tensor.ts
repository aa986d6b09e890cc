/**
 * Tensor: an n-d strided view over a storage (lib/storage.ts: a JS typed array on cpu, a device handle
 * on cuda). Views share storage; every in-place write bumps the storage's version so that backward can
 * detect a tensor it saved being modified. The methods reach the ops through the registry in
 * tensor_ops.ts, so that this module imports no op (the ops import it).
 */
import { DType, TypedArray, asTensorArray, isFloatDType } from './dtype.js';
import { asOp, checkShape, describe, publicApi } from './checks.js';
import type { Node } from './autograd/node.js';
import { CpuStorage, type Device, type DeviceSpec, type Storage, deviceName } from './storage.js';
import { tensorOps } from './tensor_ops.js';

export { CpuStorage, CudaStorage, nextStorageSerial } from './storage.js';
export type { Device, DeviceSpec, Storage } from './storage.js';

export type GradHook = (grad: Tensor) => Tensor | void;
export type Scalar = number;
export type TensorLike = Tensor | number;

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export class Tensor {
  readonly storage: Storage;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly dtype: DType;
  /** Accumulated gradient (leaves, and non-leaves after retainGrad()). */
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor; null for leaves. */
  gradFn: Node | null = null;
  /** Hooks run on this leaf's gradient during backward (a non-leaf keeps them on its gradFn). */
  readonly hooks: GradHook[] = [];
  #requiresGrad = false;
  /** The op that made this tensor, kept by dispose() (which drops gradFn) for backward's error. */
  #disposedOutputOf: string | null = null;

  constructor(storage: Storage, shape: readonly number[], strides: readonly number[], offset: number, dtype: DType) {
    this.storage = storage;
    this.shape = shape;
    this.strides = strides;
    this.offset = offset;
    this.dtype = dtype;
  }

  /**
   * Wraps a typed array (without copying when it is a storage kind: see asTensorArray for the others);
   * shape defaults to 1-D. `op` names the caller in errors.
   */
  static fromArray(data: TypedArray, shape?: readonly number[], op = 'tensor'): Tensor {
    const array = asTensorArray(data, op);
    shape ??= [array.length];
    const n = checkShape(shape, op);
    if (n !== array.length) {
      throw new RangeError(`${op}: shape [${shape.join(', ')}] needs ${n} elements, got an array of ${array.length}`);
    }
    const storage = new CpuStorage(array);
    return new Tensor(storage, [...shape], contiguousStrides(shape), 0, storage.dtype);
  }

  /** 'cpu' or 'cuda'. */
  get device(): Device {
    return this.storage.device;
  }
  /** The device's index: N of 'cuda:N' (0 on cpu). */
  get deviceIndex(): number {
    return this.storage.deviceIndex;
  }
  /** 'cpu' or 'cuda:N'. */
  get deviceName(): DeviceSpec {
    return deviceName({ type: this.storage.device, index: this.storage.deviceIndex });
  }
  get ndim(): number {
    return this.shape.length;
  }
  get numel(): number {
    let n = 1;
    for (const d of this.shape) n *= d;
    return n;
  }
  get isLeaf(): boolean {
    return this.gradFn === null;
  }
  get requiresGrad(): boolean {
    return this.#requiresGrad;
  }
  set requiresGrad(value: boolean) {
    if (value && !isFloatDType(this.dtype)) {
      throw new TypeError(`requiresGrad: only float tensors can require gradients, got ${this.dtype}`);
    }
    if (!value && !this.isLeaf) {
      throw new Error('requiresGrad: cannot turn off gradients of a non-leaf tensor; use detach()');
    }
    this.#requiresGrad = value;
  }
  /** Sets requiresGrad in place and returns this (PyTorch's requires_grad_). */
  requiresGrad_(value = true): this {
    this.requiresGrad = value;
    return this;
  }
  /** Keeps .grad of a non-leaf tensor after backward (a leaf always keeps it). */
  retainGrad(): this {
    if (this.gradFn) this.gradFn.retained = this;
    return this;
  }
  get retainsGrad(): boolean {
    return this.gradFn ? this.gradFn.retained === this : this.requiresGrad;
  }
  /** Registers a hook called with this tensor's gradient; it may return a replacement. */
  registerHook(hook: GradHook): () => void {
    const hooks = this.gradFn ? this.gradFn.hooks : this.hooks;
    hooks.push(hook);
    return () => {
      const i = hooks.indexOf(hook);
      if (i >= 0) hooks.splice(i, 1);
    };
  }

  isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== expected) return false;
      expected *= this.shape[i]!;
    }
    return true;
  }

  /** The whole storage array (shared); throws after dispose(), and on cuda (use dataSync() or cpu()). */
  get buffer(): TypedArray {
    const storage = this.storage;
    if (storage.device !== 'cpu') {
      throw new Error(`buffer: a tensor on ${this.deviceName} has no host array; use dataSync(), await data() or cpu()`);
    }
    return storage.data;
  }

  /**
   * The elements in row-major order as a typed array. On cpu zero-copy when the tensor is contiguous and
   * spans its whole storage (the array is then shared: writes show up in the tensor), a copy otherwise;
   * on cuda always a copy, downloaded after the device's queued work finishes.
   */
  dataSync(): TypedArray {
    return tensorOps().kernels.hostData(this);
  }

  /** As dataSync(); on cuda the download does not block the event loop. */
  async data(): Promise<TypedArray> {
    return tensorOps().kernels.hostDataAsync(this);
  }

  /** Nested JS arrays (a number for a 0-d tensor). */
  toArray(): NestedArray {
    const flat = Array.from(this.dataSync() as ArrayLike<number>);
    const build = (dim: number, start: number): NestedArray => {
      if (dim === this.ndim) return flat[start]!;
      const stride = this.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, start + i * stride));
    };
    return build(0, 0);
  }

  /** The value of a one-element tensor (on cuda, after the device's queued work finishes). */
  item(): number {
    if (this.numel !== 1) throw new RangeError(`item: tensor must have exactly one element, got shape [${this.shape.join(', ')}]`);
    return tensorOps().kernels.hostData(this)[0]!;
  }

  /** Releases the storage now instead of waiting for the garbage collector. Idempotent. */
  dispose(): void {
    this.storage.dispose();
    this.grad = null;
    if (this.gradFn) this.#disposedOutputOf = this.gradFn.name;
    this.gradFn = null;
  }
  get isDisposed(): boolean {
    return this.storage.disposed;
  }
  /** What this tensor is, for errors about it: "the output of 'relu'" or "a leaf tensor of shape [2, 3]". */
  describe(): string {
    const op = this.gradFn?.name ?? this.#disposedOutputOf;
    return op !== null ? `the output of '${op}'` : `a leaf tensor of shape [${this.shape.join(', ')}]`;
  }

  /** Computes gradients of this tensor w.r.t. the leaves that require them, accumulating into .grad. */
  backward(grad?: Tensor, options: { retainGraph?: boolean } = {}): void {
    if (options === null || typeof options !== 'object') throw new TypeError(`backward: options must be an object, got ${describe(options)}`);
    tensorOps().backward([this], grad === undefined || grad === null ? undefined : [grad], options.retainGraph ?? false);
  }

  toString(): string {
    return tensorOps().formatTensor(this);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // --- conversions -------------------------------------------------------------------------------
  /** A tensor sharing storage, cut from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.strides, this.offset, this.dtype);
  }
  clone(): Tensor { return S().clone(this); }
  contiguous(): Tensor { return S().contiguous(this); }
  /** A copy in another dtype or on another device ('cpu', 'cuda', 'cuda:N'); this itself when nothing changes. */
  to(target: DType | DeviceSpec): Tensor { return S().to(this, target); }
  float(): Tensor { return S().to(this, 'float32'); }
  double(): Tensor { return S().to(this, 'float64'); }
  int(): Tensor { return S().to(this, 'int32'); }
  bool(): Tensor { return S().to(this, 'bool'); }
  cpu(): Tensor { return S().to(this, 'cpu'); }
  /** On cuda:index (default 0). */
  cuda(index = 0): Tensor { return S().to(this, `cuda:${index}`); }

  // --- views and movement ------------------------------------------------------------------------
  reshape(...shape: ShapeArg): Tensor { return S().reshape(this, flatShape(shape)); }
  view(...shape: ShapeArg): Tensor { return S().view(this, flatShape(shape)); }
  flatten(startDim = 0, endDim = -1): Tensor { return S().flatten(this, startDim, endDim); }
  squeeze(dim?: number): Tensor { return S().squeeze(this, dim); }
  unsqueeze(dim: number): Tensor { return S().unsqueeze(this, dim); }
  permute(...dims: ShapeArg): Tensor { return S().permute(this, flatShape(dims)); }
  transpose(dim0: number, dim1: number): Tensor { return S().transpose(this, dim0, dim1); }
  t(): Tensor { return S().t(this); }
  get T(): Tensor { return S().permute(this, this.shape.map((_, i) => this.ndim - 1 - i)); }
  expand(...shape: ShapeArg): Tensor { return S().expand(this, flatShape(shape)); }
  broadcastTo(shape: readonly number[]): Tensor { return asOp('broadcastTo', 'expand', () => S().expand(this, shape)); }
  expandAs(other: Tensor): Tensor { return asOp('expandAs', 'expand', () => S().expand(this, other.shape)); }
  narrow(dim: number, start: number, length: number): Tensor { return S().narrow(this, dim, start, length); }
  slice(dim: number, start?: number, end?: number, step = 1): Tensor { return S().slice(this, dim, start, end, step); }
  select(dim: number, index: number): Tensor { return S().select(this, dim, index); }
  split(sizeOrSections: number | number[], dim = 0): Tensor[] { return S().split(this, sizeOrSections, dim); }
  chunk(chunks: number, dim = 0): Tensor[] { return S().chunk(this, chunks, dim); }
  unbind(dim = 0): Tensor[] { return S().unbind(this, dim); }
  flip(dims: number | number[]): Tensor { return S().flip(this, dims); }
  pad(padding: number[], value = 0): Tensor { return S().pad(this, padding, value); }

  // --- elementwise -------------------------------------------------------------------------------
  add(other: TensorLike, alpha = 1): Tensor { return E().add(this, other, alpha); }
  sub(other: TensorLike, alpha = 1): Tensor { return E().sub(this, other, alpha); }
  mul(other: TensorLike): Tensor { return E().mul(this, other); }
  div(other: TensorLike): Tensor { return E().div(this, other); }
  pow(exponent: TensorLike): Tensor { return E().pow(this, exponent); }
  maximum(other: TensorLike): Tensor { return E().maximum(this, other); }
  minimum(other: TensorLike): Tensor { return E().minimum(this, other); }
  neg(): Tensor { return E().neg(this); }
  abs(): Tensor { return E().abs(this); }
  sign(): Tensor { return E().sign(this); }
  exp(): Tensor { return E().exp(this); }
  log(): Tensor { return E().log(this); }
  log1p(): Tensor { return E().log1p(this); }
  sqrt(): Tensor { return E().sqrt(this); }
  rsqrt(): Tensor { return E().rsqrt(this); }
  square(): Tensor { return E().square(this); }
  reciprocal(): Tensor { return E().reciprocal(this); }
  sin(): Tensor { return E().sin(this); }
  cos(): Tensor { return E().cos(this); }
  tanh(): Tensor { return E().tanh(this); }
  sigmoid(): Tensor { return E().sigmoid(this); }
  relu(): Tensor { return E().relu(this); }
  leakyRelu(negativeSlope = 0.01): Tensor { return E().leakyRelu(this, negativeSlope); }
  elu(alpha = 1): Tensor { return E().elu(this, alpha); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return E().gelu(this, approximate); }
  softplus(beta = 1, threshold = 20): Tensor { return E().softplus(this, beta, threshold); }
  clamp(min?: number, max?: number): Tensor { return E().clamp(this, min, max); }
  eq(other: TensorLike): Tensor { return E().eq(this, other); }
  ne(other: TensorLike): Tensor { return E().ne(this, other); }
  lt(other: TensorLike): Tensor { return E().lt(this, other); }
  le(other: TensorLike): Tensor { return E().le(this, other); }
  gt(other: TensorLike): Tensor { return E().gt(this, other); }
  ge(other: TensorLike): Tensor { return E().ge(this, other); }
  maskedFill(mask: Tensor, value: number): Tensor { return E().maskedFill(this, mask, value); }

  // in place (not recorded by autograd; bump the version counter)
  add_(other: TensorLike, alpha = 1): this { return E().computeInPlace(this, 'add_', () => E().add(this, other, alpha)); }
  sub_(other: TensorLike, alpha = 1): this { return E().computeInPlace(this, 'sub_', () => E().sub(this, other, alpha)); }
  mul_(other: TensorLike): this { return E().computeInPlace(this, 'mul_', () => E().mul(this, other)); }
  div_(other: TensorLike): this { return E().computeInPlace(this, 'div_', () => E().div(this, other)); }
  clamp_(min?: number, max?: number): this { return E().computeInPlace(this, 'clamp_', () => E().clamp(this, min, max)); }
  relu_(): this { return E().computeInPlace(this, 'relu_', () => E().relu(this)); }
  fill_(value: number): this { return E().fill_(this, value); }
  zero_(): this { return E().fill_(this, 0); }
  copy_(src: Tensor): this { return E().copy_(this, src); }

  // --- reductions --------------------------------------------------------------------------------
  sum(dim?: DimArg, keepdim = false): Tensor { return R().sum(this, dim, keepdim); }
  mean(dim?: DimArg, keepdim = false): Tensor { return R().mean(this, dim, keepdim); }
  prod(dim?: DimArg, keepdim = false): Tensor { return R().prod(this, dim, keepdim); }
  var(dim?: DimArg, options: { correction?: number; keepdim?: boolean } = {}): Tensor { return R().variance(this, dim, options); }
  std(dim?: DimArg, options: { correction?: number; keepdim?: boolean } = {}): Tensor { return R().std(this, dim, options); }
  max(): Tensor;
  max(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  max(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? R().maxAll(this) : R().max(this, dim, keepdim);
  }
  min(): Tensor;
  min(dim: number, keepdim?: boolean): { values: Tensor; indices: Tensor };
  min(dim?: number, keepdim = false): Tensor | { values: Tensor; indices: Tensor } {
    return dim === undefined ? R().minAll(this) : R().min(this, dim, keepdim);
  }
  argmax(dim?: number, keepdim = false): Tensor { return R().argmax(this, dim, keepdim); }
  argmin(dim?: number, keepdim = false): Tensor { return R().argmin(this, dim, keepdim); }
  logsumexp(dim: DimArg, keepdim = false): Tensor { return R().logsumexp(this, dim, keepdim); }
  norm(p = 2, dim?: DimArg, keepdim = false): Tensor { return R().norm(this, p, dim, keepdim); }
  softmax(dim: number): Tensor { return R().softmax(this, dim); }
  logSoftmax(dim: number): Tensor { return R().logSoftmax(this, dim); }

  // --- linear algebra and indexing ---------------------------------------------------------------
  matmul(other: Tensor): Tensor { return L().matmul(this, other); }
  mm(other: Tensor): Tensor { return L().matmul(this, other); }
  bmm(other: Tensor): Tensor { return L().bmm(this, other); }
  indexSelect(dim: number, index: Tensor): Tensor { return I().indexSelect(this, dim, index); }
  gather(dim: number, index: Tensor): Tensor { return I().gather(this, dim, index); }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return I().scatterAdd(this, dim, index, src); }
}

/**
 * Tensor methods are public entry points (checks.ts publicApi), except those that run user callbacks
 * (backward runs hooks; registerHook stores one) and dispose, which takes nothing.
 */
const callsUserCode = new Set(['constructor', 'backward', 'registerHook', 'dispose']);
for (const name of Object.getOwnPropertyNames(Tensor.prototype)) {
  const d = Object.getOwnPropertyDescriptor(Tensor.prototype, name)!;
  if (typeof d.value === 'function' && !callsUserCode.has(name)) {
    Object.defineProperty(Tensor.prototype, name, { ...d, value: publicApi(name, d.value) });
  }
}

export type NestedArray = number | NestedArray[];
export type ShapeArg = number[] | [readonly number[]];
export type DimArg = number | number[];

const S = () => tensorOps().shape;
const E = () => tensorOps().elementwise;
const R = () => tensorOps().reduce;
const L = () => tensorOps().linalg;
const I = () => tensorOps().indexing;

function flatShape(args: ShapeArg): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...args[0]] : (args as number[]);
}


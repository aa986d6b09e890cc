/**
 * Module: the base of every layer and model. A module owns parameters (trainable tensors), buffers
 * (state such as running statistics, saved but not trained) and submodules, each under a field name,
 * and walks them in registration order, so `stateDict()` keys and `parameters()` order are PyTorch's
 * (`features.0.weight`, `bn.running_mean`, ...).
 *
 * Registration is explicit for parameters and buffers that may be null (`registerParameter`,
 * `registerBuffer`), and automatic for fields holding a `Parameter` or a `Module`: such fields are
 * picked up, in declaration order, the first time the module is walked, as PyTorch's __setattr__ does.
 */
import { Tensor } from '../tensor.js';
import { type DeviceSpec, isDeviceSpec } from '../storage.js';
import type { DType } from '../dtype.js';
import { isFloatDType } from '../dtype.js';
import { noGrad } from '../autograd/mode.js';

/** A trainable tensor: a leaf that requires grad and that a module registers as a parameter. */
export class Parameter extends Tensor {
  /** Shares `data`'s storage (no copy) and cuts it from any graph. */
  constructor(data: Tensor, requiresGrad = true) {
    super(data.storage, data.shape, data.strides, data.offset, data.dtype);
    this.requiresGrad = requiresGrad;
  }
}

/** Tensors by dotted name, in PyTorch's order: each module's parameters, then its buffers, then its children. */
export type StateDict = Record<string, Tensor>;

/** What `loadStateDict` did not match. */
export interface LoadResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Called before forward with the inputs; may return replacement inputs. */
export type ForwardPreHook = (module: Module<any, any>, args: unknown[]) => unknown[] | void;
/** Called after forward with inputs and output; may return a replacement output. */
export type ForwardHook = (module: Module<any, any>, args: unknown[], output: unknown) => unknown;

/** Removes a registered hook. */
export interface HookHandle {
  remove(): void;
}

type Kind = 'parameter' | 'buffer' | 'module';

interface Entry {
  kind: Kind;
  /** Buffers only: whether stateDict includes it. */
  persistent: boolean;
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/**
 * Makes every module a function, so that `model(x)` works as in PyTorch. The constructor returns an
 * arrow function in place of `this` (JavaScript's return override): the subclass constructors and
 * field initializers, the private fields included, then run on that function, and its prototype is
 * set to the subclass's, so `instanceof`, methods, getters and fields are those of an object. A Proxy
 * would do the same at the price of a trap on every property access; this costs one extra frame per
 * call and nothing per access. The function's own `name` and `length` are deleted because a module
 * is not a named function: they would shadow a subclass's `length` getter (Sequential) or make
 * `this.name = ...` throw.
 */
class CallableObject {
  constructor() {
    const module = (...args: unknown[]): unknown => (module as unknown as Module<unknown[], unknown>).call(...args);
    Reflect.deleteProperty(module, 'name');
    Reflect.deleteProperty(module, 'length');
    Object.setPrototypeOf(module, new.target.prototype);
    return module;
  }
}

/**
 * The call signature of every module: `module(...args)` takes forward's arguments and returns what
 * forward returns. It reads them from `this['forward']`, so a subclass that overrides forward with
 * its own parameters (`forward(a: Tensor, b: Tensor): Tensor`) is called with those, whatever type
 * arguments it gave Module. (A class cannot declare a call signature itself; this interface merges
 * into the class of the same name.)
 */
export interface Module<In extends unknown[] = [Tensor], Out = Tensor> {
  (...args: Parameters<this['forward']>): ReturnType<this['forward']>;
}

/**
 * Base class of layers and models. Subclasses set up their fields in the constructor and implement
 * `forward`; callers call the module, `module(x)` (or `module.call(x)`, the same thing), which runs
 * the forward pre-hooks, forward and the forward hooks.
 *
 * @typeParam In  the argument list of forward
 * @typeParam Out what forward returns
 */
export abstract class Module<In extends unknown[] = [Tensor], Out = Tensor> extends CallableObject {
  /** Whether the module is in training mode (dropout active, batch norm using batch statistics). */
  training = true;
  #entries = new Map<string, Entry>();
  #preHooks: ForwardPreHook[] = [];
  #hooks: ForwardHook[] = [];

  /** The computation; call the module, `module(...)`, so that hooks run. */
  abstract forward(...args: In): Out;

  /** Runs pre-hooks, forward, then hooks: what `module(...args)` does. */
  call(...args: In): Out {
    // without hooks (a training step's usual case) nothing is copied or allocated here
    if (this.#preHooks.length === 0 && this.#hooks.length === 0) return this.forward(...args);
    let input: unknown[] = args;
    for (const hook of [...this.#preHooks]) input = hook(this, input) ?? input;
    let output: unknown = this.forward(...(input as In));
    for (const hook of [...this.#hooks]) output = hook(this, input, output) ?? output;
    return output as Out;
  }

  /** Registers a hook run before every forward; it may return replacement arguments. */
  registerForwardPreHook(hook: ForwardPreHook): HookHandle {
    return addHook(this.#preHooks, hook);
  }

  /** Registers a hook run after every forward; it may return a replacement output. */
  registerForwardHook(hook: ForwardHook): HookHandle {
    return addHook(this.#hooks, hook);
  }

  // --- registration ------------------------------------------------------------------------------

  #field(name: string): unknown {
    return (this as unknown as Record<string, unknown>)[name];
  }

  #setField(name: string, value: unknown): void {
    (this as unknown as Record<string, unknown>)[name] = value;
  }

  #register(name: string, kind: Kind, value: unknown, persistent = true): void {
    if (name === '' || name.includes('.')) throw new Error(`${this.constructor.name}: invalid ${kind} name '${name}' (empty or contains '.')`);
    const existing = this.#sync().get(name);
    if (existing && existing.kind !== kind) {
      throw new Error(`${this.constructor.name}: '${name}' is already registered as a ${existing.kind}`);
    }
    if (!existing && name in this && this.#field(name) !== undefined) {
      throw new Error(`${this.constructor.name}: cannot register ${kind} '${name}': attribute '${name}' already exists`);
    }
    this.#setField(name, value);
    this.#entries.set(name, { kind, persistent });
  }

  /** Registers `value` (wrapped as a Parameter if it is a plain tensor; null for an absent one such as bias=false) as field `name`. */
  registerParameter(name: string, value: Tensor | null): Parameter | null {
    const param = value === null || value instanceof Parameter ? value : new Parameter(value);
    this.#register(name, 'parameter', param);
    return param;
  }

  /**
   * Registers a buffer: state saved with the module (unless `persistent` is false) but not trained.
   * Later assignments to the field keep it a buffer.
   */
  registerBuffer(name: string, value: Tensor | null, persistent = true): Tensor | null {
    this.#register(name, 'buffer', value, persistent);
    return value;
  }

  /** Registers a submodule as field `name`. */
  registerModule<M extends Module<any, any> | null>(name: string, module: M): M {
    this.#register(name, 'module', module);
    return module;
  }

  /** The registry, after picking up fields that hold a Parameter or a Module and are not registered yet. */
  #sync(): Map<string, Entry> {
    // for-in, not Object.entries: no array of pairs per call (a training step walks the tree for its
    // parameters and buffers, and those arrays were half of that walk's time)
    for (const name in this) {
      if (!Object.hasOwn(this, name) || this.#entries.has(name)) continue;
      const value: unknown = this[name];
      if (value instanceof Parameter) this.#entries.set(name, { kind: 'parameter', persistent: true });
      else if (value instanceof Module) this.#entries.set(name, { kind: 'module', persistent: true });
    }
    return this.#entries;
  }

  /**
   * This module's non-null entries of one kind. A walk over namedModules() passes `entries`, the
   * registry that namedModules has just synced, so each module is synced once per walk: a sync visits
   * every field, and modules, being functions, keep their fields in a dictionary, where that visit costs
   * more than on a plain object.
   */
  #own<T>(kind: Kind, persistentOnly = false, entries = this.#sync()): Array<[string, T]> {
    const out: Array<[string, T]> = [];
    for (const [name, entry] of entries) {
      if (entry.kind !== kind || (persistentOnly && !entry.persistent)) continue;
      const value = this.#field(name);
      if (value !== null && value !== undefined) out.push([name, value as T]);
    }
    return out;
  }

  // --- traversal ---------------------------------------------------------------------------------

  /** Direct submodules with their field names. */
  namedChildren(): Array<[string, Module<any, any>]> {
    return this.#own<Module<any, any>>('module');
  }

  children(): Array<Module<any, any>> {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every descendant, depth first, each once, named by dotted path ('' for this one). */
  namedModules(prefix = ''): Array<[string, Module<any, any>]> {
    const seen = new Set<Module<any, any>>();
    const out: Array<[string, Module<any, any>]> = [];
    const visit = (m: Module<any, any>, path: string): void => {
      if (seen.has(m)) return;
      seen.add(m);
      out.push([path, m]);
      for (const [name, child] of m.namedChildren()) visit(child, path ? `${path}.${name}` : name);
    };
    visit(this, prefix);
    return out;
  }

  modules(): Array<Module<any, any>> {
    return this.namedModules().map(([, m]) => m);
  }

  /** Parameters of this module and its descendants by dotted name; a shared parameter appears once. */
  namedParameters(): Array<[string, Parameter]> {
    return this.#namedTensors<Parameter>((m) => m.#own<Parameter>('parameter', false, m.#entries));
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Buffers of this module and its descendants by dotted name. */
  namedBuffers(): Array<[string, Tensor]> {
    return this.#namedTensors<Tensor>((m) => m.#own<Tensor>('buffer', false, m.#entries));
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  #namedTensors<T extends Tensor>(own: (m: Module<any, any>) => Array<[string, T]>): Array<[string, T]> {
    const seen = new Set<T>();
    const out: Array<[string, T]> = [];
    for (const [path, m] of this.namedModules()) {
      for (const [name, t] of own(m)) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([path ? `${path}.${name}` : name, t]);
      }
    }
    return out;
  }

  /** Calls fn on every descendant and then on this module (PyTorch's order); returns this. */
  apply(fn: (module: Module<any, any>) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  // --- modes -------------------------------------------------------------------------------------

  /** Sets training mode on this module and every descendant; returns this. */
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: same as train(false). */
  eval(): this {
    return this.train(false);
  }

  /** Turns gradients of every parameter in this subtree on or off (freezing a part of a model); returns this. */
  requiresGrad(requiresGrad = true): this {
    for (const p of this.parameters()) p.requiresGrad = requiresGrad;
    return this;
  }

  /** Drops every parameter's gradient (sets it to null). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * Converts float parameters and buffers to `dtype` (integer buffers such as num_batches_tracked are
   * kept), or moves every parameter and buffer to a device ('cpu', 'cuda', 'cuda:N'). Parameters that
   * change are replaced by new ones, so build optimizers afterwards. Returns this.
   */
  to(target: DType | DeviceSpec): this {
    const isDevice = isDeviceSpec(target);
    for (const m of this.modules()) {
      for (const [name, entry] of m.#sync()) {
        const value = m.#field(name);
        if (!(value instanceof Tensor) || entry.kind === 'module') continue;
        if (!isDevice && !isFloatDType(value.dtype)) continue;
        const converted = noGrad(() => value.detach().to(target));
        if (converted.storage === value.storage) continue;
        m.#setField(name, entry.kind === 'parameter' ? new Parameter(converted, value.requiresGrad) : converted);
      }
    }
    return this;
  }

  // --- state -------------------------------------------------------------------------------------

  /** Persistent parameters and buffers by dotted name, in PyTorch's order; the tensors share storage with the module. */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [path, m] of this.namedModules()) {
      const prefix = path ? `${path}.` : '';
      for (const [name, p] of m.#own<Parameter>('parameter', false, m.#entries)) out[prefix + name] = p.detach();
      for (const [name, b] of m.#own<Tensor>('buffer', true, m.#entries)) out[prefix + name] = b.detach();
    }
    return out;
  }

  /**
   * Copies tensors from `stateDict` into this module's parameters and buffers (converting dtype).
   * A shape mismatch is always an error. With `strict` (the default), missing and unexpected keys are
   * errors too; otherwise they are returned. The error lists every problem by key, as PyTorch does.
   */
  loadStateDict(stateDict: StateDict, options: { strict?: boolean } = {}): LoadResult {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missingKeys = Object.keys(own).filter((k) => !Object.hasOwn(stateDict, k));
    const unexpectedKeys = Object.keys(stateDict).filter((k) => !Object.hasOwn(own, k));
    const problems: string[] = [];
    if (strict && missingKeys.length > 0) problems.push(`Missing key(s) in state_dict: ${missingKeys.map((k) => `"${k}"`).join(', ')}.`);
    if (strict && unexpectedKeys.length > 0) {
      problems.push(`Unexpected key(s) in state_dict: ${unexpectedKeys.map((k) => `"${k}"`).join(', ')}.`);
    }
    for (const [key, target] of Object.entries(own)) {
      const source = stateDict[key];
      if (source === undefined) continue;
      if (!(source instanceof Tensor)) {
        problems.push(`value for ${key} is not a Tensor (got ${typeof source}).`);
      } else if (source.shape.length !== target.shape.length || source.shape.some((d, i) => d !== target.shape[i])) {
        problems.push(
          `size mismatch for ${key}: copying a param with shape ${shapeText(source.shape)} from checkpoint, ` +
            `the shape in current model is ${shapeText(target.shape)}.`,
        );
      }
    }
    if (problems.length > 0) {
      throw new Error(`Error(s) in loading state_dict for ${this.constructor.name}:\n\t${problems.join('\n\t')}`);
    }
    noGrad(() => {
      for (const [key, target] of Object.entries(own)) {
        const source = stateDict[key];
        if (source !== undefined) target.copy_(source);
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  // --- printing ----------------------------------------------------------------------------------

  /** Configuration shown inside the parentheses of toString(), as PyTorch's extra_repr. */
  extraRepr(): string {
    return '';
  }

  /** Number of parameter elements in this subtree; trainable ones only with `trainableOnly`. */
  countParameters(trainableOnly = false): number {
    return this.parameters().reduce((n, p) => n + (trainableOnly && !p.requiresGrad ? 0 : p.numel), 0);
  }

  /**
   * The module tree as PyTorch prints it, each module with parameters of its own followed by their
   * shapes and count, and a Keras-like total line.
   */
  override toString(): string {
    const total = this.countParameters(), trainable = this.countParameters(true);
    return `${this.#repr()}\nTotal params: ${formatCount(total)} (trainable ${formatCount(trainable)})`;
  }

  #repr(): string {
    const own = this.#own<Parameter>('parameter');
    const paramNote = own.length === 0
      ? ''
      : `  # ${own.map(([n, p]) => `${n} ${shapeText(p.shape)}`).join(', ')}: ${formatCount(own.reduce((s, [, p]) => s + p.numel, 0))} params`;
    const children = this.namedChildren();
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (children.length === 0) return `${head})${paramNote}`;
    const lines = children.map(([name, child]) => `  (${name}): ${child.#repr().split('\n').join('\n  ')}`);
    return `${head}${paramNote}\n${lines.join('\n')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function addHook<H>(list: H[], hook: H): HookHandle {
  list.push(hook);
  return {
    remove: () => {
      const i = list.indexOf(hook);
      if (i >= 0) list.splice(i, 1);
    },
  };
}

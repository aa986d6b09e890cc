/** Containers: Sequential, ModuleList, ModuleDict. Children are registered under their index or key. */
import { describe, itemsOf } from '../../checks.js';
import type { Tensor } from '../../tensor.js';
import { Module } from '../module.js';
import { fail } from './common.js';

type AnyModule = Module<any, any>;

function checkModule(owner: string, value: unknown, what: string): AnyModule {
  if (!(value instanceof Module)) fail(owner, `${what} must be a Module, got ${value === null ? 'null' : typeof value}`);
  return value;
}

function checkIndex(owner: string, index: number, length: number): number {
  if (!Number.isSafeInteger(index) || index < -length || index >= length) {
    throw new RangeError(`${owner}: index ${index} is out of range for ${length} modules`);
  }
  return index < 0 ? index + length : index;
}

/**
 * Runs its children in order, each on the previous one's output: input and output are those of the
 * first and last child. Children are named "0", "1", ... (as in PyTorch's state dict keys) and can be
 * read with `seq.at(i)` or `seq[i]`.
 */
export class Sequential extends Module<[Tensor], Tensor> {
  [index: number]: AnyModule;

  constructor(...modules: AnyModule[]) {
    super();
    modules.forEach((m, i) => this.registerModule(String(i), checkModule('Sequential', m, `argument ${i}`)));
  }

  override get length(): number {
    return this.children().length;
  }

  /** The i-th child; negative i counts from the end. */
  at(index: number): AnyModule {
    return this.children()[checkIndex('Sequential', index, this.length)]!;
  }

  /** Adds a module at the end; returns this. */
  append(module: AnyModule): this {
    this.registerModule(String(this.length), checkModule('Sequential', module, 'module'));
    return this;
  }

  [Symbol.iterator](): Iterator<AnyModule> {
    return this.children()[Symbol.iterator]();
  }

  forward(x: Tensor): Tensor {
    let out: unknown = x;
    for (const m of this.children()) out = m(out);
    return out as Tensor;
  }
}

/** A list of submodules registered as "0", "1", ...; holds them for a parent's forward and is not callable itself. */
export class ModuleList extends Module<[], never> {
  [index: number]: AnyModule;

  constructor(modules: Iterable<AnyModule> = []) {
    super();
    this.extend(itemsOf('ModuleList', modules, 'modules'));
  }

  override get length(): number {
    return this.children().length;
  }

  /** The i-th module; negative i counts from the end. */
  at(index: number): AnyModule {
    return this.children()[checkIndex('ModuleList', index, this.length)]!;
  }

  append(module: AnyModule): this {
    this.registerModule(String(this.length), checkModule('ModuleList', module, 'module'));
    return this;
  }

  extend(modules: Iterable<AnyModule>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  [Symbol.iterator](): Iterator<AnyModule> {
    return this.children()[Symbol.iterator]();
  }

  forward(): never {
    throw new Error('ModuleList: a ModuleList is not callable; call its modules from the parent forward');
  }
}

/** Submodules by name, in insertion order; holds them for a parent's forward and is not callable itself. */
export class ModuleDict extends Module<[], never> {
  constructor(modules: Record<string, AnyModule> | Iterable<[string, AnyModule]> = {}) {
    super();
    if (modules === null || typeof modules !== 'object') throw new TypeError(`ModuleDict: modules must be an object or an iterable of [name, module] pairs, got ${describe(modules)}`);
    const entries = Symbol.iterator in modules ? itemsOf('ModuleDict', modules as Iterable<[string, AnyModule]>, 'modules') : Object.entries(modules);
    entries.forEach((entry, i) => {
      if (!Array.isArray(entry)) throw new TypeError(`ModuleDict: entry ${i} must be a [name, module] pair, got ${describe(entry)}`);
      this.set(entry[0], entry[1]);
    });
  }

  get size(): number {
    return this.children().length;
  }

  /** The module under key, or undefined. */
  get(key: string): AnyModule | undefined {
    return this.namedChildren().find(([k]) => k === key)?.[1];
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Adds or replaces the module under key; the key must not contain '.' nor shadow a Module member. */
  set(key: string, module: AnyModule): this {
    this.registerModule(key, checkModule('ModuleDict', module, `value for '${key}'`));
    return this;
  }

  keys(): string[] {
    return this.namedChildren().map(([k]) => k);
  }

  values(): AnyModule[] {
    return this.children();
  }

  entries(): Array<[string, AnyModule]> {
    return this.namedChildren();
  }

  forward(): never {
    throw new Error('ModuleDict: a ModuleDict is not callable; call its modules from the parent forward');
  }
}

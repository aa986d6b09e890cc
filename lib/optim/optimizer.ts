/**
 * The optimizer base: parameter groups with per-group hyperparameters, lazily created per-parameter
 * state on each parameter's device, and state dicts in PyTorch's structure. A step hands each group's
 * parameters (those with gradients) to the subclass at once, which passes them with their state to one
 * fused kernel call per device and dtype (lib/kernels/optim.ts: on cuda one multi-tensor launch updates
 * the whole group). Hyperparameters are checked by the native validator, the same code the kernels run.
 */
import { Tensor } from '../tensor.js';
import { isFloatDType } from '../dtype.js';
import { enableGrad } from '../autograd/mode.js';
import { full } from '../creation.js';
import { describe, itemsOf } from '../checks.js';
import { type OptimizerRule, validateOptimizerHyper } from '../kernels/optim.js';

/** Hyperparameters every optimizer has. */
export type BaseHyper = { lr: number };

/** A parameter group: its parameters and the hyperparameters that apply to them (a scheduler adds initialLr). */
export type ParamGroup<H extends BaseHyper> = H & { params: Tensor[]; initialLr?: number };

/** A group as passed in: parameters and any hyperparameters that override the optimizer's defaults. */
export type ParamGroupInput<H extends BaseHyper> = Partial<H> & { params: Iterable<Tensor>; initialLr?: number };

/** What optimizers accept: parameters (one group), or a list of groups. */
export type ParamsInput<H extends BaseHyper> = Iterable<Tensor> | Array<ParamGroupInput<H>>;

/** Per-parameter state: tensors of the parameter's shape and dtype, and numbers such as the step count. */
export type ParamState = Record<string, Tensor | number>;

/**
 * PyTorch's optimizer state dict: `state` by parameter index (counting through the groups in order),
 * `param_groups` with snake_case hyperparameter names and `params` as index lists.
 */
export interface OptimizerStateDict {
  state: Record<number, ParamState>;
  param_groups: Array<Record<string, unknown> & { params: number[] }>;
}

/** A deep copy of hyperparameters (numbers, booleans, arrays of them); anything structuredClone cannot copy is refused. */
function plainCopy<T>(owner: string, value: T): T {
  try {
    return structuredClone(value);
  } catch {
    throw new TypeError(`${owner}: hyperparameters must be numbers, booleans or arrays of them, got ${describe(Object.values(value as object))}`);
  }
}

const camelToSnake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const snakeToCamel = (key: string): string => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** A parameter of a group being stepped: its contiguous gradient and its state (created empty on first use). */
export interface GroupItem {
  param: Tensor;
  grad: Tensor;
  state: ParamState;
}

/** Base class of the optimizers; see each subclass for its update rule. */
export abstract class Optimizer<H extends BaseHyper> {
  /** The hyperparameters groups start from. */
  readonly defaults: H;
  readonly paramGroups: Array<ParamGroup<H>> = [];
  /** Per-parameter state, created on the parameter's first update. */
  readonly state = new Map<Tensor, ParamState>();

  protected constructor(
    protected readonly owner: string,
    private readonly rule: OptimizerRule,
    params: ParamsInput<H>,
    defaults: H,
  ) {
    this.checkHyper(defaults);
    this.defaults = defaults;
    const list = itemsOf(owner, params as Iterable<Tensor | ParamGroupInput<H>>, 'params');
    if (list.length === 0) throw new Error(`${owner}: got an empty parameter list`);
    if (list.every((p) => p instanceof Tensor)) this.addParamGroup({ params: list as Tensor[] } as unknown as ParamGroupInput<H>);
    else if (list.every((p) => !(p instanceof Tensor))) for (const g of list as Array<ParamGroupInput<H>>) this.addParamGroup(g);
    else throw new TypeError(`${owner}: params must be all tensors or all parameter groups, not a mix`);
  }

  /** Throws, naming the optimizer, the argument and the value, unless the hyperparameters are valid. */
  protected checkHyper(hyper: H): void {
    validateOptimizerHyper(this.owner, this.rule, hyper);
  }

  /**
   * Updates the group's parameters that have gradients, in place: each contiguous, its gradient contiguous
   * with the parameter's dtype, device and size.
   */
  protected abstract updateGroup(items: GroupItem[], group: ParamGroup<H>): void;

  /** Adds a group; hyperparameters it omits come from the defaults. A parameter may belong to one group only. */
  addParamGroup(group: ParamGroupInput<H>): void {
    if (group === null || typeof group !== 'object' || !group.params || typeof group.params[Symbol.iterator] !== 'function') {
      throw new TypeError(`${this.owner}: a parameter group must be an object with an iterable 'params'`);
    }
    const params = [...group.params];
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new TypeError(`${this.owner}: group parameter ${i} is not a Tensor`);
      if (!isFloatDType(p.dtype)) throw new TypeError(`${this.owner}: can only optimize float tensors, parameter ${i} is ${p.dtype}`);
      if (!p.isLeaf) throw new Error(`${this.owner}: can't optimize a non-leaf tensor (parameter ${i})`);
    });
    if (new Set(params).size !== params.length) throw new Error(`${this.owner}: a parameter group contains the same tensor twice`);
    const existing = new Set(this.paramGroups.flatMap((g) => g.params));
    if (params.some((p) => existing.has(p))) throw new Error(`${this.owner}: some parameters appear in more than one parameter group`);
    const hyper = { ...plainCopy(this.owner, this.defaults), ...group, params } as ParamGroup<H>;
    this.checkHyper(hyper);
    this.paramGroups.push(hyper);
  }

  /** Drops every parameter's gradient (sets it to null), so the next backward starts fresh. */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) p.grad = null;
  }

  /**
   * One optimization step over every parameter that has a gradient (those with grad null are skipped).
   * `closure`, if given, recomputes the loss (with gradients enabled) and its value is returned.
   */
  step(closure?: () => number): number | undefined {
    const loss = closure ? enableGrad(closure) : undefined;
    for (const group of this.paramGroups) {
      const items: GroupItem[] = [];
      group.params.forEach((p, i) => {
        // dispose() drops .grad too: without this check the parameter would silently stop training
        if (p.isDisposed) throw new Error(`${this.owner}: parameter ${i} of shape [${p.shape.join(', ')}] was disposed; remove it from the optimizer`);
        const g = p.grad;
        if (g === null) return;
        if (!(g instanceof Tensor)) throw new TypeError(`${this.owner}: the grad of parameter ${i} must be a Tensor or null, got ${describe(g)}`);
        if (!p.isContiguous()) throw new Error(`${this.owner}: parameter ${i} of shape [${p.shape.join(', ')}] must be contiguous`);
        if (g.dtype !== p.dtype) throw new TypeError(`${this.owner}: parameter ${i} is ${p.dtype} but its gradient is ${g.dtype}`);
        if (g.device !== p.device || g.deviceIndex !== p.deviceIndex) {
          throw new Error(`${this.owner}: parameter ${i} is on ${p.deviceName} but its gradient on ${g.deviceName}`);
        }
        if (g.numel !== p.numel) {
          throw new RangeError(`${this.owner}: parameter ${i} has shape [${p.shape.join(', ')}] but its gradient [${g.shape.join(', ')}]`);
        }
        let state = this.state.get(p);
        if (state === undefined) this.state.set(p, (state = {}));
        items.push({ param: p, grad: g.contiguous(), state });
      });
      if (items.length > 0) this.updateGroup(items, group);
    }
    return loss;
  }

  /** A tensor filled with `fill` shaped like p, on p's device, for optimizer state; stored in `state[name]` on first use. */
  protected stateTensor(state: ParamState, name: string, p: Tensor, fill = 0): Tensor {
    let t = state[name];
    if (!(t instanceof Tensor)) {
      t = full(p.shape, fill, { dtype: p.dtype, device: p.deviceName });
      state[name] = t;
    }
    return t;
  }

  /** Increments and returns the 1-based step count kept in `state.step`. */
  protected nextStep(state: ParamState): number {
    const step = ((state.step as number | undefined) ?? 0) + 1;
    state.step = step;
    return step;
  }

  /**
   * The state in PyTorch's structure: parameters numbered through the groups in order; state tensors
   * shared with the optimizer (clone them to keep a snapshot); hyperparameters in snake_case.
   */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map((group) => {
      const hyper: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(group)) {
        if (key !== 'params') hyper[camelToSnake(key)] = plainCopy(this.owner, value);
      }
      const params = group.params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return { ...hyper, params };
    });
    const state: Record<number, ParamState> = {};
    for (const [p, i] of index) {
      const s = this.state.get(p);
      if (s !== undefined) state[i] = { ...s };
    }
    return { state, param_groups: paramGroups };
  }

  /**
   * Restores `stateDict()` output (or PyTorch's, with tensors converted) onto an optimizer over the same
   * parameters: group count and sizes must match. State tensors are copied and cast to each
   * parameter's dtype and device; hyperparameters are taken from the dict.
   */
  loadStateDict(stateDict: OptimizerStateDict): void {
    const groups = stateDict?.param_groups;
    if (!Array.isArray(groups) || typeof stateDict.state !== 'object' || stateDict.state === null) {
      throw new TypeError(`${this.owner}.loadStateDict: expects { state, param_groups }, got ${describe(stateDict)}`);
    }
    if (groups.length !== this.paramGroups.length) {
      throw new Error(`${this.owner}.loadStateDict: loaded state dict has ${groups.length} parameter groups, this optimizer has ${this.paramGroups.length}`);
    }
    groups.forEach((g, i) => {
      if (g === null || typeof g !== 'object') throw new TypeError(`${this.owner}.loadStateDict: param_groups[${i}] must be an object, got ${describe(g)}`);
      const own = this.paramGroups[i]!.params.length;
      if (!Array.isArray(g.params) || g.params.length !== own) {
        throw new Error(`${this.owner}.loadStateDict: loaded parameter group ${i} has ${Array.isArray(g.params) ? g.params.length : describe(g.params)} parameters, this optimizer's has ${own}`);
      }
      g.params.forEach((index, j) => {
        const saved: unknown = index;
        if (!Number.isSafeInteger(saved) || (saved as number) < 0) {
          throw new TypeError(`${this.owner}.loadStateDict: param_groups[${i}].params[${j}] must be a parameter index, got ${describe(saved)}`);
        }
        const entry: unknown = stateDict.state[index];
        if (entry !== undefined && (entry === null || typeof entry !== 'object')) {
          throw new TypeError(`${this.owner}.loadStateDict: state[${index}] must be an object of state values, got ${describe(entry)}`);
        }
      });
    });
    const newGroups = groups.map((g, i) => {
      const hyper: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(g)) if (key !== 'params') hyper[snakeToCamel(key)] = plainCopy(`${this.owner}.loadStateDict`, value);
      const group = { ...this.paramGroups[i]!, ...hyper, params: this.paramGroups[i]!.params } as ParamGroup<H>;
      this.checkHyper(group);
      return group;
    });
    const newState = new Map<Tensor, ParamState>();
    groups.forEach((g, gi) => {
      g.params.forEach((index, j) => {
        const saved = stateDict.state[index];
        if (saved === undefined) return;
        const p = this.paramGroups[gi]!.params[j]!;
        const s: ParamState = {};
        for (const [name, value] of Object.entries(saved)) {
          if (name === 'step' && value instanceof Tensor) {
            s[name] = value.item(); // PyTorch keeps the step count as a one-element tensor
          } else if (value instanceof Tensor) {
            if (value.numel !== p.numel) {
              throw new RangeError(
                `${this.owner}.loadStateDict: state '${name}' of parameter ${index} has shape [${value.shape.join(', ')}], the parameter [${p.shape.join(', ')}]`,
              );
            }
            s[name] = value.detach().to(p.dtype).to(p.deviceName).reshape(p.shape).clone();
          } else {
            s[name] = value;
          }
        }
        newState.set(p, s);
      });
    });
    this.paramGroups.splice(0, this.paramGroups.length, ...newGroups);
    this.state.clear();
    for (const [p, s] of newState) this.state.set(p, s);
  }
}

/**
 * Kernel families and their device column. A family is the set of native entry points one kernels module
 * calls, declared once at the top of that module with how each device runs them:
 *
 *   'native'  the addon's kernel runs on the tensors' device;
 *   'host'    the kernels module copies the tensors to the host and runs the CPU kernel there: a family that
 *             lands before its CUDA kernels (none today; every family has them).
 *
 * The op table (lib/ops/registry.ts) lists the families each op reaches and derives its device column
 * from theirs. A family whose CUDA kernels replace a host copy flips its `cuda` entry here:
 * test/tensor/ops.test.ts watches every native call the op table makes and fails when a family runs
 * otherwise than declared, and test/fuzz/device.fuzz.test.ts fuzzes the 'native' ones with device handles.
 */
import type { NativeAddon } from '../native.js';
import type { Device } from '../storage.js';

export type Execution = 'native' | 'host';

/** How each device runs something: a family's kernels, or (in the op table) an op. */
export type DeviceColumn = Readonly<Record<Device, Execution>>;

/** A native entry point of the addon, by name. */
export type EntryPoint = { [K in keyof NativeAddon]-?: NonNullable<NativeAddon[K]> extends (...args: never[]) => unknown ? K : never }[keyof NativeAddon];

export interface KernelFamily {
  readonly name: string;
  /** The addon functions this family's kernels module calls. */
  readonly entries: readonly EntryPoint[];
  readonly devices: DeviceColumn;
}

/** Every declared family by name; each entry point belongs to at most one. */
export const kernelFamilies = new Map<string, KernelFamily>();

/** Declares family `name` (its entry points and device column) and returns it. */
export function kernelFamily(name: string, entries: readonly EntryPoint[], devices: DeviceColumn): KernelFamily {
  if (kernelFamilies.has(name)) throw new Error(`kernelFamily: family '${name}' is declared twice`);
  for (const other of kernelFamilies.values()) {
    const shared = entries.find((e) => other.entries.includes(e));
    if (shared) throw new Error(`kernelFamily: entry point '${shared}' is claimed by families '${other.name}' and '${name}'`);
  }
  const family = { name, entries: [...entries], devices: { ...devices } };
  kernelFamilies.set(name, family);
  return family;
}

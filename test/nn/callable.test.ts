import { execFile } from 'node:child_process';
import { inspect } from 'node:util';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Tensor } from '../../lib/tensor.js';
import { tensor, randn } from '../../lib/creation.js';
import { manualSeed } from '../../lib/random.js';
import { Module, Parameter, Linear, ReLU, Sequential, ModuleList, Dropout } from '../../lib/nn/index.js';

/**
 * A user module with a two-argument forward, a getter, plain fields and a field named `name` (which
 * TypeScript sees as overriding Function's `name`, as every module's type carries a call signature).
 */
class Mix extends Module<[Tensor, Tensor]> {
  override name = 'mix';
  scale = 3;
  fc = new Linear(2, 2);
  calls = 0;

  get doubled(): number {
    return this.scale * 2;
  }

  forward(a: Tensor, b: Tensor): Tensor {
    this.calls++;
    return this.fc(a).add(b).mul(this.scale);
  }
}

describe('callable modules', () => {
  it('module(x) equals module.call(x) in outputs, hooks and their order', () => {
    manualSeed(7);
    const net = new Sequential(new Linear(3, 5), new ReLU(), new Linear(5, 2));
    const x = randn([4, 3]);
    const seen: string[] = [];
    net.registerForwardPreHook((_m, args) => {
      seen.push('pre');
      return [(args[0] as Tensor).mul(2)];
    });
    net.registerForwardHook((_m, args, out) => {
      seen.push(`post ${(args[0] as Tensor).shape}`);
      return (out as Tensor).add(1);
    });
    const called = net(x).toArray();
    expect(seen).toEqual(['pre', 'post 4,3']);
    expect(net.call(x).toArray()).toEqual(called);
    expect(seen).toEqual(['pre', 'post 4,3', 'pre', 'post 4,3']);
    // the hooks ran: the result is forward(2x) + 1, not forward(x)
    expect(net.forward(x.mul(2)).add(1).toArray()).toEqual(called);
  });

  it('a user subclass: forward with two arguments, fields, getters, `name`, instanceof, parameters, state dict', () => {
    const m = new Mix();
    const a = tensor([[1, 2]]), b = tensor([[10, 20]]);
    expect(m(a, b).toArray()).toEqual(m.call(a, b).toArray());
    expect(m.calls).toBe(2);
    expect(m.name).toBe('mix');
    m.name = 'renamed';
    expect(m.name).toBe('renamed');
    expect(m.doubled).toBe(6);
    expect(m).toBeInstanceOf(Mix);
    expect(m).toBeInstanceOf(Module);
    expect(m.parameters()).toHaveLength(2);
    expect(m.parameters()[0]).toBeInstanceOf(Parameter);
    expect(Object.keys(m.stateDict())).toEqual(['fc.weight', 'fc.bias']);
    expect(Object.keys(m)).toEqual(['training', 'name', 'scale', 'fc', 'calls']);
  });

  it('train/eval reach callable children; Dropout is the identity in eval mode through module(x)', () => {
    manualSeed(1);
    const net = new Sequential(new Dropout(0.5));
    const x = randn([64]);
    expect(net(x).toArray()).not.toEqual(x.toArray());
    net.eval();
    expect(net(x).toArray()).toEqual(x.toArray());
  });

  it('prints as a module, not as a function; containers keep their length; ModuleList stays not callable', () => {
    const net = new Sequential(new Linear(2, 3), new ReLU());
    expect(String(net)).toBe(net.toString());
    expect(String(net)).toMatch(/^Sequential\(/);
    expect(`${net}`).toBe(net.toString());
    expect(inspect(net)).toBe(net.toString());
    expect(net.length).toBe(2);
    expect(net.to('float64').parameters()[0]!.dtype).toBe('float64');
    expect(() => (new ModuleList([net]) as unknown as () => void)()).toThrow(/not callable/);
  });

  it('call signatures type-check under tsc --strict, and mistyped calls do not', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const fixture = fileURLToPath(new URL('fixtures/callable_types.ts', import.meta.url));
    const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
    const args = [tsc, '--strict', '--noEmit', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', '--types', 'node', fixture];
    const result = await new Promise<{ code: number; output: string }>((done) => {
      execFile(process.execPath, args, { cwd: root, timeout: 120_000 }, (err, stdout, stderr) =>
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }));
    });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);
});

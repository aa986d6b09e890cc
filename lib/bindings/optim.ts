/**
 * Types of the fused optimizer entry points of the native addon. Each *Step call updates a whole
 * parameter group in place: `count` parameters follow as runs of consecutive buffer arguments (typed
 * arrays on cpu, device handles on cuda; one dtype and one device for all), each buffer of a run holding
 * the parameter's length. `null` is allowed for a state buffer only where the configuration does not use
 * it. `hyper` is the optimizer's hyperparameter object; every call validates it as validateOptimizer does.
 * The update rules follow the torch.optim docs (see lib/optim/*.ts).
 */
import type { AnyBuffer } from './elementwise.js';

type Hyper = object;
type Run = AnyBuffer | null;

export interface OptimBinding {
  /**
   * Throws a RangeError / TypeError starting with `owner` (e.g. "SGD: lr must be finite and >= 0, got -1")
   * unless hyper is valid for the rule: the one implementation of the optimizers' hyperparameter checks.
   */
  validateOptimizer(owner: string, rule: 'sgd' | 'adam' | 'rmsprop' | 'adagrad', hyper: Hyper): void;
  /**
   * SGD, runs {param, grad, momentumBuffer?}; firstSteps[k] = 1 sets parameter k's buffer to its (decayed)
   * gradient instead of blending into it. hyper: lr, momentum, dampening, weightDecay, nesterov, maximize.
   */
  sgdStep(hyper: Hyper, count: number, firstSteps: number[], ...runs: Run[]): void;
  /**
   * Adam / AdamW (decoupledWeightDecay), runs {param, grad, expAvg, expAvgSq, maxExpAvgSq? (amsgrad)};
   * steps[k] is parameter k's 1-based step. hyper: lr, betas, eps, weightDecay, amsgrad, maximize.
   */
  adamStep(hyper: Hyper, decoupledWeightDecay: boolean, count: number, steps: number[], ...runs: Run[]): void;
  /**
   * RMSprop, runs {param, grad, squareAvg, gradAvg? (centered), momentumBuffer? (momentum > 0)}.
   * hyper: lr, alpha, eps, weightDecay, momentum, centered, maximize.
   */
  rmspropStep(hyper: Hyper, count: number, ...runs: Run[]): void;
  /** Adagrad, runs {param, grad, sum}. hyper: lr, lrDecay, weightDecay, eps, initialAccumulatorValue, maximize. */
  adagradStep(hyper: Hyper, count: number, steps: number[], ...runs: Run[]): void;
  /**
   * acc (float64, one element, on the gradients' device) += sum over every gradient element of |g|^normType,
   * or acc = max(acc, max |g|) for Infinity (NaN wins); accumulated in float64 on the device.
   */
  gradNormAccumulate(normType: number, acc: AnyBuffer, count: number, ...grads: AnyBuffer[]): void;
  /**
   * Every gradient *= min(1, maxNorm / (totalNorm[0] + 1e-6)), with totalNorm (float64, one element) read on
   * the gradients' device: no host round trip.
   */
  clipByNorm(totalNorm: AnyBuffer, maxNorm: number, count: number, ...grads: AnyBuffer[]): void;
  /** buf[i] = min(max(buf[i], lo), hi) (hi wins when lo > hi, as torch.clamp); NaN elements stay NaN; NaN bounds are a RangeError. */
  clampInPlace(buf: AnyBuffer, lo: number, hi: number): void;
}

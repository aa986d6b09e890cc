/** Global autograd switches: grad recording and anomaly detection. */
import { requireFunction } from '../checks.js';

let gradEnabled = true;
let anomalyEnabled = false;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Runs fn without recording operations for autograd (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  requireFunction('noGrad', fn, 'fn');
  return withGradMode(false, fn);
}

/** Runs fn with recording enabled, even inside noGrad. */
export function enableGrad<T>(fn: () => T): T {
  requireFunction('enableGrad', fn, 'fn');
  return withGradMode(true, fn);
}

export function setGradEnabled(enabled: boolean): void {
  gradEnabled = enabled;
}

/**
 * Anomaly mode: backward checks every gradient it computes and throws at the first NaN or Inf,
 * naming the op whose backward produced it. Slows backward; for debugging.
 */
export function detectAnomaly<T>(fn: () => T): T;
export function detectAnomaly(enabled: boolean): void;
export function detectAnomaly<T>(arg: boolean | (() => T)): T | void {
  if (typeof arg === 'boolean') {
    anomalyEnabled = arg;
    return;
  }
  requireFunction('detectAnomaly', arg, 'the argument (a boolean or a function)');
  const previous = anomalyEnabled;
  anomalyEnabled = true;
  try {
    return arg();
  } finally {
    anomalyEnabled = previous;
  }
}

export function isAnomalyEnabled(): boolean {
  return anomalyEnabled;
}

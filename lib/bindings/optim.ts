/** Types of the optim entry points of the native addon. */

export interface OptimBinding {}

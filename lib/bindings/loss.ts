/** Types of the loss entry points of the native addon. */

export interface LossBinding {}

/** Types of the elementwise entry points of the native addon. */

export interface ElementwiseBinding {}

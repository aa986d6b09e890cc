/** Types of the reduce entry points of the native addon. */

export interface ReduceBinding {}

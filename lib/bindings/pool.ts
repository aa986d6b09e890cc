/** Types of the pool entry points of the native addon. */

export interface PoolBinding {}

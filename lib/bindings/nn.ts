/** Types of the nn entry points of the native addon. */

export interface NnBinding {}

/** Types of the conv entry points of the native addon. */

export interface ConvBinding {}

/** Types of the norm entry points of the native addon. */

export interface NormBinding {}

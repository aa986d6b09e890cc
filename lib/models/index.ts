/** Reference architectures. */
export { lenet5 } from './lenet.js';

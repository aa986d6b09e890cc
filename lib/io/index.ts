/** Checkpoints and tensor files. */
export * from './safetensors.js';
export { writeFileAtomic } from './atomic.js';
export { saveStateDict, loadStateDict, saveCheckpoint, loadCheckpoint } from './checkpoint.js';

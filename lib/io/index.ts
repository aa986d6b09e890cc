/** Checkpoints and tensor files. */
export * from './safetensors.js';
export { writeFileAtomic } from './atomic.js';
export { saveStateDict, loadStateDict, saveCheckpoint, loadCheckpoint } from './checkpoint.js';
export { loadPt, loadPtStateDict, savePt, serializePt, type PtValue } from './pt.js';

/** The data pipeline: datasets and readers, seeded transforms, and the DataLoader. */
export { Random, philox4x32, epochPermutation, STREAM_SAMPLE, STREAM_SHUFFLE, STREAM_SPLIT } from './random.js';
export {
  type Dataset,
  type RawImage,
  type Image,
  type LabeledImage,
  type ImageShape,
  ArrayDataset,
  Subset,
  randomSplit,
  backingRows,
  toImage,
} from './dataset.js';
export { type IdxArray, readIdx, parseIdx, loadMnist } from './idx.js';
export { readCifar10 } from './cifar.js';
export {
  type Transform,
  type TransformSpec,
  type AffineOptions,
  type ColorJitterOptions,
  type ErasingOptions,
  toFloat,
  normalize,
  randomHorizontalFlip,
  randomVerticalFlip,
  randomCrop,
  randomRotation,
  randomAffine,
  gaussianNoise,
  colorJitter,
  randomErasing,
  cutout,
  compose,
  fromSpec,
  computeMeanStd,
} from './transforms.js';
export { type Batch, type DataLoaderOptions, type WorkerMode, DataLoader } from './loader.js';

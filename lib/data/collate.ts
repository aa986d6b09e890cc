/**
 * Turning samples into a batch: raw pixels → float image → transform pipeline → one contiguous
 * N×C×H×W buffer. Shared by the in-process DataLoader path and the worker threads, so both produce
 * bit-identical batches.
 */
import { type LabeledImage, toImage } from './dataset.js';
import { Random } from './random.js';
import type { Transform } from './transforms.js';

/** One batch of B samples: inputs [B, C, H, W] (inputShape), targets [B], dataset indices [B]. */
export interface Batch {
  inputs: Float32Array<ArrayBuffer>;
  inputShape: number[];
  targets: Int32Array<ArrayBuffer>;
  indices: Int32Array<ArrayBuffer>;
}

/**
 * Collates the samples at dataset `indices` (shape [B]); `sampleAt(k)` returns the k-th of them.
 * Sample indices[k] is transformed with Random.forSample(seed, epoch, indices[k]), so the result does
 * not depend on which thread runs it or on the batch the sample lands in.
 */
export function collate(
  sampleAt: (k: number) => LabeledImage,
  indices: Int32Array<ArrayBuffer>,
  pipeline: Transform | undefined,
  seed: number,
  epoch: number,
): Batch {
  const targets = new Int32Array(indices.length);
  let inputs = new Float32Array(0);
  let shape: number[] = [];
  for (let k = 0; k < indices.length; k++) {
    const sample = sampleAt(k);
    let image = toImage(sample.image);
    if (pipeline) image = pipeline.apply(image, Random.forSample(seed, epoch, indices[k]!));
    const imageShape = [image.channels, image.height, image.width];
    if (k === 0) {
      shape = imageShape;
      inputs = new Float32Array(indices.length * image.data.length);
    } else if (imageShape.some((d, i) => d !== shape[i])) {
      throw new Error(
        `DataLoader: sample ${indices[k]} has shape [${imageShape.join(', ')}] after transforms but sample ` +
          `${indices[0]} has [${shape.join(', ')}]; all samples of a batch must have the same shape`,
      );
    }
    inputs.set(image.data, k * image.data.length);
    targets[k] = sample.label;
  }
  return { inputs, inputShape: [indices.length, ...shape], targets, indices };
}

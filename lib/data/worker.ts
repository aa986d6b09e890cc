/**
 * DataLoader worker thread: rebuilds the transform pipeline from its JSON spec, reads samples from the
 * dataset's shared pixel and label arrays (SharedArrayBuffer, never copied per batch) and answers each
 * batch request with a collated batch, transferring its buffers back. Errors go back as the reply.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { collate } from './collate.js';
import { fromSpec } from './transforms.js';
import type { BatchReply, BatchRequest, WorkerInit } from './loader.js';

if (!parentPort) throw new Error('lib/data/worker: must be started as a worker thread by DataLoader');
const port = parentPort;
const init = workerData as WorkerInit;
const pipeline = init.transforms ? fromSpec(init.transforms) : undefined;
const [channels, height, width] = init.imageShape;
const imageSize = channels * height * width;

port.on('message', (request: BatchRequest) => {
  let reply: BatchReply;
  try {
    const batch = collate(
      (k) => {
        const row = request.rows[k]!;
        return {
          image: { data: init.pixels.subarray(row * imageSize, (row + 1) * imageSize), channels, height, width },
          label: init.labels[row]!,
        };
      },
      request.indices,
      pipeline,
      init.seed,
      request.epoch,
    );
    reply = { id: request.id, batch };
    port.postMessage(reply, [batch.inputs.buffer, batch.targets.buffer, batch.indices.buffer]);
  } catch (error) {
    reply = { id: request.id, error };
    port.postMessage(reply);
  }
});

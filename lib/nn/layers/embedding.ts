/** Lookup tables. */
import type { Tensor } from '../../tensor.js';
import { Module, type Parameter } from '../module.js';
import * as F from '../functional.js';
import { normal_ } from '../init.js';
import { noGrad } from '../../autograd/mode.js';
import { where } from '../../ops/elementwise.js';
import { checkDType, checkPositiveInt, fail, newParameter, show, type DTypeOptions, checkOptions } from './common.js';

/** Options of Embedding. */
export interface EmbeddingOptions extends DTypeOptions {
  /** A row zeroed at initialization and never updated by lookups (e.g. for padding tokens); negative counts from the end. */
  paddingIdx?: number;
}

/**
 * Row lookup: int32 indices of any shape (*) → (*, embeddingDim). Weight (numEmbeddings, embeddingDim)
 * starts N(0, 1), with the paddingIdx row zero; lookups of paddingIdx contribute no gradient.
 */
export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly paddingIdx: number | undefined;
  declare weight: Parameter;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    checkOptions('Embedding', options);
    checkPositiveInt('Embedding', 'numEmbeddings', numEmbeddings);
    checkPositiveInt('Embedding', 'embeddingDim', embeddingDim);
    let { paddingIdx } = options;
    if (paddingIdx !== undefined) {
      if (!Number.isSafeInteger(paddingIdx) || paddingIdx >= numEmbeddings || paddingIdx < -numEmbeddings) {
        fail('Embedding', `paddingIdx must be an integer in [${-numEmbeddings}, ${numEmbeddings}), got ${show(paddingIdx)}`);
      }
      if (paddingIdx < 0) paddingIdx += numEmbeddings;
    }
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    this.paddingIdx = paddingIdx;
    this.registerParameter('weight', newParameter([numEmbeddings, embeddingDim], checkDType('Embedding', options.dtype ?? 'float32')));
    this.resetParameters();
  }

  /** Weight N(0, 1), the padding row zero. */
  resetParameters(): void {
    normal_(this.weight);
    if (this.paddingIdx !== undefined) noGrad(() => this.weight.select(0, this.paddingIdx!).zero_());
  }

  forward(indices: Tensor): Tensor {
    const out = F.embedding(indices, this.weight);
    if (this.paddingIdx === undefined) return out;
    // Positions holding paddingIdx read the row but send no gradient to it, as PyTorch.
    return where(indices.eq(this.paddingIdx).unsqueeze(-1), out.detach(), out);
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== undefined ? `, padding_idx=${this.paddingIdx}` : ''}`;
  }
}

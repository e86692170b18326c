import type { ModelSpec } from "../model/spec.js";

/** Parameter count derived from config.json alone, term by term (formulas.md, "Parameter count"). */
export interface ConfigParameters {
  total: number;
  embeddings: number;
  positionEmbeddings: number;
  attentionPerLayer: number;
  mlpPerLayer: number;
  normsPerLayer: number;
  finalNorm: number;
  lmHead: number;
}

export function configParameters(spec: ModelSpec): ConfigParameters {
  const h = spec.hiddenSize;
  const { layout } = spec;
  const qWidth = spec.numAttentionHeads * spec.headDim;
  const kvWidth = spec.numKeyValueHeads * spec.headDim;

  const attentionPerLayer =
    h * qWidth + // q
    2 * h * kvWidth + // k, v
    qWidth * h + // o
    (layout.qkvBias ? qWidth + 2 * kvWidth : 0) +
    (layout.outputBias ? h : 0) +
    (layout.qkNorm ? 2 * spec.headDim : 0);

  const f = spec.intermediateSize;
  const mlpPerLayer =
    layout.mlp === "gated"
      ? 3 * h * f + (layout.mlpBias ? 2 * f + h : 0)
      : 2 * h * f + (layout.mlpBias ? f + h : 0);

  const normWidth = layout.norm === "layer" ? 2 * h : h;
  const normsPerLayer = layout.normsPerLayer * normWidth;
  const embeddings = spec.vocabSize * h;
  const positionEmbeddings = layout.learnedPositions * h;
  const lmHead = spec.tiedEmbeddings ? 0 : spec.vocabSize * h;

  const total =
    embeddings + positionEmbeddings + spec.numLayers * (attentionPerLayer + mlpPerLayer + normsPerLayer) + normWidth + lmHead;
  return { total, embeddings, positionEmbeddings, attentionPerLayer, mlpPerLayer, normsPerLayer, finalNorm: normWidth, lmHead };
}

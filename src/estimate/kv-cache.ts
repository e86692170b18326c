import type { AttentionLayer, ModelSpec } from "../model/spec.js";

/** The layers sharing one cache shape, with what they hold. */
export interface KvLayerGroup {
  kind: AttentionLayer["kind"];
  layers: number;
  kvHeads: number;
  headDim: number;
  /** Sliding window in tokens, for sliding layers. */
  window: number | null;
  /** Tokens each sequence keeps in one layer of this group: the context, or min(context, window). */
  tokensPerSequence: number;
  /** K and V of one token in one layer: 2 × kvHeads × headDim × bytes per element. */
  bytesPerTokenPerLayer: number;
  bytes: number;
}

export interface KvCacheEstimate {
  bytes: number;
  bytesPerElement: number;
  context: number;
  sequences: number;
  /** K and V of one token across all layers (before any window caps it). */
  bytesPerToken: number;
  groups: KvLayerGroup[];
}

/**
 * The KV cache a model needs for `sequences` sequences of `context` tokens: per layer, K and V for
 * each KV head, for every token the layer keeps (formulas.md, "KV cache"). No engine block
 * rounding: this is the model's need, the figure the serving engines start from.
 */
export function estimateKvCache(spec: ModelSpec, options: { context: number; sequences: number; bytesPerElement: number }): KvCacheEstimate {
  const groups = new Map<string, KvLayerGroup>();
  for (const layer of spec.attention) {
    const window = layer.kind === "sliding" ? layer.window : null;
    const key = `${layer.kind}:${window}:${layer.kvHeads}:${layer.headDim}`;
    let group = groups.get(key);
    if (!group) {
      group = {
        kind: layer.kind,
        layers: 0,
        kvHeads: layer.kvHeads,
        headDim: layer.headDim,
        window,
        tokensPerSequence: window === null ? options.context : Math.min(options.context, window),
        bytesPerTokenPerLayer: 2 * layer.kvHeads * layer.headDim * options.bytesPerElement,
        bytes: 0,
      };
      groups.set(key, group);
    }
    group.layers += 1;
  }
  let bytes = 0;
  let bytesPerToken = 0;
  for (const group of groups.values()) {
    group.bytes = group.layers * group.bytesPerTokenPerLayer * group.tokensPerSequence * options.sequences;
    bytes += group.bytes;
    bytesPerToken += group.layers * group.bytesPerTokenPerLayer;
  }
  return { bytes, bytesPerElement: options.bytesPerElement, context: options.context, sequences: options.sequences, bytesPerToken, groups: [...groups.values()] };
}

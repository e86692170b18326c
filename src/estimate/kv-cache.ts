import { kvRowBytes, type KvFormat } from "../model/dtypes.js";
import type { CacheKind, LayerCache, ModelSpec } from "../model/spec.js";

/** The layers sharing one cache shape, with what they hold. */
export interface KvLayerGroup {
  kind: CacheKind;
  layers: number;
  /** Attention caches: KV heads and per-head K and V widths (the latent width for MLA). */
  kvHeads: number | null;
  keyDim: number | null;
  valueDim: number | null;
  /** Sliding window or attention chunk in tokens; null when the layer keeps the whole context. */
  window: number | null;
  /** Tokens each sequence keeps per layer; null for a recurrent state, which does not grow. */
  tokensPerSequence: number | null;
  /** Bytes one token adds to one layer (0 for a state). */
  bytesPerTokenPerLayer: number;
  /** Bytes one sequence holds in one layer. */
  bytesPerSequencePerLayer: number;
  bytesPerElement: number;
  /** For MLA: what caching per-head K and V would take instead, for contrast. */
  expandedBytes: number | null;
  /**
   * For a recurrent state: its elements (conv + SSM) per sequence per layer, and the SSM part's
   * element width where it differs from the conv part's (`bytesPerElement`).
   */
  stateElements: { conv: number; ssm: number; ssmBytesPerElement: number } | null;
  bytes: number;
}

export interface KvCacheEstimate {
  /** Everything the layers keep: attention KV plus recurrent states. */
  bytes: number;
  attentionBytes: number;
  stateBytes: number;
  bytesPerElement: number;
  stateBytesPerElement: number;
  context: number;
  sequences: number;
  /** What one more token costs across all attention layers (before any window caps it). */
  bytesPerToken: number;
  groups: KvLayerGroup[];
}

export interface KvCacheOptions {
  context: number;
  sequences: number;
  /** Element width of the attention cache (`--kv-dtype`), for a plain (unblocked) format. */
  bytesPerElement: number;
  /** A blocked cache format (llama.cpp q8_0, q4_0); rows are stored in whole blocks. */
  format?: KvFormat;
  /** Element width of recurrent states: the model's dtype (vLLM's mamba_cache_dtype=auto). */
  stateBytesPerElement?: number;
  /** Element width of the SSM (temporal) part of a state, where the model asks for its own (ModelSpec.ssmStateDtype). */
  ssmStateBytesPerElement?: number;
}

/**
 * What the layers keep for `sequences` sequences of `context` tokens (formulas.md "KV cache"):
 * K and V per KV head for every token a full layer keeps, capped at the window or chunk for
 * sliding and chunked layers, one latent vector for MLA, and a constant state for SSM layers.
 * No engine block rounding: this is the model's need, the figure the serving engines start from.
 */
export function estimateKvCache(spec: ModelSpec, options: KvCacheOptions): KvCacheEstimate {
  const stateBytesPerElement = options.stateBytesPerElement ?? options.bytesPerElement;
  const groups = new Map<string, KvLayerGroup>();
  for (const layer of spec.layers) {
    for (const cache of layer.caches) {
      const group = groupFor(cache, options, stateBytesPerElement);
      const key = JSON.stringify({ ...group, layers: 0, bytes: 0 });
      const existing = groups.get(key);
      if (existing) existing.layers += 1;
      else groups.set(key, { ...group, layers: 1 });
    }
  }
  let attentionBytes = 0;
  let stateBytes = 0;
  let bytesPerToken = 0;
  for (const group of groups.values()) {
    group.bytes = group.layers * group.bytesPerSequencePerLayer * options.sequences;
    if (group.expandedBytes !== null) group.expandedBytes *= group.layers * (group.tokensPerSequence ?? 0) * options.sequences;
    if (group.kind === "state") stateBytes += group.bytes;
    else attentionBytes += group.bytes;
    bytesPerToken += group.layers * group.bytesPerTokenPerLayer;
  }
  return {
    bytes: attentionBytes + stateBytes,
    attentionBytes,
    stateBytes,
    bytesPerElement: options.bytesPerElement,
    stateBytesPerElement,
    context: options.context,
    sequences: options.sequences,
    bytesPerToken,
    groups: [...groups.values()],
  };
}

function groupFor(cache: LayerCache, options: KvCacheOptions, stateBytesPerElement: number): KvLayerGroup {
  const base = { layers: 0, bytes: 0, expandedBytes: null, stateElements: null };
  const b = options.format ? options.format.blockBytes / options.format.blockElements : options.bytesPerElement;
  const row = (elements: number) => (options.format ? kvRowBytes(options.format, elements) : elements * options.bytesPerElement);
  switch (cache.kind) {
    case "state": {
      const ssmBytesPerElement = options.ssmStateBytesPerElement ?? stateBytesPerElement;
      const perSequence = cache.convElements * stateBytesPerElement + cache.ssmElements * ssmBytesPerElement;
      return {
        ...base,
        kind: "state",
        kvHeads: null,
        keyDim: null,
        valueDim: null,
        window: null,
        tokensPerSequence: null,
        bytesPerTokenPerLayer: 0,
        bytesPerSequencePerLayer: perSequence,
        bytesPerElement: stateBytesPerElement,
        stateElements: { conv: cache.convElements, ssm: cache.ssmElements, ssmBytesPerElement },
      };
    }
    case "mla": {
      // One latent vector per token, no ×2 for K and V (vLLM MLAAttentionSpec), and the
      // sparse-attention indexer's key where the model has one.
      const perToken = row(cache.latentDim) + cache.indexerKeyBytes;
      return {
        ...base,
        kind: "mla",
        kvHeads: 1,
        keyDim: cache.latentDim,
        valueDim: 0,
        window: null,
        tokensPerSequence: options.context,
        bytesPerTokenPerLayer: perToken,
        bytesPerSequencePerLayer: perToken * options.context,
        bytesPerElement: b,
        // Filled in per token here, multiplied out by layers and tokens by the caller.
        expandedBytes: row(cache.expandedDim),
      };
    }
    default: {
      const window = cache.kind === "sliding" ? cache.window : cache.kind === "chunked" ? cache.chunk : null;
      const tokens = window === null ? options.context : Math.min(options.context, window);
      const perToken = cache.kvHeads * (row(cache.keyDim) + row(cache.valueDim));
      return {
        ...base,
        kind: cache.kind,
        kvHeads: cache.kvHeads,
        keyDim: cache.keyDim,
        valueDim: cache.valueDim,
        window,
        tokensPerSequence: tokens,
        bytesPerTokenPerLayer: perToken,
        bytesPerSequencePerLayer: perToken * tokens,
        bytesPerElement: b,
      };
    }
  }
}

/**
 * What one sequence of `context` tokens keeps in every layer together: sliding and chunked layers
 * capped at their window, recurrent states whole. The estimate's groups at any other context.
 */
export function sequenceBytesAt(kv: Pick<KvCacheEstimate, "groups">, context: number): number {
  return kv.groups.reduce((sum, group) => sum + group.layers * (group.kind === "state" ? group.bytesPerSequencePerLayer : group.bytesPerTokenPerLayer * Math.min(context, group.window ?? context)), 0);
}

import type { KvLayerGroup } from "../../estimate/kv-cache.js";
import type { CacheKind } from "../../model/spec.js";

/** Layers that share one KV spec on a rank, after vLLM's page alignment. */
export interface VllmLayerType {
  kind: CacheKind;
  layers: number;
  /** Bytes one token adds to one layer on this rank (0 for a recurrent state). */
  perTokenBytes: number;
  window: number | null;
  blockTokens: number;
  pageBytes: number;
}

/** How vLLM's KV cache manager carves the budget (vllm/v1/core/kv_cache_utils.py). */
export interface VllmKvConfig {
  types: VllmLayerType[];
  /** Layers sharing one block tensor, and the groups that share the block pool. */
  groupSize: number;
  groups: number;
  /** Layer slots added to the last group of a kind to fill it (vLLM warns "Add N padding layers"). */
  paddingLayers: number;
  pageBytes: number;
  blocks: number;
  /** "GPU KV cache size: N tokens". */
  tokens: number;
  /** Per request at the requested max_model_len: blocks × page × group size. */
  perRequestBytes: number;
  /** "Maximum concurrency for N tokens per request". */
  maxConcurrency: number;
  /** Σ over layers of what one request at `maxModelLen` needs (the start-up check). */
  neededBytes: number;
}

export interface KvConfigInput {
  groups: readonly KvLayerGroup[];
  /** The share of a group's per-token bytes one rank holds. */
  share: (group: KvLayerGroup) => number;
  tp: number;
  blockTokens: number;
  maxNumBatchedTokens: number;
  runtime: "v0" | "v1";
  /** How the release turns blocks into its "GPU KV cache size" line (VllmRelease.tokenReport). */
  tokenReport: "blocks-per-group" | "concurrency";
  /**
   * How many blocks a recurrent state takes per request: mamba_cache_mode "none" keeps one, "align"
   * (what prefix caching turns on for hybrids) two, the running state and the last block's checkpoint.
   */
  mambaCacheMode: "none" | "align";
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/**
 * V1: each kind of layer (full, sliding window, chunked, MLA, Mamba state) is a KV spec; specs are
 * brought to one page size (_get_kv_cache_groups_uniform_page_size, and for Mamba hybrids
 * HybridAttentionMambaModelConfig raising the attention block until its page covers a state);
 * layers are put in groups of `group_size`; the budget becomes blocks of page × group_size bytes;
 * every group draws its blocks from the same pool. V0 pages every layer for the whole context.
 */
export function layerTypes(input: KvConfigInput): VllmLayerType[] {
  const { groups, tp, runtime } = input;
  const attention = groups.filter((group) => group.kind !== "state");
  const states = groups.filter((group) => group.kind === "state");
  let block = input.blockTokens;
  const types: VllmLayerType[] = attention.map((group) => {
    const perTokenBytes = group.bytesPerTokenPerLayer * input.share(group);
    const sliding = runtime === "v1" && (group.kind === "sliding" || group.kind === "chunked");
    return { kind: runtime === "v0" ? "full" : group.kind, layers: group.layers, perTokenBytes, window: sliding ? group.window : null, blockTokens: block, pageBytes: 0 };
  });
  const statePage = Math.max(0, ...states.map((group) => Math.ceil(group.bytesPerSequencePerLayer / tp)));
  const widest = Math.max(0, ...types.map((type) => type.perTokenBytes));
  if (statePage > 0 && widest > 0 && block * widest < statePage) {
    // The attention block grows in steps of 16 tokens until one attention page holds a state page.
    block = 16 * ceilDiv(statePage, 16 * widest);
  }
  for (const type of types) {
    type.blockTokens = block;
    type.pageBytes = block * type.perTokenBytes;
  }
  // Smaller pages get proportionally more tokens per block, so every page is the same size.
  const page = Math.max(statePage, ...types.map((type) => type.pageBytes));
  for (const type of types) {
    if (type.pageBytes > 0 && type.pageBytes < page && page % type.pageBytes === 0) {
      type.blockTokens = (type.blockTokens * page) / type.pageBytes;
    }
    type.pageBytes = page;
  }
  for (const group of states) types.push({ kind: "state", layers: group.layers, perTokenBytes: 0, window: null, blockTokens: block, pageBytes: page });
  return mergeTypes(types);
}

function mergeTypes(types: VllmLayerType[]): VllmLayerType[] {
  const merged = new Map<string, VllmLayerType>();
  for (const type of types) {
    const key = `${type.kind}:${type.window}:${type.perTokenBytes}:${type.blockTokens}`;
    const existing = merged.get(key);
    if (existing) existing.layers += type.layers;
    else merged.set(key, { ...type });
  }
  return [...merged.values()];
}

/** Bytes one request at `maxModelLen` takes in one layer of a type (KVCacheSpec.max_memory_usage_bytes). */
export function requestBytesPerLayer(type: VllmLayerType, maxModelLen: number, maxNumBatchedTokens: number, mambaCacheMode: "none" | "align" = "none"): number {
  const block = type.blockTokens;
  switch (type.kind) {
    case "state":
      // MambaSpec.max_memory_usage_bytes: 1 page, 2 in align mode.
      return type.pageBytes * (mambaCacheMode === "align" ? 2 : 1);
    case "sliding": {
      // SlidingWindowSpec: the window, the chunk being prefilled, and one block for misalignment.
      const tokens = Math.min((type.window ?? maxModelLen) - 1 + maxNumBatchedTokens, maxModelLen);
      return (ceilDiv(tokens, block) + 1) * type.pageBytes;
    }
    case "chunked":
      return ceilDiv(Math.min((type.window ?? maxModelLen) + maxNumBatchedTokens, maxModelLen), block) * type.pageBytes;
    default:
      return ceilDiv(maxModelLen, block) * type.pageBytes;
  }
}

/** What every layer together needs for one request of `maxModelLen` (check_enough_kv_cache_memory). */
export function neededBytes(types: readonly VllmLayerType[], maxModelLen: number, maxNumBatchedTokens: number, mambaCacheMode: "none" | "align" = "none"): number {
  return types.reduce((sum, type) => sum + type.layers * requestBytesPerLayer(type, maxModelLen, maxNumBatchedTokens, mambaCacheMode), 0);
}

export function vllmKvConfig(input: KvConfigInput, availableBytes: number, maxModelLen: number): VllmKvConfig {
  const types = layerTypes(input);
  const T = input.maxNumBatchedTokens;
  const needed = neededBytes(types, maxModelLen, T, input.mambaCacheMode);
  const page = types[0]?.pageBytes ?? 0;
  if (types.length === 0 || page === 0) {
    return { types, groupSize: 0, groups: 0, paddingLayers: 0, pageBytes: 0, blocks: 0, tokens: 0, perRequestBytes: 0, maxConcurrency: 0, neededBytes: 0 };
  }
  if (input.runtime === "v0") {
    // V0 CacheEngine: a block is block_size tokens of every layer.
    const block = input.blockTokens;
    const perBlock = types.reduce((sum, type) => sum + type.layers * type.perTokenBytes * block, 0);
    const blocks = Math.max(0, Math.floor(availableBytes / perBlock));
    const perRequest = ceilDiv(maxModelLen, block) * perBlock;
    return { types, groupSize: 1, groups: 1, paddingLayers: 0, pageBytes: perBlock, blocks, tokens: blocks * block, perRequestBytes: perRequest, maxConcurrency: (blocks * block) / maxModelLen, neededBytes: perRequest };
  }
  const counts = types.map((type) => type.layers);
  const smallest = Math.min(...counts);
  const largest = Math.max(...counts);
  const groupSize = types.length === 1 ? largest : largest < 1.5 * smallest ? largest : smallest;
  const groupsPerType = types.map((type) => ceilDiv(type.layers, groupSize));
  const groups = groupsPerType.reduce((a, b) => a + b, 0);
  const paddingLayers = groups * groupSize - counts.reduce((a, b) => a + b, 0);
  const blocks = Math.max(0, Math.floor(availableBytes / page / groupSize));
  // get_max_concurrency_for_kv_cache_config: one block of each group per page a request needs.
  const perGroupRequest = types.reduce((sum, type, index) => sum + (groupsPerType[index] as number) * requestBytesPerLayer(type, maxModelLen, T, input.mambaCacheMode), 0);
  const blocksPerRequest = ceilDiv(perGroupRequest, page);
  const maxConcurrency = blocksPerRequest > 0 ? blocks / blocksPerRequest : 0;
  const minBlock = Math.min(...types.map((type) => type.blockTokens));
  // The two differ only where groups take blocks unevenly (hybrids: a state needs one block a request).
  const tokens = input.tokenReport === "concurrency" ? Math.floor(maxConcurrency * maxModelLen) : Math.floor(blocks / groups) * minBlock;
  return {
    types,
    groupSize,
    groups,
    paddingLayers,
    pageBytes: page,
    blocks,
    tokens,
    perRequestBytes: blocksPerRequest * page * groupSize,
    maxConcurrency,
    neededBytes: needed,
  };
}

/** vLLM's estimate_max_model_len: the longest max_model_len whose single request fits `availableBytes`. */
export function estimateMaxModelLen(types: readonly VllmLayerType[], maxNumBatchedTokens: number, availableBytes: number, modelMax: number, mambaCacheMode: "none" | "align" = "none"): number {
  const fits = (length: number) => neededBytes(types, length, maxNumBatchedTokens, mambaCacheMode) <= availableBytes;
  if (!fits(1)) return 0;
  if (fits(modelMax)) return modelMax;
  let low = 1;
  let high = modelMax;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (fits(middle)) low = middle;
    else high = middle;
  }
  return low;
}

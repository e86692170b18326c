import { weightKindOf, type WeightKind, type WeightTensor } from "../estimate/weight-inventory.js";
import { componentOf, tensorRole, type QuantizationRules } from "../estimate/tensor-roles.js";
import type { TensorManifest } from "../model/manifest.js";
import type { ModelSpec } from "../model/spec.js";

/** One tensor as a serving engine holds it; its name and kind decide how tensor parallelism splits it. */
export interface HeldTensor {
  name: string;
  kind: WeightKind;
  bytes: number;
}

/** What one tensor-parallel rank holds after loading, term by term. */
export interface RankWeights {
  bytes: number;
  /** The tensors' bytes summed over the model (before sharding), as the engine holds them. */
  modelBytes: number;
  /** Per rank: rows added to embeddings and lm_head to reach a multiple of 64 (vocab_parallel_embedding.py). */
  vocabPaddingBytes: number;
  /** Per rank: what every rank keeps whole (norms, routers, MLA down-projections, replicated KV heads). */
  replicatedBytes: number;
  /** The rotary cos/sin cache, one per model (rotary_embedding.py registers it as a buffer). */
  ropeCacheBytes: number;
  /** The input token embedding over the whole model, unpadded (llama.cpp keeps it in system memory). */
  embeddingBytes: number;
  notes: string[];
}

/** vLLM pads vocab rows to a multiple of 64 (DEFAULT_VOCAB_PADDING_SIZE). */
const VOCAB_PADDING = 64;
/** Fused q/k/v projections, split by heads. */
const FUSED_QKV = /(qkv_proj|c_attn|query_key_value|W_pack|Wqkv)\./;
const KV_PROJECTION = /\.(k_proj|v_proj)\./;
/** DeepSeek MLA down-projections are ReplicatedLinear in vLLM's deepseek_v2.py. */
const REPLICATED_LINEAR = /\.(q_a_proj|kv_a_proj_with_mqa)\.|shared_expert_gate\./;
const POSITION_EMBEDDING = /(^|\.)wpe\./;

/**
 * The checkpoint's tensors as an engine loads them: buffers and multi-token-prediction layers
 * dropped, a tied lm_head not loaded twice, floating tensors at `loadBytes` per value when the
 * engine converts them (vLLM's dtype=auto serves a float32 checkpoint in 16 bits).
 */
export function heldFromManifest(spec: ModelSpec, manifest: TensorManifest, rules: QuantizationRules, loadBytes: number | null): HeldTensor[] {
  const held: HeldTensor[] = [];
  for (const file of manifest.files) {
    for (const tensor of file.tensors) {
      const role = tensorRole(tensor, rules);
      if (role.kind === "buffer" || componentOf(tensor.name, spec.numLayers) === "multi-token prediction") continue;
      const kind = weightKindOf(tensor.name, tensor.shape.length);
      if (kind === "lm_head" && spec.tiedEmbeddings) continue;
      const converts = loadBytes !== null && role.kind === "parameter" && (tensor.dtype === "F32" || tensor.dtype === "F16" || tensor.dtype === "BF16");
      const elements = tensor.shape.reduce((product, dim) => product * dim, 1);
      held.push({ name: tensor.name, kind, bytes: converts ? elements * (loadBytes as number) : tensor.bytes });
    }
  }
  return held;
}

/** A re-quantized (or config-derived) inventory with the bytes `requantize` gave each tensor. */
export function heldFromInventory(spec: ModelSpec, tensors: readonly WeightTensor[], tensorBytes: readonly number[]): HeldTensor[] {
  return tensors
    .map((tensor, index) => ({ name: tensor.name, kind: tensor.kind, bytes: tensorBytes[index] ?? 0 }))
    .filter((tensor) => tensor.bytes > 0 && !(tensor.kind === "lm_head" && spec.tiedEmbeddings));
}

/**
 * Bytes on one of `tp` tensor-parallel ranks, as vLLM and SGLang shard a decoder: column- and
 * row-parallel linears and fused experts split `tp` ways; embeddings and lm_head split by vocab
 * rows after padding them to 64; norms, routers and MLA down-projections whole on every rank; and
 * with more ranks than KV heads each rank keeps one KV head's k/v projections (QKVParallelLinear
 * num_kv_head_replicas). Plus the rotary cos/sin cache.
 */
export function rankWeights(spec: ModelSpec, tensors: readonly HeldTensor[], tp: number, dtypeBytes: number): RankWeights {
  let bytes = 0;
  let modelBytes = 0;
  let vocabPaddingBytes = 0;
  let replicatedBytes = 0;
  let embeddingBytes = 0;
  const notes: string[] = [];
  const kvHeads = spec.numKeyValueHeads;
  const replicatesKv = kvHeads > 0 && tp > kvHeads && !spec.mla;
  const paddedVocab = Math.ceil(spec.vocabSize / VOCAB_PADDING) * VOCAB_PADDING;
  for (const tensor of tensors) {
    modelBytes += tensor.bytes;
    if (tensor.kind === "embedding" && !POSITION_EMBEDDING.test(tensor.name)) embeddingBytes += tensor.bytes;
    let share: number;
    let replicated = false;
    if ((tensor.kind === "embedding" || tensor.kind === "lm_head") && !POSITION_EMBEDDING.test(tensor.name)) {
      const padded = (tensor.bytes * paddedVocab) / spec.vocabSize;
      vocabPaddingBytes += Math.ceil((padded - tensor.bytes) / tp);
      share = paddedVocab / spec.vocabSize / tp;
    } else if (tensor.kind === "router" || POSITION_EMBEDDING.test(tensor.name) || REPLICATED_LINEAR.test(tensor.name) || (tensor.kind === "vector" && !tensor.name.endsWith(".bias"))) {
      share = 1;
      replicated = true;
    } else if (replicatesKv && KV_PROJECTION.test(tensor.name)) {
      share = 1 / kvHeads;
      replicated = true;
    } else if (replicatesKv && FUSED_QKV.test(tensor.name)) {
      const heads = spec.numAttentionHeads;
      share = (heads / tp + 2) / (heads + 2 * kvHeads);
    } else {
      share = 1 / tp;
    }
    const onRank = Math.ceil(tensor.bytes * share);
    bytes += onRank;
    if (replicated && tp > 1) replicatedBytes += onRank;
  }
  if (replicatesKv) notes.push(`${kvHeads} KV heads on ${tp} ranks: each rank loads one KV head's k/v projections (each head replicated ${tp / kvHeads}×)`);
  const ropeCacheBytes = spec.rotaryDim > 0 && spec.maxContext !== undefined ? spec.maxContext * spec.rotaryDim * dtypeBytes : 0;
  return { bytes: bytes + ropeCacheBytes, modelBytes, vocabPaddingBytes, replicatedBytes, ropeCacheBytes, embeddingBytes, notes };
}

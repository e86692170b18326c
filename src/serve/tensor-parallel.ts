import type { KvLayerGroup } from "../estimate/kv-cache.js";
import type { ModelSpec } from "../model/spec.js";

/**
 * The share of a KV group one GPU holds. Tensor parallelism (vLLM, SGLang) splits KV heads; with
 * more ranks than KV heads each keeps one (get_num_kv_heads = max(1, n_kv // tp)); an MLA latent
 * is one vector shared by all heads, held whole by every rank; recurrent states split by heads.
 * llama.cpp splits layers instead, so each GPU holds its share of them.
 */
export function kvShare(group: KvLayerGroup, gpus: number, split: "heads" | "layers"): number {
  if (gpus <= 1) return 1;
  if (split === "layers" || group.kind === "state") return 1 / gpus;
  if (group.kind === "mla") return 1;
  const heads = group.kvHeads ?? 1;
  return Math.max(1, Math.floor(heads / gpus)) / heads;
}

/**
 * What vLLM and SGLang refuse at start-up for a tensor-parallel size: attention heads must divide
 * (ModelConfig.verify_with_parallel_config), and KV heads must divide the ranks or the ranks the
 * KV heads (QKVParallelLinear: divide(total_num_kv_heads, tp) or divide(tp, total_num_kv_heads)).
 */
export function tensorParallelRefusal(spec: ModelSpec, tp: number): string | null {
  if (tp <= 1 || spec.numAttentionHeads === 0) return null;
  if (spec.numAttentionHeads % tp !== 0) {
    return `Total number of attention heads (${spec.numAttentionHeads}) must be divisible by tensor parallel size (${tp}).`;
  }
  const kvHeads = spec.numKeyValueHeads;
  if (!spec.mla && kvHeads > 0 && kvHeads % tp !== 0 && tp % kvHeads !== 0) {
    return `${Math.max(kvHeads, tp)} is not divisible by ${Math.min(kvHeads, tp)}: ${kvHeads} KV heads cannot be split over, or replicated across, ${tp} tensor-parallel ranks (QKVParallelLinear)`;
  }
  return null;
}

/** What tensor parallelism does to the KV cache per GPU, when it is not simply 1/tp. */
export function kvSplitNote(spec: ModelSpec, tp: number): string | null {
  if (tp <= 1) return null;
  if (spec.mla) return `the MLA latent is shared by all heads, so every one of the ${tp} ranks holds all of it: KV per GPU does not shrink with tensor parallelism`;
  const heads = spec.numKeyValueHeads;
  if (heads > 0 && tp > heads) {
    return `${heads} KV heads on ${tp} ranks: each rank keeps 1 KV head (each head replicated ${tp / heads}×), so the KV cache per GPU is 1/${heads} of the model's, not 1/${tp} (get_num_kv_heads = max(1, n_kv // tp))`;
  }
  return null;
}

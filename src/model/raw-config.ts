/**
 * The shape of `config.json` as it arrives: snake_case, every field optional, types unchecked.
 * Readers here are the only place a config field is looked up; each takes the list of names the
 * field goes by across families, in the order the engines prefer them.
 */

import { UnsupportedModelError } from "../errors.js";

export type RawConfig = Readonly<Record<string, unknown>>;

export function isRawConfig(value: unknown): value is RawConfig {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface FieldHit<T> {
  field: string;
  value: T;
}

/**
 * Bounds on the counts that size per-layer and per-expert work, far above any published model
 * (the largest have ~128 layers, 256 experts, 262,144-token vocabularies): past them a config is
 * corrupt or hostile, and planning it would allocate without end.
 */
const COUNT_LIMITS: ReadonlyArray<[readonly string[], number]> = [
  [["num_hidden_layers", "n_layer", "num_layers", "n_layers", "num_nextn_predict_layers", "mtp_num_hidden_layers", "depth", "vt_num_hidden_layers"], 10_000],
  [["num_attention_heads", "n_head", "num_heads", "n_heads", "n_head_kv", "num_kv_heads", "num_key_value_heads", "multi_query_group_num", "num_attention_groups"], 65_536],
  [["head_dim", "hidden_size_per_head", "v_head_dim", "qk_nope_head_dim", "qk_rope_head_dim", "kv_lora_rank", "q_lora_rank"], 65_536],
  [["hidden_size", "n_embd", "d_model", "model_dim", "vt_hidden_size", "text_hidden_size", "out_hidden_size"], 1_048_576],
  [["intermediate_size", "vt_intermediate_size", "moe_intermediate_size", "ffn_hidden_size"], 16_777_216],
  [["init_pos_emb_height", "init_pos_emb_width", "image_size", "patch_size", "num_position_embeddings"], 1_048_576],
  [["vocab_size", "padded_vocab_size"], 16_777_216],
  [["num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts", "num_experts_per_tok", "experts_per_token", "moe_top_k"], 65_536],
];
const LIMIT_OF = new Map<string, number>(COUNT_LIMITS.flatMap(([names, limit]) => names.map((name) => [name, limit] as [string, number])));

/** The first of `names` holding a positive integer; one past its field's bound is refused, naming it. */
export function readPositiveInt(config: RawConfig, names: readonly string[]): FieldHit<number> | undefined {
  for (const field of names) {
    const value = config[field];
    if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) {
      checkBound(field, value);
      return { field, value };
    }
  }
  return undefined;
}

/**
 * As readPositiveInt, for fields whose absence has a meaning (no num_key_value_heads: one per
 * attention head): a value that is present but not a positive whole number ("8", -1, 12.5, 0) is
 * refused, naming it, rather than read as absent, which would silently change the KV cache.
 */
export function readPositiveIntStrict(config: RawConfig, names: readonly string[]): FieldHit<number> | undefined {
  const hit = readPositiveInt(config, names);
  if (hit) return hit;
  const present = names.find((name) => config[name] !== undefined && config[name] !== null);
  if (present) {
    throw new UnsupportedModelError(`config.json has ${present} = ${JSON.stringify(config[present])}, which is not a positive whole number: fix that field (vramplan needs it to size the KV cache)`, present);
  }
  return undefined;
}

export function checkBound(field: string, value: number): void {
  const limit = LIMIT_OF.get(field);
  if (limit !== undefined && value > limit) {
    throw new UnsupportedModelError(`config.json has ${field} = ${value}, more than any model has (vramplan reads up to ${limit}): the config is corrupt`, field);
  }
}

export function readBoolean(config: RawConfig, name: string): boolean | undefined {
  const value = config[name];
  return typeof value === "boolean" ? value : undefined;
}

export function readString(config: RawConfig, name: string): string | undefined {
  const value = config[name];
  return typeof value === "string" ? value : undefined;
}

export function readStringArray(config: RawConfig, name: string): string[] | undefined {
  const value = config[name];
  return Array.isArray(value) && value.every((item) => typeof item === "string") ? value : undefined;
}

export function readObject(config: RawConfig, name: string): RawConfig | undefined {
  const value = config[name];
  return isRawConfig(value) ? value : undefined;
}

/** Field names per concept, in the order vLLM's config convertor reads them. */
export const FIELD_NAMES = {
  hiddenSize: ["hidden_size", "n_embd", "d_model", "model_dim"],
  numLayers: ["num_hidden_layers", "n_layer", "num_layers", "n_layers"],
  numAttentionHeads: ["num_attention_heads", "n_head", "num_heads", "n_heads"],
  numKeyValueHeads: ["n_head_kv", "num_kv_heads", "num_key_value_heads", "multi_query_group_num", "num_attention_groups"],
  headDim: ["head_dim", "hidden_size_per_head"],
  intermediateSize: ["intermediate_size", "n_inner", "ffn_hidden_size", "ffn_dim"],
  vocabSize: ["vocab_size", "padded_vocab_size"],
  // vLLM `_get_and_verify_max_len` takes the smallest of these that is present.
  maxContext: [
    "max_position_embeddings",
    "n_positions",
    "max_seq_len",
    "seq_length",
    "max_sequence_length",
    "max_seq_length",
    "seq_len",
    "model_max_length",
  ],
} as const;

/**
 * The shape of `config.json` as it arrives: snake_case, every field optional, types unchecked.
 * Readers here are the only place a config field is looked up; each takes the list of names the
 * field goes by across families, in the order the engines prefer them.
 */

export type RawConfig = Readonly<Record<string, unknown>>;

export function isRawConfig(value: unknown): value is RawConfig {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export interface FieldHit<T> {
  field: string;
  value: T;
}

/** The first of `names` holding a positive integer. */
export function readPositiveInt(config: RawConfig, names: readonly string[]): FieldHit<number> | undefined {
  for (const field of names) {
    const value = config[field];
    if (typeof value === "number" && Number.isSafeInteger(value) && value > 0) return { field, value };
  }
  return undefined;
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

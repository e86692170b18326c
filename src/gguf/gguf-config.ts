import { UnsupportedModelError } from "../errors.js";
import type { RawConfig } from "../model/raw-config.js";
import type { GgufFileHeader, GgufMetadataValue } from "./gguf-header.js";

/**
 * The one place GGUF metadata is read: `<arch>.*` keys (llama.cpp's LLM_KV names) translated into
 * the config.json fields the rest of vramplan derives a model from, so a GGUF file gets the same
 * layer kinds, windows and KV arithmetic as its safetensors twin.
 */
const MODEL_TYPES: Record<string, string> = {
  llama: "llama",
  mistral3: "mistral",
  qwen2: "qwen2",
  qwen2moe: "qwen2_moe",
  qwen3: "qwen3",
  qwen3moe: "qwen3_moe",
  gemma: "gemma",
  gemma2: "gemma2",
  gemma3: "gemma3_text",
  phi3: "phi3",
  gpt2: "gpt2",
  gptneox: "gpt_neox",
  falcon: "falcon",
  deepseek2: "deepseek_v3",
  "gpt-oss": "gpt_oss",
  llama4: "llama4_text",
  qwen3next: "qwen3_next",
  qwen35: "qwen3_5_text",
  qwen35moe: "qwen3_5_moe_text",
};

const GATED_DELTA_NET = new Set(["qwen3next", "qwen35", "qwen35moe"]);

export interface GgufModelConfig {
  architecture: string;
  config: RawConfig;
  /** Fields the metadata did not state, and what was assumed. */
  assumed: string[];
}

function numberOf(value: GgufMetadataValue | undefined): number | undefined {
  if (typeof value === "number") return value;
  // Per-layer arrays (head_count_kv on some models): the largest entry sizes the cache.
  if (Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "number")) return Math.max(...(value as number[]));
  return undefined;
}

export function ggufModelConfig(header: GgufFileHeader): GgufModelConfig {
  const meta = header.metadata;
  const architecture = meta["general.architecture"];
  if (typeof architecture !== "string") throw new UnsupportedModelError(`${header.path}: GGUF metadata has no general.architecture`, "general.architecture");
  const key = (name: string) => numberOf(meta[`${architecture}.${name}`]);
  const assumed: string[] = [];
  const tensorNames = new Set(header.tensors.map((tensor) => tensor.name));
  const tokenEmbedding = header.tensors.find((tensor) => tensor.name === "token_embd.weight");
  const vocab = (meta["tokenizer.ggml.tokens"] as { arrayLength?: number } | undefined)?.arrayLength ?? key("vocab_size") ?? tokenEmbedding?.shape[1];

  const config: Record<string, unknown> = { model_type: MODEL_TYPES[architecture] ?? architecture, tie_word_embeddings: !tensorNames.has("output.weight") };
  const set = (field: string, value: number | undefined) => {
    if (value !== undefined) config[field] = value;
  };
  set("num_hidden_layers", key("block_count"));
  set("hidden_size", key("embedding_length"));
  set("intermediate_size", key("feed_forward_length"));
  set("num_attention_heads", key("attention.head_count"));
  set("num_key_value_heads", key("attention.head_count_kv"));
  set("head_dim", key("attention.key_length"));
  set("max_position_embeddings", key("context_length"));
  set("sliding_window", key("attention.sliding_window"));
  set("sliding_window_pattern", key("attention.sliding_window_pattern"));
  set("vocab_size", vocab);
  // Experts under every name the families read.
  for (const field of ["num_local_experts", "num_experts", "n_routed_experts"]) set(field, key("expert_count"));
  set("num_experts_per_tok", key("expert_used_count"));
  set("moe_intermediate_size", key("expert_feed_forward_length"));
  set("n_shared_experts", key("expert_shared_count"));
  set("first_k_dense_replace", key("leading_dense_block_count"));
  // Multi-head latent attention (deepseek2).
  const kvLoraRank = key("attention.kv_lora_rank");
  if (kvLoraRank !== undefined) {
    const rope = key("rope.dimension_count") ?? 64;
    set("kv_lora_rank", kvLoraRank);
    set("q_lora_rank", key("attention.q_lora_rank"));
    set("qk_rope_head_dim", rope);
    set("qk_nope_head_dim", (key("attention.key_length") ?? rope + 128) - rope);
    set("v_head_dim", key("attention.value_length"));
  }
  set("shared_expert_intermediate_size", key("expert_shared_feed_forward_length"));
  // Gated delta-net layers (qwen3next, qwen35): llama.cpp's ssm.* keys, as llama-model.cpp loads
  // them (ssm_n_group key heads of ssm_d_state, ssm_dt_rank value heads sharing ssm_d_inner).
  const valueHeads = key("ssm.time_step_rank");
  const inner = key("ssm.inner_size");
  if (GATED_DELTA_NET.has(architecture) && valueHeads !== undefined && inner !== undefined) {
    set("linear_num_key_heads", key("ssm.group_count"));
    set("linear_key_head_dim", key("ssm.state_size"));
    set("linear_num_value_heads", valueHeads);
    set("linear_value_head_dim", inner / valueHeads);
    set("linear_conv_kernel_dim", key("ssm.conv_kernel"));
    set("full_attention_interval", key("full_attention_interval"));
    // A converted GGUF leaves the MTP layer out unless it says it kept one.
    config["mtp_num_hidden_layers"] = key("nextn_predict_layers") ?? 0;
  }
  if (config["num_key_value_heads"] === undefined && config["num_attention_heads"] !== undefined) {
    config["num_key_value_heads"] = config["num_attention_heads"];
    assumed.push(`${architecture}.attention.head_count_kv: absent, assumed equal to head_count (no GQA)`);
  }
  if (!(architecture in MODEL_TYPES)) assumed.push(`architecture ${architecture}: not one vramplan maps to a transformers family; sized from the generic fields`);
  return { architecture, config: config as RawConfig, assumed };
}

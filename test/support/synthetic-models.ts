import type { MockModel, MockTensor } from "./mock-hub.js";

/**
 * Models at scales the fixtures do not reach, for the 160-shard test and the benchmarks. Shapes
 * follow the published layout of DeepSeek-V3 (modeling_deepseek.py: MLA projections, 3 dense
 * layers then 256 routed + 1 shared expert, fp8 weights with 128×128 block scales); the sizes are
 * exact for that layout, but this is a load test, not a conformance fixture.
 */
const BYTES: Record<string, number> = { F8_E4M3: 1, BF16: 2, F32: 4 };

function tensor(name: string, dtype: string, shape: number[]): MockTensor {
  return { name, dtype, shape, bytes: shape.reduce((product, dim) => product * dim, 1) * (BYTES[dtype] as number) };
}

/** An fp8 weight and its block-scale tensor, as DeepSeek-V3 stores every linear layer. */
function fp8Linear(name: string, out: number, inner: number): MockTensor[] {
  return [tensor(`${name}.weight`, "F8_E4M3", [out, inner]), tensor(`${name}.weight_scale_inv`, "F32", [Math.ceil(out / 128), Math.ceil(inner / 128)])];
}

/**
 * `config`: DeepSeek-V3's config.json (the built-in fixture's). With `mtp`, the checkpoint also
 * holds the multi-token-prediction module as layer num_hidden_layers, as DeepSeek-V3's does: a MoE
 * layer plus enorm, hnorm, eh_proj and its own embedding and head copies.
 */
export function deepSeekScaleModel(config: object, shardCount = 160, options: { mtp?: boolean } = {}): MockModel {
  const c = config as Record<string, number>;
  const hidden = c["hidden_size"] as number;
  const vocab = c["vocab_size"] as number;
  const heads = c["num_attention_heads"] as number;
  const qkHead = (c["qk_nope_head_dim"] as number) + (c["qk_rope_head_dim"] as number);
  const layers = c["num_hidden_layers"] as number;
  const tensors: MockTensor[] = [tensor("model.embed_tokens.weight", "BF16", [vocab, hidden])];
  const layer = (index: number) => {
    const p = `model.layers.${index}`;
    tensors.push(
      tensor(`${p}.input_layernorm.weight`, "BF16", [hidden]),
      tensor(`${p}.post_attention_layernorm.weight`, "BF16", [hidden]),
      ...fp8Linear(`${p}.self_attn.q_a_proj`, c["q_lora_rank"] as number, hidden),
      tensor(`${p}.self_attn.q_a_layernorm.weight`, "BF16", [c["q_lora_rank"] as number]),
      ...fp8Linear(`${p}.self_attn.q_b_proj`, heads * qkHead, c["q_lora_rank"] as number),
      ...fp8Linear(`${p}.self_attn.kv_a_proj_with_mqa`, (c["kv_lora_rank"] as number) + (c["qk_rope_head_dim"] as number), hidden),
      tensor(`${p}.self_attn.kv_a_layernorm.weight`, "BF16", [c["kv_lora_rank"] as number]),
      ...fp8Linear(`${p}.self_attn.kv_b_proj`, heads * ((c["qk_nope_head_dim"] as number) + (c["v_head_dim"] as number)), c["kv_lora_rank"] as number),
      ...fp8Linear(`${p}.self_attn.o_proj`, hidden, heads * (c["v_head_dim"] as number)),
    );
    const mlp = (prefix: string, intermediate: number) => [
      ...fp8Linear(`${prefix}.gate_proj`, intermediate, hidden),
      ...fp8Linear(`${prefix}.up_proj`, intermediate, hidden),
      ...fp8Linear(`${prefix}.down_proj`, hidden, intermediate),
    ];
    if (index < (c["first_k_dense_replace"] as number)) {
      tensors.push(...mlp(`${p}.mlp`, c["intermediate_size"] as number));
    } else {
      tensors.push(tensor(`${p}.mlp.gate.weight`, "BF16", [c["n_routed_experts"] as number, hidden]), tensor(`${p}.mlp.gate.e_score_correction_bias`, "F32", [c["n_routed_experts"] as number]));
      for (let expert = 0; expert < (c["n_routed_experts"] as number); expert++) tensors.push(...mlp(`${p}.mlp.experts.${expert}`, c["moe_intermediate_size"] as number));
      tensors.push(...mlp(`${p}.mlp.shared_experts`, c["moe_intermediate_size"] as number));
    }
  };
  for (let index = 0; index < layers; index++) layer(index);
  tensors.push(tensor("model.norm.weight", "BF16", [hidden]), tensor("lm_head.weight", "BF16", [vocab, hidden]));
  if (options.mtp) {
    layer(layers);
    const p = `model.layers.${layers}`;
    tensors.push(
      tensor(`${p}.enorm.weight`, "BF16", [hidden]),
      tensor(`${p}.hnorm.weight`, "BF16", [hidden]),
      tensor(`${p}.eh_proj.weight`, "BF16", [hidden, 2 * hidden]),
      tensor(`${p}.embed_tokens.weight`, "BF16", [vocab, hidden]),
      tensor(`${p}.shared_head.norm.weight`, "BF16", [hidden]),
      tensor(`${p}.shared_head.head.weight`, "BF16", [vocab, hidden]),
    );
  }
  return { config, files: shardTensors(tensors, shardCount) };
}

/** Tensors in order over `shardCount` files named as transformers names them. */
function shardTensors(tensors: MockTensor[], shardCount: number): { path: string; tensors: MockTensor[] }[] {
  const boundary = (index: number) => Math.floor((index * tensors.length) / shardCount);
  return Array.from({ length: shardCount }, (_, index) => ({
    path: `model-${String(index + 1).padStart(5, "0")}-of-${String(shardCount).padStart(5, "0")}.safetensors`,
    tensors: tensors.slice(boundary(index), boundary(index + 1)),
  }));
}

/** `count` distinct repos, each a copy of one of `bases` (round robin). */
export function manyModels(prefix: string, count: number, bases: readonly MockModel[]): Record<string, MockModel> {
  const models: Record<string, MockModel> = {};
  for (let index = 0; index < count; index++) models[`${prefix}/model-${String(index).padStart(4, "0")}`] = bases[index % bases.length] as MockModel;
  return models;
}

/**
 * meta-llama/Llama-3.1-405B's published config.json (the fields a dense Llama's shapes follow), and
 * its checkpoint's layout: 191 bf16 shards, untied embeddings. The shapes add up to the
 * 405,853,388,800 parameters the Hub's model page shows for it.
 */
export const LLAMA_405B_CONFIG = {
  architectures: ["LlamaForCausalLM"],
  model_type: "llama",
  hidden_size: 16384,
  intermediate_size: 53248,
  num_hidden_layers: 126,
  num_attention_heads: 128,
  num_key_value_heads: 8,
  head_dim: 128,
  vocab_size: 128256,
  max_position_embeddings: 131072,
  rms_norm_eps: 1e-5,
  rope_theta: 500000,
  rope_scaling: { factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 8192, rope_type: "llama3" },
  tie_word_embeddings: false,
  torch_dtype: "bfloat16",
};

export function llamaScaleModel(config: typeof LLAMA_405B_CONFIG = LLAMA_405B_CONFIG, shardCount = 191): MockModel {
  const { hidden_size: hidden, intermediate_size: intermediate, num_attention_heads: heads, num_key_value_heads: kvHeads, head_dim: headDim, vocab_size: vocab } = config;
  const tensors: MockTensor[] = [tensor("model.embed_tokens.weight", "BF16", [vocab, hidden])];
  for (let layer = 0; layer < config.num_hidden_layers; layer++) {
    const p = `model.layers.${layer}`;
    tensors.push(
      tensor(`${p}.input_layernorm.weight`, "BF16", [hidden]),
      tensor(`${p}.self_attn.q_proj.weight`, "BF16", [heads * headDim, hidden]),
      tensor(`${p}.self_attn.k_proj.weight`, "BF16", [kvHeads * headDim, hidden]),
      tensor(`${p}.self_attn.v_proj.weight`, "BF16", [kvHeads * headDim, hidden]),
      tensor(`${p}.self_attn.o_proj.weight`, "BF16", [hidden, heads * headDim]),
      tensor(`${p}.post_attention_layernorm.weight`, "BF16", [hidden]),
      tensor(`${p}.mlp.gate_proj.weight`, "BF16", [intermediate, hidden]),
      tensor(`${p}.mlp.up_proj.weight`, "BF16", [intermediate, hidden]),
      tensor(`${p}.mlp.down_proj.weight`, "BF16", [hidden, intermediate]),
    );
  }
  tensors.push(tensor("model.norm.weight", "BF16", [hidden]), tensor("lm_head.weight", "BF16", [vocab, hidden]));
  return { config, files: shardTensors(tensors, shardCount) };
}

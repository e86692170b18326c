import { describe, expect, it } from "vitest";
import { isVramplanError } from "../../src/errors.js";
import { configParameters } from "../../src/estimate/config-parameters.js";
import { estimateKvCache } from "../../src/estimate/kv-cache.js";
import { deriveModelSpec } from "../../src/model/derive.js";
import type { RawConfig } from "../../src/model/raw-config.js";
import { fixtureConfig } from "../support/fixtures.js";
import { planLoadedModel } from "../../src/plan.js";
import { loraAdapters } from "../../src/train/lora.js";
import { weightKindOf } from "../../src/estimate/weight-inventory.js";

const kv = (config: RawConfig, context: number, bytesPerElement = 2) =>
  estimateKvCache(deriveModelSpec(config), { context, sequences: 1, bytesPerElement });
const params = (config: RawConfig) => {
  const counted = configParameters(deriveModelSpec(config));
  if (!counted) throw new Error("no config-derived count");
  return counted;
};
const within = (actual: number, published: number, fraction: number) => expect(Math.abs(actual - published) / published).toBeLessThan(fraction);

describe("mixture of experts: total and active parameters", () => {
  it("Mixtral-8x7B: 46.7 B total, 12.9 B active (Mistral's announcement)", () => {
    const counted = params(fixtureConfig("mistralai/Mixtral-8x7B-v0.1"));
    // By hand: embeddings + head 2 × 32,000 × 4,096 = 262,144,000; per layer attention
    // 2·4096² + 2·4096·1024 = 41,943,040, router 4,096 × 8 = 32,768, norms 8,192, experts
    // 8 × 3 × 4,096 × 14,336 = 1,409,286,144; 32 layers; final norm 4,096.
    const perLayerAlways = 41_943_040 + 32_768 + 8_192;
    const expert = 3 * 4096 * 14336;
    expect(counted.total).toBe(262_144_000 + 32 * (perLayerAlways + 8 * expert) + 4096);
    expect(counted.active).toBe(262_144_000 + 32 * (perLayerAlways + 2 * expert) + 4096);
    within(counted.total, 46.7e9, 0.001);
    within(counted.active, 12.9e9, 0.002);
  });

  it("Qwen3-30B-A3B: 30.5 B total, 3.3 B active (Qwen3 model card)", () => {
    const counted = params(fixtureConfig("Qwen/Qwen3-30B-A3B"));
    within(counted.total, 30.5e9, 0.002);
    within(counted.active, 3.3e9, 0.02);
    // By hand, active: embeddings + head 2 × 151,936 × 2,048 = 622,329,856; per layer attention
    // 2·2048·4096 + 2·2048·512 + 2·128 = 18,874,624, router 262,144, norms 4,096, 8 experts
    // × 3 × 2,048 × 768 = 37,748,736; 48 layers; final norm 2,048.
    expect(counted.active).toBe(622_329_856 + 48 * (18_874_624 + 262_144 + 4_096 + 37_748_736) + 2048);
  });

  it("DeepSeek-V3: 671 B total, 37 B active; first three layers dense, shared expert on the rest", () => {
    const config = fixtureConfig("deepseek-ai/DeepSeek-V3");
    const spec = deriveModelSpec(config);
    expect(spec.layers.slice(0, 4).map((layer) => layer.mlp)).toEqual(["dense", "dense", "dense", "moe"]);
    const counted = params(config);
    // By hand (formulas.md MLA and MoE terms): MLA per layer q 7,168·1,536 + 1,536 + 1,536·128·192,
    // kv 7,168·576 + 512 + 512·128·256, o 128·128·7,168 = 187,107,328; norms 14,336; dense MLP
    // 3·7,168·18,432; expert 3·7,168·2,048 = 44,040,192; router 7,168·256 + 256 bias.
    const mla = 7168 * 1536 + 1536 + 1536 * 128 * 192 + (7168 * 576 + 512 + 512 * 128 * 256) + 128 * 128 * 7168;
    expect(mla).toBe(187_107_328);
    const expert = 3 * 7168 * 2048;
    const always = 2 * 129_280 * 7168 + 7168 + 61 * (mla + 2 * 7168) + 3 * (3 * 7168 * 18432) + 58 * (expert + 7168 * 256 + 256);
    expect(counted.total).toBe(always + 58 * 256 * expert);
    expect(counted.active).toBe(always + 58 * 8 * expert);
    within(counted.total, 671e9, 0.001);
    within(counted.active, 37e9, 0.02);
  });

  it("gpt-oss-20b: 20,914,757,184 parameters (huggingface.js's count of the checkpoint)", () => {
    expect(params(fixtureConfig("openai/gpt-oss-20b")).total).toBe(20_914_757_184);
  });

  it("Llama 4 Scout (text): 16 routed experts plus a shared one on every layer, 1 routed per token", () => {
    const counted = params(LLAMA4_SCOUT);
    // By hand: embeddings + head 2 × 202,048 × 5,120; per layer attention 2·5120² + 2·5120·1024,
    // experts 3·5,120·8,192 each (16 routed + 1 shared), router 5,120·16, norms 10,240.
    const expert = 3 * 5120 * 8192;
    const always = 2 * 202_048 * 5120 + 5120 + 48 * (2 * 5120 * 5120 + 2 * 5120 * 1024 + expert + 5120 * 16 + 10_240);
    expect(counted.total).toBe(always + 48 * 16 * expert);
    expect(counted.active).toBe(always + 48 * expert);
    // Meta: 17 B active (the text model; the 109 B total adds the vision encoder).
    within(counted.active, 17e9, 0.02);
  });
});

describe("multi-head latent attention caches the latent, not per-head K and V", () => {
  it("DeepSeek-V3: 61 layers × (512 + 64) × 2 B = 70,272 B per token in bf16", () => {
    const estimate = kv(fixtureConfig("deepseek-ai/DeepSeek-V3"), 32768);
    expect(estimate.bytesPerToken).toBe(61 * (512 + 64) * 2);
    expect(estimate.bytesPerToken).toBe(70_272);
    expect(estimate.bytes).toBe(70_272 * 32768);
    // Plain MHA would cache 128 heads × (128 nope + 64 rope + 128 v) per layer per token.
    expect(estimate.groups[0]?.expandedBytes).toBe(61 * 128 * (128 + 64 + 128) * 2 * 32768);
  });
});

describe("sliding-window and chunked layers hold at most their window", () => {
  it("Gemma 3 27B: 52 sliding layers capped at 1,024 tokens, 10 global layers, at 32k and 128k", () => {
    const perLayerToken = 2 * 16 * 128 * 2; // K and V × 16 KV heads × head_dim 128 × bf16
    for (const context of [32768, 131072]) {
      const estimate = kv(fixtureConfig("google/gemma-3-27b-it"), context);
      expect(estimate.bytes).toBe(52 * perLayerToken * 1024 + 10 * perLayerToken * context);
    }
    expect(kv(fixtureConfig("google/gemma-3-27b-it"), 32768).bytes).toBe(3_120_562_176);
  });

  it("gpt-oss-20b: 12 layers alternate onto 128-token windows, at 32k and 128k", () => {
    const perLayerToken = 2 * 8 * 64 * 2;
    for (const context of [32768, 131072]) {
      expect(kv(fixtureConfig("openai/gpt-oss-20b"), context).bytes).toBe(12 * perLayerToken * 128 + 12 * perLayerToken * context);
    }
    expect(kv(fixtureConfig("openai/gpt-oss-20b"), 32768).bytes).toBe(808_452_096);
  });

  it("Llama 4 Scout: 3 of every 4 layers attend in 8,192-token chunks, every 4th globally", () => {
    const spec = deriveModelSpec(LLAMA4_SCOUT);
    expect(spec.layers.slice(0, 4).map((layer) => layer.caches[0]?.kind)).toEqual(["chunked", "chunked", "chunked", "full"]);
    const perLayerToken = 2 * 8 * 128 * 2;
    expect(kv(LLAMA4_SCOUT, 131072).bytes).toBe(36 * perLayerToken * 8192 + 12 * perLayerToken * 131072);
    expect(kv(LLAMA4_SCOUT, 4096).bytes).toBe(48 * perLayerToken * 4096);
  });
});

describe("hybrid and state-space models: a constant state per sequence, KV only where they attend", () => {
  it("Qwen3-Next-80B-A3B: 36 gated delta-net layers of 1,097,728 B each, 12 attention layers", () => {
    // engines.md §1.7 worked example: conv 8,192 × 3 + SSM 32 × 128 × 128 = 548,864 elements.
    const estimate = kv(QWEN3_NEXT, 32768);
    const state = estimate.groups.find((group) => group.kind === "state");
    expect(state?.layers).toBe(36);
    expect(state?.bytesPerSequencePerLayer).toBe((8192 * 3 + 32 * 128 * 128) * 2);
    expect(state?.bytesPerSequencePerLayer).toBe(1_097_728);
    expect(estimate.attentionBytes).toBe(12 * 2 * 2 * 256 * 2 * 32768);
    expect(estimate.stateBytes).toBe(36 * 1_097_728);
    // The state does not grow with context.
    expect(kv(QWEN3_NEXT, 1024).stateBytes).toBe(estimate.stateBytes);
  });

  it("Jamba-v0.1: 52 B total, 12 B active (AI21), from Mamba mixers, attention, dense and MoE MLPs", () => {
    const counted = params(JAMBA);
    // By hand: mixer (d_inner 8,192, dt_rank 256) in_proj 4,096 × 16,384, conv 8,192 × 4 + 8,192,
    // x_proj 8,192 × 288, dt_proj 256 × 8,192 + 8,192, A_log 8,192 × 16, D 8,192, out_proj
    // 8,192 × 4,096, dt/B/C norms 256 + 16 + 16; attention 2·4096² + 2·4096·1024; MLP 3·4,096·14,336.
    const mixer = 4096 * 16384 + (8192 * 4 + 8192) + 8192 * 288 + (256 * 8192 + 8192) + 8192 * 16 + 8192 + 8192 * 4096 + 288;
    const attention = 2 * 4096 * 4096 + 2 * 4096 * 1024;
    const mlp = 3 * 4096 * 14336;
    const always = 2 * 65536 * 4096 + 4 * attention + 28 * mixer + 16 * mlp + 16 * (4096 * 16) + 32 * 2 * 4096 + 4096;
    expect(counted.total).toBe(always + 16 * 16 * mlp);
    expect(counted.active).toBe(always + 16 * 2 * mlp);
    within(counted.total, 51.6e9, 0.002);
    within(counted.active, 12.1e9, 0.01);
  });

  it("Qwen3-Next-80B-A3B: 80 B total (Qwen), term by term", () => {
    const counted = params(QWEN3_NEXT);
    within(counted.total, 80e9, 0.01);
    // By hand: gated attention q 2,048 × 2 × 16 × 256, k and v 2,048 × 512, o 4,096 × 2,048, q/k
    // norms 2 × 256; gated delta-net in_proj_qkvz 2,048 × (2·16·128 + 2·32·128), in_proj_ba
    // 2,048 × 64, conv 8,192 × 4, dt_bias and A_log 2 × 32, norm 128, out_proj 4,096 × 2,048;
    // expert 3 × 2,048 × 512 (512 routed, 10 per token, one shared with a 2,048 gate), router 2,048 × 512.
    const attention = 2048 * 2 * 16 * 256 + 2 * 2048 * 512 + 4096 * 2048 + 512;
    const deltaNet = 2048 * 12288 + 2048 * 64 + 8192 * 4 + 64 + 128 + 4096 * 2048;
    const expert = 3 * 2048 * 512;
    const always = 2 * 151_936 * 2048 + 2048 + 12 * attention + 36 * deltaNet + 48 * (expert + 2048 + 2048 * 512 + 2 * 2048);
    expect(counted.total).toBe(always + 48 * 512 * expert);
    expect(counted.active).toBe(always + 48 * 10 * expert);
  });

  it("Jamba: attention on 1 layer in 8, Mamba state on the other 7", () => {
    const estimate = kv(JAMBA, 65536);
    // Mamba-1, d_inner = 2 × 4,096: conv 8,192 × (4 − 1), SSM 8,192 × 16, bf16.
    expect(estimate.stateBytes).toBe(28 * (8192 * 3 + 8192 * 16) * 2);
    expect(estimate.attentionBytes).toBe(4 * 2 * 8 * 128 * 2 * 65536);
    expect(deriveModelSpec(JAMBA).layers.filter((layer) => layer.mlp === "moe")).toHaveLength(16);
  });

  it("Falcon-H1: every layer has both a KV cache and a Mamba-2 state", () => {
    const estimate = kv(FALCON_H1, 8192);
    const state = estimate.groups.find((group) => group.kind === "state");
    // Mamba-2: conv (d_ssm 3,072 + 2 × 1 group × 256 state) × 3, SSM 24 heads × 128 × 256.
    expect(state?.bytesPerSequencePerLayer).toBe(((3072 + 2 * 256) * 3 + 24 * 128 * 256) * 2);
    expect(state?.layers).toBe(24);
    expect(estimate.attentionBytes).toBe(24 * 2 * 2 * 128 * 2 * 8192);
  });

  it("Mamba has no attention and no MLP: mamba-130m's 130 M parameters are its mixers", () => {
    const spec = deriveModelSpec(MAMBA);
    expect(spec.numAttentionHeads).toBe(0);
    // By hand, per layer (d_inner 1,536, dt_rank 48 = ⌈768/16⌉): in_proj 768 × 3,072, conv
    // 1,536 × 4 + 1,536, x_proj 1,536 × (48 + 32), dt_proj 48 × 1,536 + 1,536, A_log 1,536 × 16,
    // D 1,536, out_proj 1,536 × 768, norm 768; embeddings 50,280 × 768 (tied), final norm 768.
    const layer = 768 * 3072 + (1536 * 4 + 1536) + 1536 * 80 + (48 * 1536 + 1536) + 1536 * 16 + 1536 + 1536 * 768 + 768;
    expect(configParameters(spec)?.total).toBe(50_280 * 768 + 24 * layer + 768);
    within(configParameters(spec)?.total ?? 0, 129.1e6, 0.002);
    const estimate = kv(MAMBA, 100_000);
    expect(estimate.attentionBytes).toBe(0);
    // d_inner 1,536: conv 1,536 × 3, SSM 1,536 × 16, 24 layers, bf16.
    expect(estimate.stateBytes).toBe(24 * (1536 * 3 + 1536 * 16) * 2);
  });
});

describe("Qwen-1 (model_type qwen, QWenLMHeadModel)", () => {
  // Qwen/Qwen-7B's config.json: intermediate_size 22,016 is w1 and w2 together, each 11,008 wide.
  const qwen7b: RawConfig = { model_type: "qwen", architectures: ["QWenLMHeadModel"], hidden_size: 4096, intermediate_size: 22016, num_attention_heads: 32, num_hidden_layers: 32, kv_channels: 128, vocab_size: 151936, max_position_embeddings: 8192, seq_length: 8192, no_bias: true, tie_word_embeddings: false, bf16: true };

  it("Qwen-7B: 7,721,324,544 parameters, the MLP half as wide as intermediate_size, no guesses", () => {
    const spec = deriveModelSpec(qwen7b);
    expect(spec.family).toBe("qwen");
    expect(spec.guessed).toEqual([]);
    // By hand from modeling_qwen.py: wte and lm_head 2 × 151,936 × 4,096 = 1,244,659,712; per layer
    // c_attn 3 × 4,096² + 3 × 4,096 bias, attn.c_proj 4,096², w1 and w2 4,096 × 11,008 each,
    // mlp.c_proj 11,008 × 4,096, ln_1 and ln_2 4,096 each; ln_f 4,096.
    const perLayer = 3 * 4096 * 4096 + 3 * 4096 + 4096 * 4096 + 3 * 4096 * 11008 + 2 * 4096;
    expect(params(qwen7b).total).toBe(2 * 151936 * 4096 + 32 * perLayer + 4096);
    expect(params(qwen7b).total).toBe(7_721_324_544);
  });

  it("LoRA r = 8 on c_attn trains 0.0543% of Qwen-7B-Chat, as ms-swift printed it (modelscope/ms-agent issue #198)", () => {
    const lora = loraAdapters(deriveModelSpec(qwen7b), 8, ["c_attn"]);
    // 32 layers × 8 × (4,096 in + 12,288 out).
    expect(lora.parameters).toBe(32 * 8 * (4096 + 3 * 4096));
    expect(((100 * lora.parameters) / (lora.parameters + 7_721_324_544)).toFixed(4)).toBe("0.0543");
    // Qwen's own targets: c_proj is both attn.c_proj and mlp.c_proj, as PEFT matches names by suffix.
    expect(loraAdapters(deriveModelSpec(qwen7b), 8, ["c_attn", "c_proj", "w1", "w2"]).modules.map((module) => module.name)).toEqual(["c_attn", "c_proj", "w2", "w1", "mlp.c_proj"]);
  });

  it("Qwen-1.8B: 1.84 B (the figure ../shared's C04 quotes), and 32 heads of 128 cached per token", () => {
    const qwen18b: RawConfig = { ...qwen7b, hidden_size: 2048, intermediate_size: 11008, num_attention_heads: 16, num_hidden_layers: 24 };
    const perLayer = 3 * 2048 * 2048 + 3 * 2048 + 2048 * 2048 + 3 * 2048 * 5504 + 2 * 2048;
    expect(params(qwen18b).total).toBe(2 * 151936 * 2048 + 24 * perLayer + 2048);
    within(params(qwen18b).total, 1.84e9, 0.003);
    // Multi-head attention: 24 layers × 16 heads × 128 × 2 (K, V) × 2 B per token.
    expect(kv(qwen18b, 1).bytes).toBe(24 * 16 * 128 * 2 * 2);
  });
});

describe("ChatGLM and GLM-4 (chatglm, glm, glm4)", () => {
  // THUDM/chatglm3-6b's config.json (the fields that shape it).
  const chatglm3: RawConfig = { model_type: "chatglm", architectures: ["ChatGLMModel"], add_bias_linear: false, add_qkv_bias: true, ffn_hidden_size: 13696, hidden_size: 4096, kv_channels: 128, multi_query_attention: true, multi_query_group_num: 2, num_attention_heads: 32, num_layers: 28, padded_vocab_size: 65024, rmsnorm: true, seq_length: 8192, torch_dtype: "float16" };
  // By hand from modeling_chatglm.py, per layer: query_key_value 4,096 × (4,096 + 2 × 2 × 128) and
  // its 4,608 biases, dense 4,096², dense_h_to_4h 4,096 × 2 × 13,696, dense_4h_to_h 13,696 × 4,096,
  // two RMSNorms; embedding and output_layer V × 4,096 each; the final norm.
  const perLayer = 4096 * 4608 + 4608 + 4096 * 4096 + 4096 * 2 * 13696 + 13696 * 4096 + 2 * 4096;

  it("chatglm3-6b: 6,243,584,000 parameters, and 2 KV groups of 128 cached per token", () => {
    const spec = deriveModelSpec(chatglm3);
    expect(spec.guessed).toEqual([]);
    expect(params(chatglm3).total).toBe(2 * 65024 * 4096 + 28 * perLayer + 4096);
    expect(params(chatglm3).total).toBe(6_243_584_000);
    expect(kv(chatglm3, 1).bytes).toBe(28 * 2 * 128 * 2 * 2);
    // RoPE turns half of each head (rotary_dim = kv_channels / 2).
    expect(spec.rotaryDim).toBe(64);
    // Its checkpoint names the vocabulary head output_layer: kept whole by quantizers, padded by vLLM.
    expect(weightKindOf("transformer.output_layer.weight", 2)).toBe("lm_head");
    expect(weightKindOf("transformer.embedding.word_embeddings.weight", 2)).toBe("embedding");
  });

  it("glm-4-9b-chat in THUDM's format, and GLM-4-9B-0414 (glm4) with its two extra norms per layer", () => {
    const glm4Chat: RawConfig = { ...chatglm3, num_layers: 40, padded_vocab_size: 151552, seq_length: 131072 };
    expect(params(glm4Chat).total).toBe(2 * 151552 * 4096 + 40 * perLayer + 4096);
    const glm4: RawConfig = { model_type: "glm4", architectures: ["Glm4ForCausalLM"], attention_bias: true, head_dim: 128, hidden_size: 4096, intermediate_size: 13696, num_attention_heads: 32, num_hidden_layers: 40, num_key_value_heads: 2, partial_rotary_factor: 0.5, vocab_size: 151552, max_position_embeddings: 32768, tie_word_embeddings: false };
    expect(deriveModelSpec(glm4).guessed).toEqual([]);
    expect(params(glm4).total).toBe(2 * 151552 * 4096 + 40 * (perLayer + 2 * 4096) + 4096);
    const glm: RawConfig = { ...glm4, model_type: "glm", architectures: ["GlmForCausalLM"] };
    expect(params(glm).total).toBe(params(glm4Chat).total);
  });
});

describe("what vramplan refuses or flags", () => {
  it("refuses encoder–decoder models rather than print a wrong number", () => {
    let error: unknown;
    try {
      deriveModelSpec({ model_type: "t5", d_model: 512, num_layers: 6, num_heads: 8, vocab_size: 32128, is_encoder_decoder: true });
    } catch (caught) {
      error = caught;
    }
    expect(isVramplanError(error)).toBe(true);
    expect((error as Error).message).toMatch(/^t5 is an encoder–decoder model: .*refuses rather than print a wrong number$/);
  });

  it("an unknown MoE is read as Mixtral-shaped and says so", () => {
    const spec = deriveModelSpec({ model_type: "mystery_moe", hidden_size: 1024, num_hidden_layers: 4, num_attention_heads: 8, vocab_size: 1000, intermediate_size: 2048, num_local_experts: 4, num_experts_per_tok: 1 });
    expect(spec.moe?.experts).toBe(4);
    expect(spec.guessed.map((guess) => guess.field)).toContain("num_local_experts");
  });

  it("an unknown model with latent attention fields is flagged, never silently sized as MHA", () => {
    const spec = deriveModelSpec({ model_type: "mystery_mla", hidden_size: 1024, num_hidden_layers: 4, num_attention_heads: 8, vocab_size: 1000, intermediate_size: 2048, kv_lora_rank: 128 });
    expect(spec.guessed.map((guess) => guess.field)).toContain("kv_lora_rank");
  });
});

// Shapes as published (Llama-4-Scout-17B-16E text_config, Qwen3-Next-80B-A3B-Instruct, AI21
// Jamba-v0.1, Falcon-H1-1.5B-style, state-spaces mamba-130m-hf), trimmed to what sizing reads.
const LLAMA4_SCOUT: RawConfig = {
  model_type: "llama4",
  text_config: {
    model_type: "llama4_text",
    hidden_size: 5120,
    num_hidden_layers: 48,
    num_attention_heads: 40,
    num_key_value_heads: 8,
    head_dim: 128,
    intermediate_size: 8192,
    intermediate_size_mlp: 16384,
    num_local_experts: 16,
    num_experts_per_tok: 1,
    interleave_moe_layer_step: 1,
    attention_chunk_size: 8192,
    vocab_size: 202048,
    max_position_embeddings: 10485760,
    tie_word_embeddings: false,
  },
  vision_config: { model_type: "llama4_vision_model" },
  torch_dtype: "bfloat16",
};

const QWEN3_NEXT: RawConfig = {
  model_type: "qwen3_next",
  hidden_size: 2048,
  num_hidden_layers: 48,
  num_attention_heads: 16,
  num_key_value_heads: 2,
  head_dim: 256,
  intermediate_size: 5120,
  moe_intermediate_size: 512,
  shared_expert_intermediate_size: 512,
  num_experts: 512,
  num_experts_per_tok: 10,
  full_attention_interval: 4,
  linear_num_key_heads: 16,
  linear_num_value_heads: 32,
  linear_key_head_dim: 128,
  linear_value_head_dim: 128,
  linear_conv_kernel_dim: 4,
  vocab_size: 151936,
  max_position_embeddings: 262144,
  torch_dtype: "bfloat16",
};

const JAMBA: RawConfig = {
  model_type: "jamba",
  hidden_size: 4096,
  num_hidden_layers: 32,
  num_attention_heads: 32,
  num_key_value_heads: 8,
  intermediate_size: 14336,
  attn_layer_period: 8,
  attn_layer_offset: 4,
  expert_layer_period: 2,
  expert_layer_offset: 1,
  num_experts: 16,
  num_experts_per_tok: 2,
  mamba_expand: 2,
  mamba_d_state: 16,
  mamba_d_conv: 4,
  vocab_size: 65536,
  max_position_embeddings: 262144,
  torch_dtype: "bfloat16",
};

const FALCON_H1: RawConfig = {
  model_type: "falcon_h1",
  hidden_size: 1536,
  num_hidden_layers: 24,
  num_attention_heads: 8,
  num_key_value_heads: 2,
  head_dim: 128,
  intermediate_size: 4096,
  mamba_d_ssm: 3072,
  mamba_n_heads: 24,
  mamba_d_head: 128,
  mamba_n_groups: 1,
  mamba_d_state: 256,
  mamba_d_conv: 4,
  vocab_size: 65537,
  max_position_embeddings: 131072,
  torch_dtype: "bfloat16",
};

const MAMBA: RawConfig = {
  model_type: "mamba",
  hidden_size: 768,
  num_hidden_layers: 24,
  intermediate_size: 1536,
  state_size: 16,
  conv_kernel: 4,
  vocab_size: 50280,
  torch_dtype: "bfloat16",
};

describe("Nemotron-H (hybrid_override_pattern: one block per layer)", () => {
  // A small config in Nemotron-H's fields: 4 layers "M-*-" (a Mamba-2 mixer, an MLP, attention, an MLP).
  const config: RawConfig = {
    model_type: "nemotron_h",
    hidden_size: 64,
    num_hidden_layers: 4,
    hybrid_override_pattern: "M-*-",
    num_attention_heads: 4,
    num_key_value_heads: 2,
    head_dim: 16,
    intermediate_size: 256,
    mamba_num_heads: 4,
    mamba_head_dim: 32,
    n_groups: 2,
    ssm_state_size: 16,
    conv_kernel: 4,
    use_conv_bias: true,
    use_bias: false,
    vocab_size: 1000,
    tie_word_embeddings: false,
    torch_dtype: "bfloat16",
  };

  it("counts each block once and keeps a state only on M layers, K and V only on * layers", () => {
    const planned = planLoadedModel({ id: "acme/tiny-nemotron-h", revision: "main", commit: undefined, configSource: "builtin", config, manifest: undefined, manifestSource: undefined, notes: [] }, { context: 1000 });
    // By hand: embeddings and head 2 × 1,000 × 64; final norm 64; one RMSNorm per layer 4 × 64;
    // the mixer: in_proj 64 × (2·128 + 2·2·16 + 4) = 20,736, conv (128 + 64) × 4 + 192 bias = 960,
    // dt_bias, A_log, D 3 × 4, gated norm 128, out_proj 128 × 64 = 8,192 (30,028 in all);
    // two relu² MLPs 2 × (64 × 256 + 256 × 64) = 65,536; attention 64² + 2 × 64 × 32 + 64² = 12,288.
    expect(planned.weights.parameters).toBe(128_000 + 64 + 256 + 30_028 + 65_536 + 12_288);
    // KV: one attention layer × 2 × 2 heads × 16 × 2 B per token; state: conv (128 + 64) × 3 + ssm 4 × 32 × 16 values × 2 B.
    expect(planned.kvCache.attentionBytes).toBe(128 * 1000);
    expect(planned.kvCache.stateBytes).toBe((576 + 2048) * 2);
    expect(planned.warnings.filter((warning) => warning.code === "guessed-field")).toEqual([]);
  });

  it("a pattern it cannot read (MoE E layers, a wrong length) is refused by name", () => {
    expect(() => deriveModelSpec({ ...config, hybrid_override_pattern: "M-E-" })).toThrow(/hybrid_override_pattern of 4 layers made of M, \* and -/);
    expect(() => deriveModelSpec({ ...config, hybrid_override_pattern: "M-*" })).toThrow(/hybrid_override_pattern/);
  });
});

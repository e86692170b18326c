import { describe, expect, it } from "vitest";
import { estimateWeights } from "../../src/estimate/weights.js";
import { loadBuiltinModel } from "../../src/hub/builtin.js";
import type { TensorManifest } from "../../src/model/manifest.js";
import { deriveModelSpec } from "../../src/model/derive.js";
import type { RawConfig } from "../../src/model/raw-config.js";
import { fixtureConfig } from "../support/fixtures.js";

const BYTES: Record<string, number> = { BF16: 2, F16: 2, F32: 4, I32: 4, U8: 1, F8_E4M3: 1 };
const manifestOf = (tensors: [string, string, number[]][]): TensorManifest => ({
  files: [{ path: "model.safetensors", tensors: tensors.map(([name, dtype, shape]) => ({ name, dtype, shape, bytes: shape.reduce((a, b) => a * b, 1) * (BYTES[dtype] ?? 1) })) }],
});
const TINY: RawConfig = { model_type: "llama", hidden_size: 4096, num_hidden_layers: 1, num_attention_heads: 32, vocab_size: 8, intermediate_size: 4096, torch_dtype: "float16" };

describe("quantized checkpoints: exact bytes, logical parameters", () => {
  it("gpt-oss-20b (MXFP4): 13,761,264,768 B and 20,914,757,184 parameters", async () => {
    const builtin = await loadBuiltinModel("openai/gpt-oss-20b");
    const config = fixtureConfig("openai/gpt-oss-20b");
    const weights = estimateWeights(deriveModelSpec(config), builtin?.manifest, config);
    // total_size of the repo's index, and huggingface.js's parameter count of the same checkpoint
    // (MXFP4 blocks counted two per byte, their U8 scales excluded: 597,196,800 B of them).
    expect(weights.bytes).toBe(13_761_264_768);
    expect(weights.parameters).toBe(20_914_757_184);
    expect(weights.quantizationState.bytes).toBe(597_196_800);
    expect(weights.difference).toBe(0);
    // Active: 4 of 32 experts; the routed experts are 24 × 32 × (3 × 2,880 × 2,880 + 2 × 2,880 + 2,880).
    const routed = 24 * 32 * (3 * 2880 * 2880 + 3 * 2880);
    expect(weights.routedExperts?.parameters).toBe(routed);
    expect(weights.activeParameters).toBe(20_914_757_184 - routed + (routed * 4) / 32);
  });

  it("GPTQ 4-bit, group 128: qweight holds 8 weights per I32; qzeros, scales, g_idx are bookkeeping", () => {
    // One 4,096 × 4,096 linear as GPTQ stores it (vLLM gptq.py create_weights): qweight I32
    // [4096·4/32, 4096], qzeros I32 [4096/128, 4096·4/32], scales F16 [4096/128, 4096], g_idx I32 [4096].
    const manifest = manifestOf([
      ["model.layers.0.self_attn.q_proj.qweight", "I32", [512, 4096]],
      ["model.layers.0.self_attn.q_proj.qzeros", "I32", [32, 512]],
      ["model.layers.0.self_attn.q_proj.scales", "F16", [32, 4096]],
      ["model.layers.0.self_attn.q_proj.g_idx", "I32", [4096]],
      ["model.norm.weight", "F16", [4096]],
    ]);
    const config = { ...TINY, quantization_config: { quant_method: "gptq", bits: 4, group_size: 128 } };
    const weights = estimateWeights(deriveModelSpec(config), manifest, config);
    expect(weights.parameters).toBe(4096 * 4096 + 4096);
    expect(weights.bytes).toBe(512 * 4096 * 4 + 32 * 512 * 4 + 32 * 4096 * 2 + 4096 * 4 + 4096 * 2);
    expect(weights.quantizationState).toEqual({ tensors: 3, bytes: 32 * 512 * 4 + 32 * 4096 * 2 + 4096 * 4 });
  });

  it("bitsandbytes NF4: two weights per stored byte; absmax and lookup tables are bookkeeping", () => {
    const manifest = manifestOf([
      ["model.layers.0.mlp.up_proj.weight", "U8", [(4096 * 4096) / 2, 1]],
      ["model.layers.0.mlp.up_proj.weight.absmax", "U8", [(4096 * 4096) / 64]],
      ["model.layers.0.mlp.up_proj.weight.nested_absmax", "F32", [1024]],
      ["model.layers.0.mlp.up_proj.weight.quant_map", "F32", [16]],
      ["model.layers.0.mlp.up_proj.weight.quant_state.bitsandbytes__nf4", "U8", [120]],
    ]);
    const config = { ...TINY, quantization_config: { quant_method: "bitsandbytes", load_in_4bit: true, bnb_4bit_use_double_quant: true } };
    const weights = estimateWeights(deriveModelSpec(config), manifest, config);
    expect(weights.parameters).toBe(4096 * 4096);
    expect(weights.quantizationState.tensors).toBe(4);
  });

  it("DeepSeek-style FP8 blocks: weights one byte each, weight_scale_inv is bookkeeping", () => {
    const manifest = manifestOf([
      ["model.layers.0.mlp.down_proj.weight", "F8_E4M3", [4096, 4096]],
      ["model.layers.0.mlp.down_proj.weight_scale_inv", "F32", [32, 32]],
    ]);
    const config = { ...TINY, quantization_config: { quant_method: "fp8", weight_block_size: [128, 128] } };
    const weights = estimateWeights(deriveModelSpec(config), manifest, config);
    expect(weights.parameters).toBe(4096 * 4096);
    expect(weights.bytes).toBe(4096 * 4096 + 32 * 32 * 4);
  });
});

describe("components", () => {
  it("splits the vision tower and DeepSeek's multi-token-prediction layer from the language model", () => {
    const manifest = manifestOf([
      ["model.embed_tokens.weight", "BF16", [8, 4096]],
      ["model.layers.0.mlp.down_proj.weight", "BF16", [4096, 4096]],
      ["model.layers.1.eh_proj.weight", "BF16", [4096, 8192]],
      ["visual.blocks.0.attn.qkv.weight", "BF16", [3840, 1280]],
      ["multi_modal_projector.linear_1.weight", "BF16", [4096, 1280]],
    ]);
    const weights = estimateWeights(deriveModelSpec(TINY), manifest, TINY);
    const byName = Object.fromEntries(weights.components.map((component) => [component.name, component.parameters]));
    expect(byName).toEqual({
      "language model": 8 * 4096 + 4096 * 4096,
      "multi-token prediction": 4096 * 8192,
      "vision tower": 3840 * 1280 + 4096 * 1280,
    });
  });

  it("puts Qwen3-Next's and Qwen3.5's `mtp.` tensors in the multi-token-prediction module, not in the active parameters", () => {
    const manifest = manifestOf([
      ["model.embed_tokens.weight", "BF16", [8, 4096]],
      ["model.layers.0.mlp.down_proj.weight", "BF16", [4096, 4096]],
      ["mtp.fc.weight", "BF16", [4096, 8192]],
      ["mtp.layers.0.mlp.down_proj.weight", "BF16", [4096, 4096]],
      ["mtp.norm.weight", "BF16", [4096]],
    ]);
    const weights = estimateWeights(deriveModelSpec(TINY), manifest, TINY);
    const mtp = 4096 * 8192 + 4096 * 4096 + 4096;
    expect(weights.components.find((component) => component.name === "multi-token prediction")?.parameters).toBe(mtp);
    expect(weights.activeParameters).toBe(8 * 4096 + 4096 * 4096);
  });
});

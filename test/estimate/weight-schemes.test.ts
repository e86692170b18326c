import { describe, expect, it } from "vitest";
import { quantizationRules } from "../../src/estimate/tensor-roles.js";
import { loadBuiltinModel } from "../../src/hub/builtin.js";
import { deriveModelSpec } from "../../src/model/derive.js";
import { requantize, useMoreBits } from "../../src/estimate/requantize.js";
import { inventoryFromManifest, inventoryFromSpec } from "../../src/estimate/weight-inventory.js";
import { ggmlBytes, parseWeightScheme, quantizedMatrixBytes, storedScheme } from "../../src/estimate/weight-schemes.js";
import { fixtureConfig } from "../support/fixtures.js";
import { configParameters } from "../../src/estimate/config-parameters.js";

// One real layout: Llama-3.1-8B's mlp.down_proj, 4,096 outputs × 14,336 inputs (HF stores [out, in]).
const OUT = 4096;
const IN = 14336;
const DOWN = { elements: OUT * IN, rowLength: IN, matrices: 1 };

describe("every weight format, worked by hand on Llama-3.1-8B's down_proj (4,096 × 14,336)", () => {
  it("fp8 per tensor: one byte per weight and one fp32 scale (vLLM Fp8LinearMethod)", () => {
    expect(quantizedMatrixBytes({ kind: "fp8", name: "fp8" }, DOWN)).toBe(OUT * IN + 4);
  });

  it("fp8 in 128 × 128 blocks: one fp32 scale per block (DeepSeek-V3 weight_scale_inv)", () => {
    expect(quantizedMatrixBytes({ kind: "fp8", name: "fp8-block" }, DOWN)).toBe(OUT * IN + (4096 / 128) * (14336 / 128) * 4);
  });

  it("int8 per channel: an fp32 scale per output row (bitsandbytes LLM.int8 SCB)", () => {
    expect(quantizedMatrixBytes({ kind: "int8", name: "int8" }, DOWN)).toBe(OUT * IN + OUT * 4);
  });

  it("GPTQ/AWQ int4, group 128: qweight, packed zeros and fp16 scales (vLLM gptq.py shapes)", () => {
    // qweight I32 [14,336 × 4 / 32, 4,096], qzeros I32 [14,336 / 128, 4,096 × 4 / 32], scales F16 [14,336 / 128, 4,096]
    const qweight = ((IN * 4) / 32) * OUT * 4;
    const qzeros = (IN / 128) * ((OUT * 4) / 32) * 4;
    const scales = (IN / 128) * OUT * 2;
    expect(quantizedMatrixBytes({ kind: "int4", name: "int4", groupSize: 128 }, DOWN)).toBe(qweight + qzeros + scales);
    // ≈ 4.156 bits per weight: 4 + 16/128 + 4/128 (engines.md §3).
    expect((8 * (qweight + qzeros + scales)) / (OUT * IN)).toBeCloseTo(4 + 16 / 128 + 4 / 128, 10);
  });

  it("compressed-tensors pack-quantized int4: no zero points when symmetric, an int32 [2] weight_shape per tensor", () => {
    // A public dump of Kimi-K2.5's headers: mlp.experts.N.gate_proj.weight_packed [2048, 896] I32,
    // weight_scale [2048, 224] BF16, weight_shape [2] I32 (group 32 over 7,168 inputs).
    const gate = { elements: 2048 * 7168, rowLength: 7168, matrices: 1 };
    const symmetric = 2048 * 896 * 4 + 2048 * 224 * 2 + 2 * 4;
    expect(quantizedMatrixBytes({ kind: "int4", name: "int4", groupSize: 32, layout: "pack-quantized", symmetric: true }, gate)).toBe(symmetric);
    // Asymmetric adds weight_zero_point, packed eight per int32 down the rows: [2048 / 8, 224] I32.
    expect(quantizedMatrixBytes({ kind: "int4", name: "int4", groupSize: 32, layout: "pack-quantized", symmetric: false }, gate)).toBe(symmetric + (2048 / 8) * 224 * 4);
  });

  it("bitsandbytes NF4 with double quantization: 4.127 bits per weight plus two lookup tables (QLoRA)", () => {
    const blocks = (OUT * IN) / 64;
    const bytes = (OUT * IN) / 2 + blocks + Math.ceil(blocks / 256) * 4 + 16 * 4 + 256 * 4;
    expect(quantizedMatrixBytes({ kind: "nf4", name: "nf4" }, DOWN)).toBe(bytes);
    expect((8 * (bytes - 16 * 4 - 256 * 4)) / (OUT * IN)).toBeCloseTo(4 + 8 / 64 + 32 / (64 * 256), 10);
  });

  it("MXFP4: 32 e2m1 values and one E8M0 scale, 17 bytes per block (OCP MX; ggml block_mxfp4)", () => {
    expect(quantizedMatrixBytes({ kind: "mxfp4", name: "mxfp4" }, DOWN)).toBe(OUT * (IN / 32) * 17);
  });

  it("GGUF blocks (ggml-common.h): per row of 14,336 values, Q8_0 34 B per 32, Q4_0 18, Q5_0 22, K-quants per 256", () => {
    const rows = OUT;
    expect(ggmlBytes("Q8_0", DOWN)).toBe(rows * (IN / 32) * 34);
    expect(ggmlBytes("Q5_0", DOWN)).toBe(rows * (IN / 32) * 22);
    expect(ggmlBytes("Q4_0", DOWN)).toBe(rows * (IN / 32) * 18);
    expect(ggmlBytes("Q6_K", DOWN)).toBe(rows * (IN / 256) * 210);
    expect(ggmlBytes("Q5_K", DOWN)).toBe(rows * (IN / 256) * 176);
    expect(ggmlBytes("Q4_K", DOWN)).toBe(rows * (IN / 256) * 144);
    expect(ggmlBytes("Q3_K", DOWN)).toBe(rows * (IN / 256) * 110);
    expect(ggmlBytes("Q2_K", DOWN)).toBe(rows * (IN / 256) * 84);
  });
});

describe("whole models", () => {
  const llama = async () => {
    const builtin = await loadBuiltinModel("meta-llama/Llama-3.1-8B");
    const spec = deriveModelSpec(builtin?.config ?? {});
    return { spec, inventory: inventoryFromManifest(spec, builtin!.manifest!, quantizationRules(builtin!.config)) };
  };

  it("bf16 of a bf16 checkpoint is the checkpoint, and the config-only inventory agrees tensor for tensor", async () => {
    const { spec, inventory } = await llama();
    const fromHeaders = requantize(inventory, parseWeightScheme("bf16"), { numLayers: 32, moe: false });
    expect(fromHeaders.bytes).toBe(16_060_522_496);
    for (const name of ["fp8", "int4", "nf4", "Q4_K_M", "Q2_K"]) {
      const scheme = parseWeightScheme(name);
      expect(requantize(inventoryFromSpec(spec), scheme, { numLayers: 32, moe: false }).bytes, name).toBe(requantize(inventory, scheme, { numLayers: 32, moe: false }).bytes);
    }
  });

  it("GGUF mixes of Llama-3.1-8B land on llama.cpp's measured bits per weight (tools/quantize README)", async () => {
    const { inventory } = await llama();
    const bpw = (name: string) => {
      const result = requantize(inventory, parseWeightScheme(name), { numLayers: 32, moe: false });
      return (8 * result.bytes) / result.parameters;
    };
    const measured: [string, number, number][] = [
      ["Q8_0", 8.5, 0.002],
      ["Q6_K", 6.56, 0.002],
      ["Q5_K_M", 5.7, 0.002],
      ["Q4_K_M", 4.89, 0.002],
      ["Q2_K", 3.16, 0.01],
    ];
    for (const [name, published, tolerance] of measured) expect(Math.abs(bpw(name) - published) / published, name).toBeLessThan(tolerance);
  });

  it("Q4_K_M keeps output in Q6_K and raises attn_v and ffn_down to Q6_K on half the layers (use_more_bits)", async () => {
    // use_more_bits(i, 32): i < 4, i ≥ 28, or (i − 4) % 3 == 2 → 16 of 32 layers.
    expect(Array.from({ length: 32 }, (_, i) => i).filter((i) => useMoreBits(i, 32))).toEqual([0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31]);
    const { inventory } = await llama();
    const result = requantize(inventory, parseWeightScheme("Q4_K_M"), { numLayers: 32, moe: false });
    const rowBytes = (type: number, length: number) => (length / 256) * type;
    // Q6_K: lm_head 128,256 rows of 4,096, 16 attn_v (1,024 rows × 4,096), 16 ffn_down (4,096 rows × 14,336).
    expect(result.byType.Q6_K).toBe(128_256 * rowBytes(210, 4096) + 16 * 1024 * rowBytes(210, 4096) + 16 * 4096 * rowBytes(210, 14336));
    // Norms stay F32: (2 × 32 + 1) × 4,096 values.
    expect(result.byType.F32).toBe(65 * 4096 * 4);
  });

  it("MXFP4 on a MoE converts only the experts; int4 keeps the router in 16-bit, NF4 converts it", async () => {
    const builtin = await loadBuiltinModel("mistralai/Mixtral-8x7B-v0.1");
    const spec = deriveModelSpec(builtin!.config);
    const inventory = inventoryFromManifest(spec, builtin!.manifest!, quantizationRules(builtin!.config));
    const context = { numLayers: 32, moe: true };
    const experts = 32 * 8 * 3 * 4096 * 14336;
    const mxfp4 = requantize(inventory, parseWeightScheme("mxfp4"), context);
    expect(mxfp4.quantizedParameters).toBe(experts);
    const int4 = requantize(inventory, parseWeightScheme("int4"), context);
    const nf4 = requantize(inventory, parseWeightScheme("nf4"), context);
    expect(nf4.quantizedParameters - int4.quantizedParameters).toBe(32 * 8 * 4096); // the routers
  });

  it("an unknown format is a usage error naming the choices", () => {
    expect(() => parseWeightScheme("int3")).toThrow(/unknown weight format "int3": choose from bf16, fp16, fp32, fp8/);
  });
});

describe("config-only inventories", () => {
  it("hold each parameter once: DeepSeek-V3's fp32 router bias is its own tensor, out of the router and the 16-bit vectors", () => {
    const spec = deriveModelSpec(fixtureConfig("deepseek-ai/DeepSeek-V3"));
    const inventory = inventoryFromSpec(spec);
    const bias = inventory.filter((tensor) => tensor.keptInFp32);
    // 58 MoE layers (61 − first_k_dense_replace 3) × 256 experts.
    expect(bias.reduce((sum, tensor) => sum + tensor.elements, 0)).toBe(58 * 256);
    const router = inventory.find((tensor) => tensor.kind === "router");
    expect(router?.elements).toBe(7168 * 256);
    const bf16 = requantize(inventory, parseWeightScheme("bf16"), { numLayers: 61, moe: true });
    expect(bf16.parameters).toBe(configParameters(spec)?.total);
    // In bf16 everything is 2 B a value but the bias, 4 B.
    expect(bf16.bytes).toBe(2 * bf16.parameters + 2 * 58 * 256);
  });

  it("DeepSeek-V3 in fp8 blocks, from config alone, is close to its published 689 GB checkpoint (with MTP)", () => {
    const spec = deriveModelSpec(fixtureConfig("deepseek-ai/DeepSeek-V3"));
    const result = requantize(inventoryFromSpec(spec), parseWeightScheme("fp8-block"), { numLayers: 61, moe: true });
    // The published checkpoint (~689 GB) also holds the 14 B multi-token-prediction layer.
    expect(result.bytes / 1e9).toBeGreaterThan(660);
    expect(result.bytes / 1e9).toBeLessThan(689);
  });
});

describe("modules a checkpoint's quantization_config leaves unquantized", () => {
  const kimiIgnore = { quant_method: "compressed-tensors", format: "pack-quantized", config_groups: { group_0: { weights: { num_bits: 4, group_size: 32, type: "int", symmetric: true } } } };
  const storedOf = (quant: Record<string, unknown>) => storedScheme("bf16", quantizationRules({ quantization_config: quant }));

  it("compressed-tensors `ignore`: `re:` patterns match from the start, others the whole module path", () => {
    const scheme = storedOf({ ...kimiIgnore, ignore: ["lm_head", "re:.*self_attn.*", "re:.*shared_experts.*", "re:.*mlp\\.(gate|up|gate_up|down)_proj.*"] });
    const ignored = scheme.ignore;
    expect(ignored).toBeDefined();
    expect(["lm_head", "model.layers.3.self_attn.q_a_proj", "model.layers.3.mlp.shared_experts.up_proj", "model.layers.0.mlp.down_proj"].map((path) => ignored?.(path))).toEqual([true, true, true, true]);
    expect(["model.layers.3.mlp.experts.0.down_proj", "model.lm_head_extra", "model.layers.3.mlp.gate"].map((path) => ignored?.(path))).toEqual([false, false, false]);
  });

  it("a pattern that would backtrack exponentially, or does not compile, matches nothing; a float checkpoint has no filter", () => {
    const scheme = storedOf({ ...kimiIgnore, ignore: ["re:(a+)+$", "re:(?P<x>q)"] });
    expect(scheme.ignore).toBeUndefined();
    expect(storedScheme("bf16", quantizationRules({})).ignore).toBeUndefined();
  });

  it("config-only inventories name modules as the checkpoints do, so ignore patterns find them", () => {
    // Qwen3-Next keeps a singular mlp.shared_expert, DeepSeek-V3 a plural mlp.shared_experts, Mixtral
    // its experts under block_sparse_moe: an ignore list written against one family's names must
    // keep exactly those modules in 16 bits.
    const cases: [string, string, RegExp][] = [
      ["Qwen/Qwen3-Next-80B-A3B-Instruct", "re:.*mlp\\.shared_expert\\..*", /^model\.layers\.\d+\.mlp\.shared_expert\./],
      ["deepseek-ai/DeepSeek-V3", "re:.*mlp\\.shared_experts\\..*", /^model\.layers\.\d+\.mlp\.shared_experts\./],
      ["mistralai/Mixtral-8x7B-v0.1", "re:.*block_sparse_moe\\.experts.*", /^model\.layers\.\d+\.block_sparse_moe\.experts\./],
    ];
    for (const [id, pattern, kept] of cases) {
      const spec = deriveModelSpec(fixtureConfig(id));
      const inventory = inventoryFromSpec(spec);
      const scheme = storedOf({ ...kimiIgnore, ignore: [pattern] });
      const bytes = requantize(inventory, scheme, { numLayers: spec.numLayers, moe: spec.moe !== undefined }).tensorBytes;
      const matched = inventory.filter((tensor) => kept.test(tensor.name));
      expect(matched.length, id).toBeGreaterThan(0);
      inventory.forEach((tensor, index) => {
        if (kept.test(tensor.name)) expect(bytes[index], tensor.name).toBe(tensor.elements * 2);
        else if (tensor.kind === "expert" || (tensor.kind === "linear" && tensor.component === "language model" && tensor.name.startsWith("model.layers."))) expect(bytes[index], tensor.name).toBeLessThan(tensor.elements);
      });
    }
  });

  it("GPTQ/AWQ `modules_to_not_convert` match as substrings, as transformers does", () => {
    const scheme = storedOf({ quant_method: "awq", bits: 4, group_size: 128, modules_to_not_convert: ["visual", "mlp.gate"] });
    expect(["visual.blocks.0.attn.qkv", "model.layers.1.mlp.gate", "model.layers.1.self_attn.q_proj"].map((path) => scheme.ignore?.(path))).toEqual([true, true, false]);
  });
});


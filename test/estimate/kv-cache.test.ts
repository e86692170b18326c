import { describe, expect, it } from "vitest";
import { estimateKvCache } from "../../src/estimate/kv-cache.js";
import { deriveModelSpec } from "../../src/model/derive.js";
import { fixtureConfig } from "../support/fixtures.js";

const kv = (id: string, context: number, sequences = 1, bytesPerElement = 2) =>
  estimateKvCache(deriveModelSpec(fixtureConfig(id)), { context, sequences, bytesPerElement });

describe("KV cache, worked by hand from the published configs", () => {
  it("GQA: Qwen2.5-7B, 28 layers × 4 KV heads × 128 dims", () => {
    expect(kv("Qwen/Qwen2.5-7B", 32768).bytes).toBe(2 * 28 * 4 * 128 * 2 * 32768);
    expect(kv("Qwen/Qwen2.5-7B", 32768).bytesPerToken).toBe(2 * 28 * 4 * 128 * 2);
  });

  it("MHA: GPT-2, 12 layers × 12 heads × 64 dims, fp32 elements", () => {
    expect(kv("openai-community/gpt2", 1024, 1, 4).bytes).toBe(2 * 12 * 12 * 64 * 4 * 1024);
  });

  it("MQA: one KV head (Falcon-7B shape)", () => {
    const spec = deriveModelSpec({ model_type: "falcon", hidden_size: 4544, num_hidden_layers: 32, num_attention_heads: 71, multi_query: true, vocab_size: 65024 });
    expect(estimateKvCache(spec, { context: 2048, sequences: 1, bytesPerElement: 2 }).bytes).toBe(2 * 32 * 1 * 64 * 2 * 2048);
  });

  it("sequences multiply the cache", () => {
    expect(kv("meta-llama/Llama-3.1-8B", 8192, 4).bytes).toBe(4 * kv("meta-llama/Llama-3.1-8B", 8192, 1).bytes);
  });

  it("Mistral-7B-v0.1 slides every layer over 4,096 tokens: the cache stops growing there", () => {
    // 2 × 32 layers × 8 KV heads × 128 dims × 2 B × min(32,768, 4,096) = 536,870,912 (conformance value)
    expect(kv("mistralai/Mistral-7B-v0.1", 32768).bytes).toBe(2 * 32 * 8 * 128 * 2 * 4096);
    expect(kv("mistralai/Mistral-7B-v0.1", 32768).bytes).toBe(536_870_912);
    expect(kv("mistralai/Mistral-7B-v0.1", 2000).bytes).toBe(2 * 32 * 8 * 128 * 2 * 2000);
  });

  it("Gemma 2 (9B): 21 sliding layers capped at 4,096 and 21 full layers", () => {
    const perLayerToken = 2 * 8 * 256 * 2;
    const estimate = kv("google/gemma-2-9b", 8192);
    expect(estimate.bytes).toBe(21 * perLayerToken * 4096 + 21 * perLayerToken * 8192);
    expect(estimate.groups.map((group) => [group.kind, group.layers, group.tokensPerSequence])).toEqual([
      ["sliding", 21, 4096],
      ["full", 21, 8192],
    ]);
  });
});

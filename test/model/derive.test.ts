import { planLoadedModel } from "../../src/plan.js";
import { describe, expect, it } from "vitest";
import { isVramplanError } from "../../src/errors.js";
import { configParameters } from "../../src/estimate/config-parameters.js";
import { deriveModelSpec } from "../../src/model/derive.js";
import type { ModelSpec } from "../../src/model/spec.js";
import { fixtureConfig } from "../support/fixtures.js";

const kinds = (spec: ModelSpec) => spec.layers.map((layer) => layer.caches.map((cache) => cache.kind).join("+"));

describe("config-derived parameter counts of the built-in set equal the published counts", () => {
  // Each expected value is the model's published parameter count (Hugging Face model page
  // "Model size", i.e. the safetensors parameter total, or the conformance set's sources).
  const published: [string, number, string][] = [
    ["Qwen/Qwen2.5-0.5B", 494_032_768, "Qwen2.5-0.5B model page, 0.49B (494,032,768)"],
    ["Qwen/Qwen2.5-7B", 7_615_616_512, "index total_size 15,231,233,024 B / 2 (conformance sources)"],
    ["meta-llama/Llama-3.1-8B", 8_030_261_248, "huggingface.js parse-safetensors-metadata spec"],
    ["meta-llama/Llama-3.2-1B", 1_235_814_400, "Llama-3.2-1B model page, 1.24B (1,235,814,400)"],
    ["mistralai/Mistral-7B-v0.1", 7_241_732_096, "index total_size 14,483,464,192 B / 2"],
    ["google/gemma-2-9b", 9_241_705_984, "gemma-2-9b-it index total_size 18,483,411,968 B / 2 (bf16 twin)"],
    ["microsoft/Phi-3-mini-4k-instruct", 3_821_079_552, "Phi-3-mini-4k-instruct model page, 3.82B"],
    ["openai-community/gpt2", 124_439_808, "GPT-2 small, 124M (124,439,808 learned parameters)"],
  ];
  for (const [id, expected, source] of published) {
    it(`${id}: ${expected.toLocaleString("en-US")} (${source})`, () => {
      expect(configParameters(deriveModelSpec(fixtureConfig(id)))?.total).toBe(expected);
    });
  }
});

describe("field aliases and family rules", () => {
  it("reads GPT-2's n_embd / n_layer / n_head / n_positions and its 4× MLP", () => {
    const spec = deriveModelSpec(fixtureConfig("openai-community/gpt2"));
    expect(spec).toMatchObject({ hiddenSize: 768, numLayers: 12, numAttentionHeads: 12, numKeyValueHeads: 12, headDim: 64, intermediateSize: 3072, maxContext: 1024 });
    expect(spec.layout).toMatchObject({ mlp: "plain", norm: "layer", learnedPositions: 1024 });
    expect(spec.guessed).toEqual([]);
  });

  it("Falcon-7B's multi_query means one KV head", () => {
    const spec = deriveModelSpec({ model_type: "falcon", hidden_size: 4544, num_hidden_layers: 32, num_attention_heads: 71, multi_query: true, vocab_size: 65024, parallel_attn: true });
    expect(spec.numKeyValueHeads).toBe(1);
    expect(spec.headDim).toBe(64);
    expect(spec.intermediateSize).toBe(4 * 4544);
    // Falcon-7B (parallel attention, one LayerNorm per layer, tied head), worked by hand:
    // embed 65,024 × 4,544 = 295,469,056; per layer qkv 4,544 × (71 + 2) × 64 = 21,229,568,
    // dense 4,544² = 20,647,936, MLP 2 × 4,544 × 18,176 = 165,183,488, LayerNorm 2 × 4,544 = 9,088
    // → 207,070,080 × 32 = 6,626,242,560; final LayerNorm 9,088.
    expect(configParameters(spec)?.total).toBe(295_469_056 + 6_626_242_560 + 9_088);
  });

  it("the new Falcon decoder architecture reads num_kv_heads", () => {
    const spec = deriveModelSpec({ model_type: "falcon", hidden_size: 8192, num_hidden_layers: 60, num_attention_heads: 128, num_kv_heads: 8, new_decoder_architecture: true, multi_query: true, vocab_size: 65024 });
    expect(spec.numKeyValueHeads).toBe(8);
  });

  it("an explicit head_dim wins over hidden / heads (Gemma 2: 3584 / 16 = 224, but head_dim 256)", () => {
    expect(deriveModelSpec(fixtureConfig("google/gemma-2-9b")).headDim).toBe(256);
  });

  it("reads dtype from `dtype` as newer transformers write it", () => {
    expect(deriveModelSpec({ ...fixtureConfig("Qwen/Qwen2.5-0.5B"), torch_dtype: undefined, dtype: "float16" }).dtype).toBe("fp16");
  });

  it("Gemma 2 alternates sliding (even) and full (odd) layers", () => {
    const spec = deriveModelSpec(fixtureConfig("google/gemma-2-9b"));
    expect(kinds(spec).slice(0, 4)).toEqual(["sliding", "full", "sliding", "full"]);
    expect(kinds(spec).filter((kind) => kind === "sliding")).toHaveLength(21);
  });

  it("Qwen2's sliding_window is ignored unless use_sliding_window", () => {
    expect(kinds(deriveModelSpec(fixtureConfig("Qwen/Qwen2.5-7B"))).every((kind) => kind === "full")).toBe(true);
    const sliding = deriveModelSpec({ ...fixtureConfig("Qwen/Qwen2.5-7B"), use_sliding_window: true, sliding_window: 4096, max_window_layers: 20 });
    expect(kinds(sliding).lastIndexOf("full")).toBe(19);
  });

  it("layer_types, when present, decides which layers slide", () => {
    const spec = deriveModelSpec({
      ...fixtureConfig("meta-llama/Llama-3.2-1B"),
      num_hidden_layers: 3,
      sliding_window: 128,
      layer_types: ["sliding_attention", "full_attention", "sliding_attention"],
    });
    expect(kinds(spec)).toEqual(["sliding", "full", "sliding"]);
  });

  it("yarn RoPE scaling stretches the maximum context from its original length (vLLM's rule)", () => {
    const spec = deriveModelSpec({ ...fixtureConfig("Qwen/Qwen2.5-7B"), max_position_embeddings: 32768, rope_scaling: { type: "yarn", factor: 4, original_max_position_embeddings: 32768 } });
    expect(spec.maxContext).toBe(131072);
    // Llama 3's own scaling type does not change max_position_embeddings.
    expect(deriveModelSpec(fixtureConfig("meta-llama/Llama-3.1-8B")).maxContext).toBe(131072);
  });
});

describe("unknown architectures", () => {
  const unknown = { model_type: "brand_new_lm", hidden_size: 2048, num_hidden_layers: 24, num_attention_heads: 16, vocab_size: 50000, intermediate_size: 5632 };

  it("fall back to the generic fields and name every guess", () => {
    const spec = deriveModelSpec(unknown);
    expect(spec.family).toBe("generic");
    const fields = spec.guessed.map((guess) => guess.field);
    expect(fields).toEqual(expect.arrayContaining(["model_type", "num_key_value_heads", "attention_bias", "MLP layout", "norms", "tie_word_embeddings"]));
    expect(spec.numKeyValueHeads).toBe(16);
    expect(spec.headDim).toBe(128);
  });

  it("say how far the guesses that move the numbers can move them", () => {
    const assumed = Object.fromEntries(deriveModelSpec(unknown).guessed.map((guess) => [guess.field, guess.assumed]));
    // An untied lm_head: vocab 50,000 × hidden 2,048.
    expect(assumed["tie_word_embeddings"]).toBe("true (the transformers default); untied, lm_head would add 102400000 parameters");
    expect(assumed["num_key_value_heads"]).toBe("16 (one per attention head, as in MHA); with fewer KV heads the KV cache shrinks in proportion, to 1/16 of this with one");
    // Worked by hand with 24 layers, h 2,048, i 5,632, 16 heads of 128: q/k/v/o biases 24 × 8,192;
    // MLP biases 24 × (2 × 5,632 + 2,048); a plain MLP drops 24 × 2,048 × 5,632; LayerNorm biases 49 × 2,048.
    expect(assumed["attention_bias"]).toBe("false (no projection biases); true would add 196608 parameters");
    expect(assumed["mlp_bias"]).toBe("false; true would add 319488 parameters");
    expect(assumed["MLP layout"]).toBe("gated (gate, up and down projections); a plain two-matrix MLP would have 276824064 parameters fewer");
    expect(assumed["norms"]).toBe("2 RMSNorm per layer and a final one; LayerNorm (weight and bias) would add 100352 parameters");
  });

  it("sum what the guesses put at stake into one bound on a config-only count", () => {
    const planned = planLoadedModel({ id: "acme/brand-new", revision: "main", commit: undefined, configSource: "builtin", config: unknown, manifest: undefined, manifestSource: undefined, notes: [] }, { context: 1024 });
    // 196,608 + 319,488 + 276,824,064 + 100,352 + 102,400,000 (an untied head) = 379,840,512.
    expect(planned.warnings.find((warning) => warning.code === "guesses-at-stake")?.message).toMatch(/^the generic guesses above move the config-only count by at most 379,840,512 parameters/);
  });

  it("a missing essential field is an error naming it", () => {
    const { num_attention_heads: _dropped, ...config } = unknown;
    let error: unknown;
    try {
      deriveModelSpec(config);
    } catch (caught) {
      error = caught;
    }
    expect(isVramplanError(error)).toBe(true);
    expect((error as Error).message).toMatch(/no num_attention_heads/);
    expect((error as { field?: string }).field).toBe("num_attention_heads");
  });

  it("heads that do not divide hidden_size without head_dim is an error naming head_dim", () => {
    expect(() => deriveModelSpec({ ...unknown, num_attention_heads: 30 })).toThrow(/add head_dim/);
  });
});

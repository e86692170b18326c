import { describe, expect, it } from "vitest";
import { listBuiltinModels, loadBuiltinModel } from "../../src/hub/builtin.js";
import { planLoadedModel } from "../../src/plan.js";

const loaded = async (id: string) => {
  const builtin = await loadBuiltinModel(id);
  if (!builtin) throw new Error(`${id} is not built in`);
  return { id, revision: "main", commit: undefined, configSource: "builtin" as const, config: builtin.config, manifest: builtin.manifest, manifestSource: builtin.manifest ? ("builtin" as const) : undefined, notes: [] };
};

describe("the built-in offline set", () => {
  it("has one model of each kind the planner handles", async () => {
    expect(await listBuiltinModels()).toEqual(
      expect.arrayContaining([
        "Qwen/Qwen2.5-0.5B",
        "Qwen/Qwen2.5-7B",
        "meta-llama/Llama-3.1-8B",
        "meta-llama/Llama-3.2-1B",
        "mistralai/Mistral-7B-v0.1",
        "google/gemma-2-9b",
        "microsoft/Phi-3-mini-4k-instruct",
        "openai-community/gpt2",
        "mistralai/Mixtral-8x7B-v0.1", // MoE
        "deepseek-ai/DeepSeek-V3", // MLA + MoE + FP8
        "google/gemma-3-27b-it", // 5:1 sliding, multimodal
        "openai/gpt-oss-20b", // MXFP4, alternating 128-token windows
        "Qwen/Qwen3-30B-A3B", // fine-grained MoE
        "Qwen/Qwen3-Next-80B-A3B-Instruct", // gated delta-net hybrid
        "ai21labs/AI21-Jamba-Mini-1.6", // Mamba hybrid
        "Qwen/Qwen2.5-VL-7B-Instruct", // vision-language
        "Qwen/Qwen2.5-7B-Instruct-AWQ", // AWQ 4-bit
      ]),
    );
  });

  it("every model plans, and where a manifest ships its headers agree with config.json to the parameter", async () => {
    for (const id of await listBuiltinModels()) {
      const plan = planLoadedModel(await loaded(id), { context: 4096 });
      expect(plan.weights.bytes, id).toBeGreaterThan(0);
      expect(plan.kvCache.bytes, id).toBeGreaterThan(0);
      // Two independent derivations: tensor lists written per family (scripts/), formulas (src/).
      if (plan.weights.source === "safetensors") expect(plan.weights.difference, id).toBe(0);
    }
  });

  it("the AWQ checkpoint unpacks to Qwen2.5-7B's 7,615,616,512 parameters", async () => {
    const plan = planLoadedModel(await loaded("Qwen/Qwen2.5-7B-Instruct-AWQ"), { context: 4096 });
    expect(plan.weights.parameters).toBe(7_615_616_512);
    // AWQ GEMM layout, by hand: a k × n linear stores k·n/2 B of 4-bit weights, k·n/256 B of packed
    // zeros and k·n/64 B of fp16 scales (group 128) = k·n × 133/256 B. Per layer Σ k·n = 2 × 3,584²
    // + 2 × 3,584 × 512 + 3 × 3,584 × 18,944; fp16 q/k/v biases (4,608) and two norms (2 × 3,584);
    // fp16 embeddings and lm_head 2 × 152,064 × 3,584; final norm 3,584.
    const linears = 2 * 3584 * 3584 + 2 * 3584 * 512 + 3 * 3584 * 18944;
    const layer = (linears * 133) / 256 + 2 * (4608 + 2 * 3584);
    expect(plan.weights.bytes).toBe(28 * layer + 2 * (2 * 152_064 * 3584) + 2 * 3584);
  });
});

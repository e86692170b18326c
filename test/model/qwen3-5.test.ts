import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planLoadedModel } from "../../src/plan.js";
import { explainLines } from "../../src/report/explain.js";

/*
 * Qwen3.5 (dense): Qwen3-Next's gated delta-net and gated-attention layers with a dense MLP, a
 * Qwen3-VL vision tower without deepstack mergers, one MTP layer, and an SSM state the checkpoint
 * asks to keep in fp32 (`mamba_ssm_dtype`). Fixture: Unsloth's copy of Qwen3.5-9B's config.json.
 */
const config = JSON.parse(readFileSync(new URL("../fixtures/realworld/unsloth--Qwen3.5-9B/config.json", import.meta.url), "utf8")) as Record<string, unknown>;
const plan = (context: number, batch = 1) =>
  planLoadedModel({ id: "Qwen/Qwen3.5-9B", revision: "main", commit: undefined, configSource: "builtin", config, manifest: undefined, manifestSource: undefined, notes: [] }, { context, batch });

describe("Qwen3.5-9B from config.json", () => {
  it("keeps K and V on its 8 full-attention layers and a state on the other 24, the SSM part in fp32 as vLLM does", () => {
    const planned = plan(32768);
    // Attention: 8 layers × 2 (K, V) × 4 KV heads × 256 × 2 B (bf16) × 32,768 tokens.
    expect(planned.kvCache.attentionBytes).toBe(8 * 2 * 4 * 256 * 2 * 32768);
    // Gated delta-net, per layer and sequence: the conv state (kernel 4 − 1) × (2 × 16 × 128 +
    // 32 × 128) = 24,576 values in bf16, and the recurrent state 32 heads × 128 × 128 = 524,288
    // values in fp32: vLLM's Qwen3_5ForConditionalGenerationConfig sets mamba_ssm_cache_dtype to the
    // config's mamba_ssm_dtype ("float32") when the user leaves it on auto.
    expect(planned.kvCache.stateBytes).toBe(24 * (24_576 * 2 + 524_288 * 4));
    expect(plan(1024).kvCache.stateBytes).toBe(planned.kvCache.stateBytes);
    expect(plan(1024, 4).kvCache.stateBytes).toBe(4 * planned.kvCache.stateBytes);
  });

  it("counts the MTP layer apart and leaves it out of the active parameters", () => {
    const planned = plan(4096);
    // Qwen3.5's MTP module (vLLM's qwen3_5_mtp.py): one gated-attention layer with a dense MLP, fc
    // 2h → h, three RMSNorms. Attention q 4,096 × 2 × 16 × 256, k and v 4,096 × 4 × 256 each, o
    // 4,096 × 4,096, q/k norms 2 × 256; MLP 3 × 4,096 × 12,288; two layer norms.
    const attention = 4096 * 2 * 16 * 256 + 2 * 4096 * 4 * 256 + 4096 * 4096 + 2 * 256;
    const mtp = attention + 3 * 4096 * 12288 + 2 * 4096 + 2 * 4096 * 4096 + 3 * 4096;
    expect(planned.weights.components.find((component) => component.name === "multi-token prediction")?.parameters).toBe(mtp);
    expect(planned.weights.activeParameters).toBe(planned.weights.parameters - mtp);
  });

  it("an absurd mtp_num_hidden_layers is refused by name; an explicit 0 means none", () => {
    const text = config["text_config"] as Record<string, unknown>;
    const withMtp = (layers: number) =>
      planLoadedModel({ id: "Qwen/Qwen3.5-9B", revision: "main", commit: undefined, configSource: "builtin", config: { ...config, text_config: { ...text, mtp_num_hidden_layers: layers } }, manifest: undefined, manifestSource: undefined, notes: [] }, { context: 4096 });
    expect(() => withMtp(1e9)).toThrow(/mtp_num_hidden_layers = 1000000000, more than any model has/);
    expect(withMtp(0).weights.components.some((component) => component.name === "multi-token prediction")).toBe(false);
  });

  it("--explain shows the state's two widths", () => {
    const text = explainLines(plan(4096)).join("\n");
    expect(text).toContain("conv 24,576 × 2 B (bf16) + SSM 524,288 × 4 B");
    expect(text).toContain("a full-attention dense layer");
    expect(text).toContain("Qwen3-VL modules");
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadBuiltinModel } from "../../src/hub/builtin.js";
import { planLoadedModel } from "../../src/plan.js";
import { explainLines } from "../../src/report/explain.js";
import { readModelIds } from "../../src/batch/read-ids.js";
import { runBatch } from "../../src/batch/run-batch.js";
import { renderBatch } from "../../src/report/batch-formats.js";
import { tempSettings } from "../support/temp-settings.js";

describe("a vision tower counted from vision_config", () => {
  it("Qwen2.5-VL-7B-Instruct from config.json alone: 8,292,166,656 parameters, 16,584,333,312 B, as its index's total_size says", async () => {
    const builtin = await loadBuiltinModel("Qwen/Qwen2.5-VL-7B-Instruct");
    if (!builtin) throw new Error("built-in Qwen2.5-VL missing");
    const loaded = { id: "Qwen/Qwen2.5-VL-7B-Instruct", revision: "main", commit: undefined, configSource: "builtin" as const, config: builtin.config, manifest: undefined, manifestSource: undefined, notes: [] };
    const planned = planLoadedModel(loaded, { context: 4096 });
    // model.safetensors.index.json of Qwen/Qwen2.5-VL-7B-Instruct: "total_size": 16584333312 (bf16).
    expect(planned.weights.bytes).toBe(16_584_333_312);
    expect(planned.weights.parameters).toBe(8_292_166_656);
    // Worked by hand from vision_config (depth 32, hidden 1280, intermediate 3420, out 3584):
    // patch 3 × 2 × 14 × 14 × 1280 = 1,505,280; each block 2 × 1280 + (1280 × 3840 + 3840)
    // + (1280² + 1280) + 2 × (1280 × 3420 + 3420) + (3420 × 1280 + 1280) = 19,702,200;
    // merger 1280 + (5120² + 5120) + (5120 × 3584 + 3584) = 44,574,464.
    expect(planned.weights.components.find((component) => component.name === "vision tower")?.parameters).toBe(1_505_280 + 32 * 19_702_200 + 44_574_464);
    expect(planned.warnings.map((warning) => warning.code)).not.toContain("vision-tower-not-counted");
    expect(explainLines(planned).join("\n")).toContain("vision tower (vision_config, Qwen2.5-VL modules) = patch embedding 1,505,280 + 32 blocks × 19,702,200 + patch merger 44,574,464 = 676,550,144");
  });

  it("Llama-4-Scout from config.json: the text model and its vision model, 108,641,793,536 parameters as the checkpoint holds", async () => {
    const config = JSON.parse(readFileSync(new URL("../fixtures/realworld/meta-llama--Llama-4-Scout-17B-16E-Instruct/config.json", import.meta.url), "utf8")) as Record<string, unknown>;
    const loaded = { id: "meta-llama/Llama-4-Scout-17B-16E-Instruct", revision: "main", commit: undefined, configSource: "builtin" as const, config, manifest: undefined, manifestSource: undefined, notes: [] };
    const planned = planLoadedModel(loaded, { context: 8192 });
    // Worked by hand from vision_config (34 layers of width 1,408, MLP 5,632, 336-pixel images in
    // 14-pixel patches, projector 4,096 → 5,120), module by module as the public parameter table lists them:
    // patch 588 × 1,408 + class 1,408 + positions 577 × 1,408 = 1,641,728; each layer 4 × (1,408² + 1,408)
    // + (1,408 × 5,632 + 5,632) + (5,632 × 1,408 + 1,408) + 4 × 1,408 = 23,807,872; LayerNorms 4 × 1,408,
    // adapter 5,632 × 4,096 + 4,096², projector 4,096 × 5,120: 60,823,040.
    const vision = 1_641_728 + 34 * 23_807_872 + 60_823_040;
    expect(vision).toBe(871_932_416);
    expect(planned.weights.components.find((component) => component.name === "vision tower")?.parameters).toBe(vision);
    // The text model alone came to 107,769,861,120 (the figure); with its vision model, the checkpoint's 108,641,793,536.
    expect(planned.weights.parameters).toBe(108_641_793_536);
    expect(planned.warnings.map((warning) => warning.code)).not.toContain("vision-tower-not-counted");
  });

  it("is its own figure in a batch row: CSV vision_tower_bytes, and a column of the table", async () => {
    const settings = await tempSettings({ offline: true });
    try {
      const rows = await runBatch(readModelIds("Qwen/Qwen2.5-VL-7B-Instruct\nQwen/Qwen2.5-7B\n"), { hub: settings, concurrency: 1, plan: { context: 4096 } });
      const [header, vl, text] = renderBatch(rows, "csv").trim().split("\n");
      const column = (header ?? "").split(",").indexOf("vision_tower_bytes");
      // The two index totals, 16,584,333,312 B (VL) − 15,231,233,024 B (Qwen2.5-7B, the same text model) = 1,353,100,288 B.
      expect((vl ?? "").split(",")[column]).toBe(String(16_584_333_312 - 15_231_233_024));
      expect((text ?? "").split(",")[column]).toBe("");
      expect(renderBatch(rows, "table").split("\n")[0]).toMatch(/weights GiB +of which vision GiB +KV cache GiB/);
    } finally {
      await settings.cleanup();
    }
  });
});

import { describe, expect, it } from "vitest";
import { loadBuiltinModel } from "../../src/hub/builtin.js";
import { planLoadedModel, resolveServing, type Plan } from "../../src/plan.js";
import type { ServingRequest } from "../../src/plan.js";
import { computeCapability } from "../../src/serve/gpu-architecture.js";

async function planGptOss20b(serving: ServingRequest): Promise<Plan> {
  const builtin = await loadBuiltinModel("openai/gpt-oss-20b");
  if (!builtin) throw new Error("no built-in gpt-oss-20b");
  const loaded = { id: "openai/gpt-oss-20b", revision: "main", commit: undefined, configSource: "builtin" as const, config: builtin.config, manifest: builtin.manifest, manifestSource: "builtin" as const, notes: [] };
  return planLoadedModel(loaded, { context: 16000 }, await resolveServing(serving));
}

/*
 * gpt-oss-20b: 24 MoE layers of 32 experts, hidden 2,880, expert intermediate 2,880, biased experts.
 * Per expert as stored: blocks 2·2880·2880/2 + 2880·2880/2 = 12,441,600 B, E8M0 scales
 * 2·2880·2880/32 + 2880·2880/32 = 777,600 B, bf16 biases (5,760 + 2,880) × 2 = 17,280 B.
 */
const STORED_PER_EXPERT = 12_441_600 + 777_600 + 17_280;
const EXPERTS = 24 * 32;

describe("vLLM's MXFP4 experts as loaded (mxfp4.py)", () => {
  it("on an H100 (Triton): the scales' swizzled copy and fp32 biases come on top of the checkpoint's bytes", async () => {
    const bare = (await planGptOss20b({ engine: "vllm@0.11" })).serving!.schemes[0]!;
    const h100 = (await planGptOss20b({ engine: "vllm@0.11", gpu: "H100" })).serving!.schemes[0]!;
    // Intermediate 2,880 is already a multiple of 64. Swizzled scales (HopperMXScaleLayout, rows to 256):
    // w13 5,760→5,888 rows × 90 + w2 2,880→3,072 rows × 90 = 806,400 B; biases to fp32: +17,280 B.
    const perExpert = 12_441_600 + 777_600 + (5760 + 2880) * 4 + (5888 * 90 + 3072 * 90);
    expect(h100.weightsPerGpu - bare.weightsPerGpu).toBe(EXPERTS * (perExpert - STORED_PER_EXPERT));
    expect(EXPERTS * (perExpert - STORED_PER_EXPERT)).toBe(632_586_240);
    expect(h100.terms.find((term) => term.name === "weights")?.source).toMatch(/mxfp4\.py/);
  });

  it("on an A100 (Marlin): intermediate padded to 128 and hidden to 256", async () => {
    const bare = (await planGptOss20b({ engine: "vllm@0.11" })).serving!.schemes[0]!;
    const a100 = (await planGptOss20b({ engine: "vllm@0.11", gpu: "A100-80" })).serving!.schemes[0]!;
    // 2,880 → 2,944 and 2,880 → 3,072: blocks 2·2944·3072/2 + 3072·2944/2, scales /32 of each, bf16 biases.
    const perExpert = 2 * 2944 * 1536 + 3072 * 1472 + (2 * 2944 * 3072) / 32 + (3072 * 2944) / 32 + (2 * 2944 + 3072) * 2;
    expect(perExpert).toBe(14_431_744);
    expect(a100.weightsPerGpu - bare.weightsPerGpu).toBe(EXPERTS * (perExpert - STORED_PER_EXPERT));
  });

  it("on a T4 (SM75) vLLM refuses the checkpoint, as its capability check does", async () => {
    const t4 = (await planGptOss20b({ engine: "vllm@0.11", gpu: "T4" })).serving!.schemes[0]!;
    expect(t4.refusal).toBe("The quantization method mxfp4 is not supported for the current GPU. Minimum capability: 80. Current capability: 75.");
    expect(t4.fits).toBe(false);
  });

  it("a what-if format is not re-laid out: bf16 on an H100 is the bf16 bytes", async () => {
    const plan = await planGptOss20b({ engine: "vllm@0.11", gpu: "H100", dtypes: ["bf16"] });
    const bf16 = plan.serving!.schemes[0]!;
    expect(bf16.scheme).toBe("bf16");
    expect(bf16.notes.some((note) => note.includes("MXFP4"))).toBe(false);
  });

  it("compute capabilities come from NVIDIA's table by catalog name", () => {
    // NVIDIA's CUDA GPUs list.
    const expected: Record<string, number | null> = { H100: 90, H200: 90, B200: 100, "RTX 5090": 120, "RTX PRO 6000 WS": 120, "RTX 6000 Ada": 89, L40s: 89, L4: 89, "RTX 4090": 89, A100: 80, A10: 86, "RTX 3090": 86, "RTX A6000": 86, T4: 75, "RTX 2080 Ti": 75, V100: 70, "GTX 1080 Ti": 61, GB10: 121 };
    for (const [name, capability] of Object.entries(expected)) expect([name, computeCapability(name, "NVIDIA")]).toEqual([name, capability]);
    expect(computeCapability("MI300", "AMD")).toBeNull();
  });
});

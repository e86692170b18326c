import { describe, expect, it } from "vitest";
import { loadBuiltinModel } from "../../src/hub/builtin.js";
import { planLoadedModel, resolveServing, type Plan, type PlanOptions } from "../../src/plan.js";
import { ENGINES } from "../../src/serve/engines.js";
import { findGpu } from "../../src/serve/gpu-catalog.js";
import { allocatedTokens } from "../../src/serve/serving-plan.js";
import { renderMemoryChart } from "../../src/report/chart-svg.js";
import type { ServingRequest } from "../../src/plan.js";

async function planBuiltin(id: string, options: PlanOptions, serving: ServingRequest): Promise<Plan> {
  const builtin = await loadBuiltinModel(id);
  if (!builtin) throw new Error(id);
  const loaded = { id, revision: "main", commit: undefined, configSource: "builtin" as const, config: builtin.config, manifest: builtin.manifest, manifestSource: builtin.manifest ? ("builtin" as const) : undefined, notes: [] };
  return planLoadedModel(loaded, options, await resolveServing(serving));
}

const GIB = 2 ** 30;

describe("Qwen2.5-7B at 32,768 tokens on an L4 (vLLM profile)", () => {
  it("fits at bf16, fp8 and int4, and says how many such requests fit at once", async () => {
    const plan = await planBuiltin("Qwen/Qwen2.5-7B", { context: 32768 }, { gpu: "L4", dtypes: ["bf16", "fp8", "int4"] });
    const serving = plan.serving!;
    expect(serving.gpu?.bytes).toBe(24 * GIB); // the catalog's 24 GB L4, as GiB
    expect(serving.schemes.map((scheme) => scheme.scheme)).toEqual(["bf16", "fp8", "int4"]);
    // One request: 32,768 tokens (a whole number of 16-token blocks) × 57,344 B per token.
    const perRequest = 32768 * 2 * 28 * 4 * 128 * 2;
    for (const scheme of serving.schemes) {
      expect(scheme.kvPerRequestBytes).toBe(perRequest);
      expect(scheme.fits).toBe(true);
      // vLLM: budget = 0.9 × 24 GiB − weights − activation − runtime; concurrency = budget / request.
      expect(scheme.kvBudgetBytes).toBe(Math.floor(0.9 * 24 * GIB) - scheme.weightsPerGpu - scheme.activationBytes - scheme.runtimeBytes);
      expect(scheme.maxConcurrency).toBeCloseTo((scheme.kvBudgetBytes ?? 0) / perRequest, 10);
    }
    const [bf16, fp8, int4] = serving.schemes;
    expect(bf16?.weightsBytes).toBe(15_231_233_024);
    expect(int4?.weightsBytes).toBe(5_570_747_392); // the AWQ layout worked out in test/hub/builtin.test.ts
    expect(bf16!.maxConcurrency!).toBeLessThan(fp8!.maxConcurrency!);
    expect(fp8!.maxConcurrency!).toBeLessThan(int4!.maxConcurrency!);
    // The longest context one request can have at bf16 is where KV per request meets the budget.
    const longest = bf16!.longestContext!;
    expect(Math.ceil(longest / 16) * 16 * 57_344).toBeLessThanOrEqual(bf16!.kvBudgetBytes!);
    expect(Math.ceil((longest + 16) / 16) * 16 * 57_344).toBeGreaterThan(bf16!.kvBudgetBytes!);
  });

  it("without a GPU, lists which common GPUs fit", async () => {
    const plan = await planBuiltin("Qwen/Qwen2.5-7B", { context: 32768 }, {});
    const fits = Object.fromEntries(plan.serving!.candidates!.map((fit) => [`${fit.gpu.name} ${fit.gpu.memoryGiB}`, fit.fits]));
    expect(fits["H100 80"]).toBe(true);
    expect(fits["RTX 4090 24"]).toBe(true);
    const gemma = await planBuiltin("google/gemma-2-9b", { context: 8192 }, {});
    // fp32 as stored: 36,966,823,936 B, more than a 24 GiB card (25,769,803,776 B).
    const onA4090 = gemma.serving!.candidates!.find((fit) => fit.gpu.name === "RTX 4090");
    expect(onA4090?.fits).toBe(false);
    expect(onA4090?.smallestGpuCount).toBeGreaterThanOrEqual(2);
  });
});

describe("tensor parallelism", () => {
  it("8 KV heads on 16 GPUs: each GPU keeps one head, so KV per GPU is 1/8 of the total, and --explain says so", async () => {
    const one = await planBuiltin("meta-llama/Llama-3.1-8B", { context: 8192 }, { gpu: "H100", gpus: 1 });
    const sixteen = await planBuiltin("meta-llama/Llama-3.1-8B", { context: 8192 }, { gpu: "H100", gpus: 16 });
    const eight = await planBuiltin("meta-llama/Llama-3.1-8B", { context: 8192 }, { gpu: "H100", gpus: 8 });
    const total = one.serving!.schemes[0]!.kvPerRequestBytes;
    expect(total).toBe(2 * 32 * 8 * 128 * 2 * 8192);
    expect(eight.serving!.schemes[0]!.kvPerRequestBytes).toBe(total / 8);
    expect(sixteen.serving!.schemes[0]!.kvPerRequestBytes).toBe(total / 8);
    expect(sixteen.serving!.notes.join("\n")).toMatch(/8 KV heads on 16 GPUs: each GPU keeps 1 KV head \(each head replicated 2×\)/);
    expect(sixteen.serving!.schemes[0]!.weightsPerGpu).toBe(Math.ceil(16_060_522_496 / 16));
  });

  it("an MLA latent is held whole by every GPU", async () => {
    const plan = await planBuiltin("deepseek-ai/DeepSeek-V3", { context: 4096 }, { gpu: "H200", gpus: 8, dtypes: ["fp8-block"] });
    expect(plan.serving!.schemes[0]!.kvPerRequestBytes).toBe(61 * 576 * 2 * 4096);
  });
});

describe("engine allocators", () => {
  const mistralSliding = { kind: "sliding" as const, window: 4096 };
  const group = (window: number | null, kind: "full" | "sliding") => ({ ...mistralSliding, kind, window, layers: 1, kvHeads: 8, keyDim: 128, valueDim: 128, tokensPerSequence: 0, bytesPerTokenPerLayer: 4096, bytesPerSequencePerLayer: 0, bytesPerElement: 2, expandedBytes: null, stateElements: null, bytes: 0 });

  it("vLLM gives a sliding layer window − 1 + max_num_batched_tokens tokens in 16-token blocks, plus one block", () => {
    // Mistral-7B-v0.1, window 4,096, at 32k: ⌈min(4,095 + 8,192, 32,768) / 16⌉ × 16 + 16 = 12,288 + 16.
    expect(allocatedTokens(group(4096, "sliding"), 32768, ENGINES.vllm)).toBe(12_288 + 16);
    expect(allocatedTokens(group(4096, "sliding"), 2000, ENGINES.vllm)).toBe(2000 + 16);
    expect(allocatedTokens(group(null, "full"), 1000, ENGINES.vllm)).toBe(1008);
  });

  it("llama.cpp pads n_ctx to 256 and gives SWA layers PAD_256(min(n_ctx, window + n_ubatch))", () => {
    expect(allocatedTokens(group(null, "full"), 1000, ENGINES["llama.cpp"])).toBe(1024);
    expect(allocatedTokens(group(4096, "sliding"), 32768, ENGINES["llama.cpp"])).toBe(4096 + 512);
  });

  it("SGLang and transformers keep exactly the window", () => {
    expect(allocatedTokens(group(4096, "sliding"), 32768, ENGINES.sglang)).toBe(4096);
    expect(allocatedTokens(group(4096, "sliding"), 32768, ENGINES.transformers)).toBe(4096);
  });
});

describe("GPU names people type", () => {
  const cases: [string, string, number][] = [
    ["h100", "H100", 80],
    ["A100-40", "A100", 40],
    ["a100", "A100", 80],
    ["4090", "RTX 4090", 24],
    ["M3 Max 128", "Apple M3 Max", 128],
    ["mi300x", "MI300", 192],
    ["L4", "L4", 24],
  ];
  for (const [query, name, memory] of cases) {
    it(`"${query}" is the ${name} with ${memory} GiB`, async () => {
      expect(await findGpu(query)).toMatchObject({ name, memoryGiB: memory });
    });
  }
  it("an unknown name suggests near ones", async () => {
    await expect(findGpu("h1000")).rejects.toThrow(/unknown GPU "h1000": did you mean H100/);
  });
});

describe("the memory chart", () => {
  it("has both axes, one line per weight format, and the GPU's capacity as a line", async () => {
    const plan = await planBuiltin("Qwen/Qwen2.5-7B", { context: 32768 }, { gpu: "L4", dtypes: ["bf16", "fp8", "int4"] });
    const svg = renderMemoryChart(plan);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('id="x-axis"');
    expect(svg).toContain('id="y-axis"');
    expect(svg).toContain("context length, tokens per sequence (log scale)");
    expect(svg).toContain("memory per GPU, GiB (2^30 bytes)");
    const series = [...svg.matchAll(/<polyline class="series" data-label="([^"]+)" points="([^"]+)"/g)];
    expect(series.map((match) => match[1])).toEqual(["bf16", "fp8", "int4"]);
    // Memory grows with context along every line.
    for (const match of series) {
      const ys = (match[2] ?? "").split(" ").map((point) => Number(point.split(",")[1]));
      for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeLessThanOrEqual(ys[i - 1] as number);
    }
    expect(svg).toMatch(/<line class="capacity"[^>]*>/);
    expect(svg).toContain("L4 24 GiB");
  });
});

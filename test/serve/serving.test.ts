import { describe, expect, it } from "vitest";
import { isVramplanError } from "../../src/errors.js";
import { loadBuiltinModel } from "../../src/hub/builtin.js";
import { planLoadedModel, resolveServing, type Plan, type PlanOptions } from "../../src/plan.js";
import type { ServingRequest } from "../../src/plan.js";
import { renderMemoryChart } from "../../src/report/chart-svg.js";
import { describeEngine, parseEngine } from "../../src/serve/engine-release.js";
import { findGpu } from "../../src/serve/gpu-catalog.js";
import { deviceMemory } from "../../src/serve/gpu-memory.js";
import { llamaCppKvLayout } from "../../src/serve/llamacpp.js";
import { requestBytesPerLayer } from "../../src/serve/vllm/kv-cache-config.js";

async function planBuiltin(id: string, options: PlanOptions, serving: ServingRequest, patch?: (config: Record<string, unknown>) => Record<string, unknown>, dropManifest = false): Promise<Plan> {
  const builtin = await loadBuiltinModel(id);
  if (!builtin) throw new Error(id);
  const config = patch ? patch({ ...builtin.config }) : builtin.config;
  const manifest = dropManifest ? undefined : builtin.manifest;
  const loaded = { id, revision: "main", commit: undefined, configSource: "builtin" as const, config, manifest, manifestSource: manifest ? ("builtin" as const) : undefined, notes: [] };
  return planLoadedModel(loaded, options, await resolveServing(serving));
}

const GIB = 2 ** 30;

describe("Qwen2.5-7B at 32,768 tokens on an L4 (vLLM)", () => {
  it("fits at bf16, fp8 and int4; the KV budget is vLLM's subtraction, term by term", async () => {
    const plan = await planBuiltin("Qwen/Qwen2.5-7B", { context: 32768 }, { gpu: "L4", dtypes: ["bf16", "fp8", "int4"] });
    const serving = plan.serving!;
    // CUDA reports 22.03 GiB for an L4 sold as 24 GB.
    expect(serving.device?.bytes).toBe(Math.round(22.03 * GIB));
    expect(serving.schemes.map((scheme) => scheme.scheme)).toEqual(["bf16", "fp8", "int4"]);
    // One request: 32,768 tokens (2,048 blocks of 16) × 28 layers × 4 KV heads × 128 × 2 (K, V) × 2 B.
    const perRequest = 2048 * 16 * 28 * 4 * 128 * 2 * 2;
    for (const scheme of serving.schemes) {
      expect(scheme.kvPerRequestBytes).toBe(perRequest);
      expect(scheme.fits).toBe(true);
      // requested (0.9 × total) − weights − activation − non-torch; CUDA graphs live in the headroom.
      expect(scheme.cudaGraphReserved).toBe(false);
      expect(scheme.kvBudgetBytes).toBe(Math.floor(0.9 * Math.round(22.03 * GIB) - scheme.weightsPerGpu - scheme.activationBytes! - scheme.runtimeBytes!));
      // Blocks of 16 tokens × 57,344 B: tokens = ⌊budget / 917,504⌋ × 16; concurrency = blocks / 2,048.
      expect(scheme.kvTokens).toBe(Math.floor(scheme.kvBudgetBytes! / (16 * 57_344)) * 16);
      expect(scheme.maxConcurrency).toBeCloseTo(scheme.kvTokens! / 16 / 2048, 10);
    }
    const [bf16, fp8, int4] = serving.schemes;
    // bf16: the checkpoint (15,231,233,024 B) + the rotary cache 131,072 positions × 128 × 2 B.
    expect(bf16?.weightsPerGpu).toBe(15_231_233_024 + 131_072 * 128 * 2);
    expect(bf16!.maxConcurrency!).toBeLessThan(fp8!.maxConcurrency!);
    expect(fp8!.maxConcurrency!).toBeLessThan(int4!.maxConcurrency!);
    // The longest context one request can have: its blocks fit the budget, one more block would not.
    const longest = bf16!.longestContext!;
    expect(Math.ceil(longest / 16) * 16 * 57_344).toBeLessThanOrEqual(bf16!.kvBudgetBytes!);
    expect(Math.ceil((longest + 16) / 16) * 16 * 57_344).toBeGreaterThan(bf16!.kvBudgetBytes!);
  });

  it("without a GPU, lists which common GPUs fit", async () => {
    const plan = await planBuiltin("Qwen/Qwen2.5-7B", { context: 32768 }, {});
    const fits = Object.fromEntries(plan.serving!.candidates!.map((fit) => [`${fit.gpu.name} ${fit.gpu.memoryGiB}`, fit.fits]));
    expect(fits["H100 80"]).toBe(true);
    expect(fits["RTX 4090 24"]).toBe(true);
  });
});

describe("weights as the engine loads them", () => {
  it("a float32 checkpoint (gemma-2-9b) is served in 16 bits by vLLM, and kept as stored by transformers", async () => {
    const vllm = await planBuiltin("google/gemma-2-9b", { context: 4096 }, { gpu: "L4" });
    // 9,241,705,984 parameters × 2 B; the 256,000-row vocabulary is a multiple of 64 (no padding);
    // + the rotary cache: 8,192 positions × 256 × 2 B.
    expect(vllm.serving!.schemes[0]!.weightsPerGpu).toBe(9_241_705_984 * 2 + 8192 * 256 * 2);
    expect(vllm.warnings.map((warning) => warning.code)).toContain("fp32-checkpoint");
    const transformers = await planBuiltin("google/gemma-2-9b", { context: 4096 }, { gpu: "A100-80", engine: "transformers" });
    expect(transformers.serving!.schemes[0]!.weightsPerGpu).toBe(36_966_823_936);
  });

  it("tensor parallel 16 over 8 KV heads: each rank loads one KV head's k/v projections, and keeps 1/8 of the KV cache", async () => {
    const one = await planBuiltin("meta-llama/Llama-3.1-8B", { context: 8192 }, { gpu: "H100", gpus: 1 });
    const eight = await planBuiltin("meta-llama/Llama-3.1-8B", { context: 8192 }, { gpu: "H100", gpus: 8 });
    const sixteen = await planBuiltin("meta-llama/Llama-3.1-8B", { context: 8192 }, { gpu: "H100", gpus: 16 });
    const total = one.serving!.schemes[0]!.kvPerRequestBytes;
    expect(total).toBe(2 * 32 * 8 * 128 * 2 * 8192);
    expect(eight.serving!.schemes[0]!.kvPerRequestBytes).toBe(total / 8);
    expect(sixteen.serving!.schemes[0]!.kvPerRequestBytes).toBe(total / 8);
    expect(sixteen.serving!.schemes[0]!.notes.join("\n")).toMatch(/8 KV heads on 16 ranks: each rank keeps 1 KV head \(each head replicated 2×\)/);
    // Per rank at TP 16, worked by hand from Llama-3.1-8B's shapes (h 4,096, 32 layers, f 14,336):
    const h = 4096;
    const embedding = (128_256 * h * 2) / 16; // embed_tokens and lm_head each, vocab rows split 16 ways
    const perLayer = (h * h * 2 * 2) / 16 /* q, o */ + (1024 * h * 2 * 2) / 8 /* k, v: one of 8 heads */ + (3 * h * 14_336 * 2) / 16 /* MLP */ + 2 * h * 2; /* norms, whole */
    const rope = 131_072 * 128 * 2;
    expect(sixteen.serving!.schemes[0]!.weightsPerGpu).toBe(2 * embedding + 32 * perLayer + h * 2 + rope);
  });

  it("an MLA latent is held whole by every GPU, in 64-token blocks", async () => {
    const plan = await planBuiltin("deepseek-ai/DeepSeek-V3", { context: 4096 }, { gpu: "H200", gpus: 8 });
    expect(plan.serving!.schemes[0]!.kvPerRequestBytes).toBe(61 * 576 * 2 * 4096);
    expect(plan.serving!.schemes[0]!.notes.join("\n")).toMatch(/MLA latent is shared by all heads/);
  });
});

describe("quantized checkpoints planned from config.json alone", () => {
  it("gpt-oss-20b's MXFP4 experts: bytes from quantization_config within 0.5% of the index's total_size 13,761,264,768", async () => {
    const plan = await planBuiltin("openai/gpt-oss-20b", { context: 4096 }, {}, undefined, true);
    expect(plan.weights.source).toBe("config");
    expect(Math.abs(plan.weights.bytes - 13_761_264_768) / 13_761_264_768).toBeLessThan(0.005);
    expect(plan.warnings.find((warning) => warning.code === "quantized-derived-bytes")?.message).toMatch(/mxfp4/);
  });

  it("an AWQ repo without headers is billed at its 4-bit layout, not as bf16", async () => {
    const withHeaders = await planBuiltin("Qwen/Qwen2.5-7B-Instruct-AWQ", { context: 4096 }, {});
    const fromConfig = await planBuiltin("Qwen/Qwen2.5-7B-Instruct-AWQ", { context: 4096 }, {}, undefined, true);
    // The AWQ GEMM layout of the built-in manifest (5,570,747,392 B) against the same layout applied
    // to config-derived shapes: equal up to the biases' dtype.
    expect(Math.abs(fromConfig.weights.bytes - withHeaders.weights.bytes) / withHeaders.weights.bytes).toBeLessThan(0.005);
    expect(fromConfig.weights.bytes).toBeLessThan(0.4 * 7_615_616_512 * 2);
  });

  it("DeepSeek-V3's fp8 blocks: about one byte per parameter, not two", async () => {
    const plan = await planBuiltin("deepseek-ai/DeepSeek-V3", { context: 4096 }, {});
    const parameters = plan.weights.parameters;
    expect(plan.weights.bytes / parameters).toBeGreaterThan(1);
    expect(plan.weights.bytes / parameters).toBeLessThan(1.02);
  });
});

describe("the README's worked example: Qwen2.5-7B on one 24 GB card, Unsloth's 4-bit checkpoint against bf16", () => {
  it("the bitsandbytes checkpoint loads a third of the bytes and holds more than twice the 32k requests", async () => {
    const bnb = await planBuiltin("unsloth/Qwen2.5-7B-Instruct-bnb-4bit", { context: 32768 }, { gpu: "RTX 4090" });
    const bf16 = await planBuiltin("Qwen/Qwen2.5-7B", { context: 32768 }, { gpu: "RTX 4090" });
    const [quantized, full] = [bnb.serving!.schemes[0]!, bf16.serving!.schemes[0]!];
    // By hand: 28 layers × (2·3584² + 2·3584·512 + 3·3584·18944) = 6,525,288,448 linear weights in
    // NF4 with double quantization at 4.127 bits, embeddings and lm_head 2 × 152,064 × 3,584 in
    // 16 bits, and the rotary cache 32,768 × 128 × 2 B.
    const byHand = (6_525_288_448 * 4.127) / 8 + 2 * 152_064 * 3584 * 2 + 32_768 * 128 * 2;
    expect(Math.abs(quantized.weightsPerGpu - byHand) / byHand).toBeLessThan(0.005);
    expect(quantized.fits && full.fits).toBe(true);
    expect(quantized.maxConcurrency! / full.maxConcurrency!).toBeGreaterThan(2.5);
  });
});

describe("SGLang (server_args.py _handle_gpu_memory_settings, model_runner.py profile_max_num_token)", () => {
  it("Qwen2.5-7B on an H100: mem_fraction_static from the reserve, the pool from what is free after the weights", async () => {
    const plan = await planBuiltin("Qwen/Qwen2.5-7B", { context: 32768 }, { gpu: "H100", engine: "sglang" });
    const scheme = plan.serving!.schemes[0]!;
    const total = Math.round(79.18 * GIB);
    const totalMiB = total / 2 ** 20;
    // An 80 GB GPU: chunked prefill 8,192 and CUDA-graph batch 256 at TP 1, so reserved =
    // 512 + 8,192 × 1.5 + 256 × 2 + 1/8 × 1,024 = 13,440 MiB (above the 10 GiB floor).
    const fraction = Math.round(((totalMiB - 13_440) / totalMiB) * 1000) / 1000;
    expect(fraction).toBe(0.834);
    // The share left out is of the memory free at start (0.6 GiB in use then, as on an idle H100).
    const freeAtStart = total - Math.round(0.6 * GIB);
    const pool = Math.floor(freeAtStart - scheme.weightsPerGpu - freeAtStart * (1 - fraction));
    expect(scheme.kvBudgetBytes).toBe(pool);
    // One token in every layer: 28 layers × 4 KV heads × 128 × 2 (K, V) × 2 B = 57,344 B.
    expect(scheme.kvTokens).toBe(Math.floor(pool / 57_344));
  });
});

describe("what the engines refuse", () => {
  it("--gpus 3 for 32 attention heads: vLLM refuses, and says which sizes work", async () => {
    const error = await planBuiltin("meta-llama/Llama-3.1-8B", { context: 8192 }, { gpu: "H100", gpus: 3 }).catch((caught: unknown) => caught);
    expect(isVramplanError(error)).toBe(true);
    // The library names its option (`gpus`); the CLI says --gpus (test/cli/bad-input.test.ts).
    expect((error as Error).message).toMatch(/vllm refuses `gpus` 3 \(tensor parallel\): Total number of attention heads \(32\) must be divisible by tensor parallel size \(3\)\. Use 1, 2, 4, 8, 16, 32/);
  });

  it("llama.cpp splits layers, so 3 GPUs are fine there", async () => {
    const plan = await planBuiltin("meta-llama/Llama-3.1-8B", { context: 8192 }, { gpu: "RTX 4090", gpus: 3, engine: "llama.cpp" });
    expect(plan.serving!.schemes[0]!.refusal).toBeNull();
  });

  it("a q4_0 KV cache is llama.cpp's, not vLLM's", async () => {
    const error = await planBuiltin("meta-llama/Llama-3.1-8B", { context: 8192, kvDtype: "q4_0" }, { gpu: "H100" }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/vllm has no q4_0 KV cache: it offers --kv-cache-dtype auto, fp8/);
    const llama = await planBuiltin("meta-llama/Llama-3.1-8B", { context: 8192, kvDtype: "q4_0" }, { gpu: "H100", engine: "llama.cpp" });
    expect(llama.serving!.schemes[0]!.refusal).toBeNull();
  });

  it("max_model_len that does not fit: vLLM's own message, with the longest length that does", async () => {
    const plan = await planBuiltin("meta-llama/Llama-3.1-8B", { context: 131072 }, { gpu: "RTX 4090", engine: "vllm@0.11" });
    const scheme = plan.serving!.schemes[0]!;
    expect(scheme.fits).toBe(false);
    const longest = scheme.longestContext!;
    expect(scheme.refusal).toBe(
      `To serve at least one request with the models's max seq len (131072), (16.00 GiB KV cache is needed, which is larger than the available KV cache memory (${(scheme.kvBudgetBytes! / GIB).toFixed(2)} GiB). Based on the available memory, the estimated maximum model length is ${longest}. Try increasing \`gpu_memory_utilization\` or decreasing \`max_model_len\` when initializing the engine.`,
    );
    // That length starts, and one block more would not.
    const atLongest = await planBuiltin("meta-llama/Llama-3.1-8B", { context: longest }, { gpu: "RTX 4090", engine: "vllm@0.11" });
    expect(atLongest.serving!.schemes[0]!.refusal).toBeNull();
    const beyond = await planBuiltin("meta-llama/Llama-3.1-8B", { context: longest + 16 }, { gpu: "RTX 4090", engine: "vllm@0.11" });
    expect(beyond.serving!.schemes[0]!.refusal).toMatch(/estimated maximum model length is/);
  });

  it("a utilization the free memory cannot give: vLLM's start-up check", async () => {
    const plan = await planBuiltin("Qwen/Qwen2.5-0.5B", { context: 4096 }, { gpu: "H100", memoryFraction: 1 });
    expect(plan.serving!.schemes[0]!.refusal).toMatch(/^Free memory on device \(78\.58\/79\.18 GiB\) on startup is less than desired GPU memory utilization \(1, 79\.18 GiB\)/);
  });
});

describe("engine versions", () => {
  it("vllm@0.13 uses the 0.11 profile and says so; the default is the newest profile", () => {
    const choice = parseEngine("vllm@0.13.2");
    expect(choice.release.version).toBe("0.11");
    expect(describeEngine(choice)).toBe("vllm 0.11+ (asked for 0.13.2)");
    expect(describeEngine(parseEngine("vllm"))).toMatch(/^vllm 0\.25\+ \(newest profile\)$/);
    expect(parseEngine("llama.cpp@b5935").release.version).toBe("b4000");
    expect(parseEngine("llama.cpp@6500").release.version).toBe("b6325");
  });

  it("an unknown version or engine lists the known ones", () => {
    expect(() => parseEngine("vllm@abc")).toThrow(/cannot read "abc" as a vllm version: known profiles are 0\.6, 0\.8, 0\.11, 0\.19, 0\.21, 0\.25/);
    expect(() => parseEngine("vllm@0.4")).toThrow(/vllm@0\.4 is older than vramplan's oldest vllm profile: known profiles are 0\.6/);
    expect(() => parseEngine("tgi")).toThrow(/unknown engine "tgi": choose from vllm, sglang, llama\.cpp, transformers/);
  });

  it("0.21 reserves the CUDA-graph estimate from the KV budget; 0.11 and 0.25 leave graphs to the headroom", async () => {
    const budgets: Record<string, number> = {};
    for (const engine of ["vllm@0.11", "vllm@0.21", "vllm@0.25"]) {
      const plan = await planBuiltin("meta-llama/Llama-3.1-8B", { context: 8192 }, { gpu: "H100", engine });
      budgets[engine] = plan.serving!.schemes[0]!.kvBudgetBytes!;
    }
    expect(budgets["vllm@0.11"]! - budgets["vllm@0.21"]!).toBe(GIB / 2);
    expect(budgets["vllm@0.25"]).toBe(budgets["vllm@0.11"]);
  });
});

describe("GPU memory as the engine sees it", () => {
  it("an H100 is 79.18 GiB to CUDA, with its source; --gpu-memory overrides", async () => {
    const gpu = await findGpu("H100");
    expect(deviceMemory(gpu)).toMatchObject({ bytes: Math.round(79.18 * GIB), basis: "reported" });
    expect(deviceMemory(gpu).source).toMatch(/79\.18 GiB total/);
    expect(deviceMemory(gpu, 80 * GIB)).toMatchObject({ bytes: 80 * GIB, basis: "override" });
  });

  it("a GPU missing from the table is taken at its nominal size, and the plan says how to do better", async () => {
    const plan = await planBuiltin("Qwen/Qwen2.5-0.5B", { context: 4096 }, { gpu: "RTX A6000" });
    expect(plan.serving!.device).toMatchObject({ bytes: 48 * GIB, basis: "nominal" });
    expect(plan.warnings.find((warning) => warning.code === "gpu-memory-assumed")?.message).toMatch(/no reported total for the RTX A6000 48 GB: assumed the full 48 GiB .* pass `gpuMemoryBytes`/);
  });

  it("unified memory says how it is counted: Metal's working-set limit on a Mac, the shared pool on a DGX Spark", async () => {
    const mac = deviceMemory(await findGpu("M3 Max 64"));
    expect(mac.bytes).toBe(48 * GIB); // 3/4 of 64 GB: llama.cpp logs recommendedMaxWorkingSetSize = 49152.00 MB
    expect(mac.unified).toMatch(/shared with macOS/);
    expect(deviceMemory(await findGpu("M2 16")).bytes).toBe(Math.round((16 * GIB * 2) / 3)); // 10922.67 MB
    expect(deviceMemory(await findGpu("GB10")).unified).toMatch(/the OS, page cache and other processes draw from the same pool/);
  });
});

describe("KV allocators", () => {
  const sliding = { kind: "sliding" as const, layers: 1, perTokenBytes: 4096, window: 4096, blockTokens: 16, pageBytes: 16 * 4096 };
  it("vLLM gives a sliding layer window − 1 + max_num_batched_tokens tokens in blocks, plus one block", () => {
    // Mistral-7B-v0.1, window 4,096, at 32k with 8,192 batched tokens: ⌈12,287 / 16⌉ + 1 = 769 blocks.
    expect(requestBytesPerLayer(sliding, 32768, 8192)).toBe(769 * 16 * 4096);
    expect(requestBytesPerLayer(sliding, 2000, 8192)).toBe((125 + 1) * 16 * 4096);
    expect(requestBytesPerLayer({ ...sliding, kind: "full", window: null }, 1000, 8192)).toBe(63 * 16 * 4096);
  });

  it("llama.cpp pads n_ctx to 256 and gives SWA layers PAD_256(min(cells, window + n_ubatch)) per stream", async () => {
    const plan = await planBuiltin("openai/gpt-oss-20b", { context: 1000 }, {});
    const layout = llamaCppKvLayout(plan.kvCache, 1000, 1, { unified: false, ubatch: 512 });
    expect(layout.cells).toBe(1024);
    expect(layout.swaCells).toBe(768);
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
    it(`"${query}" is the ${name} with ${memory} GB`, async () => {
      expect(await findGpu(query)).toMatchObject({ name, memoryGiB: memory });
    });
  }
  it("an unknown name suggests near ones", async () => {
    await expect(findGpu("h1000")).rejects.toThrow(/unknown GPU "h1000": did you mean H100/);
  });
});

describe("the memory chart", () => {
  it("has both axes, one line per weight format, and the GPU's capacity as CUDA reports it", async () => {
    const plan = await planBuiltin("Qwen/Qwen2.5-7B", { context: 32768 }, { gpu: "L4", dtypes: ["bf16", "fp8", "int4"] });
    const svg = renderMemoryChart(plan);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('id="x-axis"');
    expect(svg).toContain('id="y-axis"');
    expect(svg).toContain("context length, tokens per sequence (log scale)");
    expect(svg).toContain("memory per GPU, GiB (2^30 bytes)");
    const series = [...svg.matchAll(/<polyline class="series" data-label="([^"]+)" points="([^"]+)"/g)];
    expect(series.map((match) => match[1])).toEqual(["bf16", "fp8", "int4"]);
    for (const match of series) {
      const ys = (match[2] ?? "").split(" ").map((point) => Number(point.split(",")[1]));
      for (let i = 1; i < ys.length; i++) expect(ys[i]).toBeLessThanOrEqual(ys[i - 1] as number);
    }
    expect(svg).toMatch(/<line class="capacity"[^>]*>/);
    expect(svg).toContain("L4 22.03 GiB");
  });
});

import { afterAll, describe, expect, it } from "vitest";
import { deriveModelSpec } from "../../src/model/derive.js";
import { estimateKvCache } from "../../src/estimate/kv-cache.js";
import { KV_FORMATS } from "../../src/model/dtypes.js";
import { planRepo } from "../../src/plan-repo.js";
import type { GgufRepoPlan } from "../../src/gguf/gguf-plan.js";
import type { PlanOptions, ServingRequest } from "../../src/plan.js";
import { llamaCppComputeBuffer, llamaCppKvLayout } from "../../src/serve/llamacpp.js";
import { vllmKvConfig } from "../../src/serve/vllm/kv-cache-config.js";
import { GIB, MIB, loadReplayModel, replayPlan, sharedObservations } from "../support/realworld.js";
import { tempSettings } from "../support/temp-settings.js";

/*
 * Start-up figures other people logged on real GPUs (../shared/realworld/observations.json, kinds A,
 * B and E), replayed through the planner with the settings the log states. The logged values are
 * written here with their source so the test runs without ../shared; when ../shared is beside the
 * checkout, they are checked against the file too. Goal: KV budgets and token capacities within 5%,
 * every start/refuse verdict right, llama.cpp buffers within 2%. Where a figure is not reproduced,
 * the case says why instead of a constant being tuned to it.
 */

const table: string[] = ["| id | model | setting | figure | logged | vramplan | off by |", "|---|---|---|---|---|---|---|"];
afterAll(() => {
  // The README's "how close is it" table is this output.
  console.log(table.join("\n"));
});
const offBy = (predicted: number, logged: number) => `${predicted >= logged ? "+" : ""}${(((predicted - logged) / Math.abs(logged)) * 100).toFixed(1)}%`;
function row(id: string, model: string, setting: string, figure: string, logged: number, predicted: number, unit: "GiB" | "MiB" | "tokens" | "×") {
  const show = (value: number) => (unit === "GiB" ? (value / GIB).toFixed(2) : unit === "MiB" ? (value / MIB).toFixed(2) : unit === "tokens" ? value.toLocaleString("en-US") : `${value.toFixed(2)}×`);
  table.push(`| ${id} | ${model} | ${setting} | ${figure} | ${show(logged)} | ${show(predicted)} | ${offBy(predicted, logged)} |`);
}
const within = (predicted: number, logged: number, tolerance: number) => expect(Math.abs(predicted - logged) / Math.abs(logged)).toBeLessThanOrEqual(tolerance);

interface VllmCase {
  id: string;
  model: string;
  source: { builtin: string } | { fixture: string };
  setting: string;
  options: PlanOptions;
  serving: ServingRequest;
  /** As logged: GiB to two decimals (so ±0.005 GiB of rounding), tokens, concurrency. */
  logged: { kvGiB?: number; tokens?: number; concurrency?: number; weightsGiB?: number; refuses?: RegExp };
  /** The observations.json fields these figures were copied from. */
  fields?: Record<string, string>;
}

const vllmCases: VllmCase[] = [
  {
    id: "A01",
    model: "meta-llama/Llama-3.1-8B-Instruct",
    // The -Instruct checkpoint has the base model's config and tensors.
    source: { builtin: "meta-llama/Llama-3.1-8B" },
    setting: "vLLM V0 (Dec 2024), RTX 3090, 0.9, 20,000 tokens",
    options: { context: 20000 },
    serving: { engine: "vllm@0.6", gpu: "RTX 3090", memoryFraction: 0.9 },
    logged: { kvGiB: 3.81, tokens: 1952 * 16, concurrency: 1.56, weightsGiB: 14.9888 },
    fields: { kv_cache_size: "3.81GiB", "# GPU blocks": "1952", "Maximum concurrency for 20000 tokens per request": "1.56x" },
  },
  {
    id: "A08",
    model: "Qwen/Qwen2.5-7B-Instruct-AWQ",
    source: { builtin: "Qwen/Qwen2.5-7B-Instruct-AWQ" },
    setting: "vLLM 0.26, RTX 4080 16 GB, 0.9, 32k",
    options: { context: 32768 },
    serving: { engine: "vllm@0.26", gpu: "RTX 4080", memoryFraction: 0.9 },
    logged: { kvGiB: 8.0, tokens: 149_712, concurrency: 4.57 },
    fields: { "Available KV cache memory": "8.0 GiB", "GPU KV cache size": "149,712 tokens" },
  },
  {
    id: "A09",
    model: "TheBloke/Mistral-7B-Instruct-v0.2-GPTQ",
    source: { fixture: "TheBloke--Mistral-7B-Instruct-v0.2-GPTQ" },
    setting: "vLLM 0.11, DGX Spark (GB10), 0.9, 32k, 2,048 batched tokens",
    options: { context: 32768 },
    serving: { engine: "vllm@0.11", gpu: "GB10", memoryFraction: 0.9, knobs: { maxNumBatchedTokens: 2048 } },
    logged: { kvGiB: 102.56, tokens: 840_160, concurrency: 25.64 },
    fields: { "Available KV cache memory": "102.56 GiB", "GPU KV cache size": "840,160 tokens" },
  },
  {
    id: "A10",
    model: "Qwen/Qwen3-Coder-30B-A3B-Instruct",
    source: { fixture: "Qwen--Qwen3-Coder-30B-A3B-Instruct" },
    setting: "vLLM 0.24, 4 × L40S, TP 4, 0.9, 32k",
    options: { context: 32768 },
    serving: { engine: "vllm@0.24", gpu: "L40s", gpus: 4, memoryFraction: 0.9 },
    logged: { kvGiB: 23.74, tokens: 1_037_152, concurrency: 31.65 },
    fields: { "Available KV cache memory": "23.74 GiB", "GPU KV cache size": "1,037,152 tokens" },
  },
  {
    id: "A12",
    model: "openai/gpt-oss-20b",
    source: { builtin: "openai/gpt-oss-20b" },
    setting: "vLLM late 2025, H100, 0.9, 16,000 tokens",
    options: { context: 16000 },
    serving: { engine: "vllm@0.11", gpu: "H100", memoryFraction: 0.9, knobs: { blockSize: 128 } },
    // The MXFP4 experts load through the Triton kernels: 13.47 GiB for 13,761,264,768 B of checkpoint (12.82 GiB).
    logged: { kvGiB: 50.28, weightsGiB: 13.47 },
    fields: { "Available KV cache memory": "50.28 GiB", "Model loading took": "13.47 GiB" },
  },
  {
    id: "A14",
    model: "meta-llama/Llama-3.1-8B-Instruct",
    source: { builtin: "meta-llama/Llama-3.1-8B" },
    setting: "vLLM late 2025, H100, 0.9, 16,000 tokens",
    options: { context: 16000 },
    serving: { engine: "vllm@0.11", gpu: "H100", memoryFraction: 0.9, knobs: { blockSize: 128 } },
    logged: { kvGiB: 51.38, weightsGiB: 14.99 },
    fields: { "Available KV cache memory": "51.38 GiB", "Model loading took": "14.99 GiB" },
  },
  {
    id: "A15",
    model: "Qwen/Qwen3-0.6B",
    source: { fixture: "Qwen--Qwen3-0.6B" },
    setting: "vLLM late 2025, H100, 0.9, 16,000 tokens",
    options: { context: 16000 },
    serving: { engine: "vllm@0.11", gpu: "H100", memoryFraction: 0.9, knobs: { blockSize: 128 } },
    logged: { kvGiB: 64.45, weightsGiB: 1.12 },
    fields: { "Available KV cache memory": "64.45 GiB", "Model loading took": "1.12 GiB" },
  },
  {
    id: "A18",
    model: "RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic",
    source: { fixture: "RedHatAI--Llama-3.3-70B-Instruct-FP8-dynamic" },
    setting: "vLLM late 2025, 2 × H100, TP 2, 0.9, 16,000 tokens",
    options: { context: 16000 },
    serving: { engine: "vllm@0.11", gpu: "H100", gpus: 2, memoryFraction: 0.9, knobs: { blockSize: 128 } },
    logged: { kvGiB: 32.0, weightsGiB: 33.88 },
    fields: { "Available KV cache memory": "32.0 GiB (per GPU)", "Model loading took": "33.88 GiB (per GPU)" },
  },
  {
    id: "A18 TP1",
    model: "RedHatAI/Llama-3.3-70B-Instruct-FP8-dynamic",
    source: { fixture: "RedHatAI--Llama-3.3-70B-Instruct-FP8-dynamic" },
    setting: "the same on one H100: refused",
    options: { context: 16000 },
    serving: { engine: "vllm@0.11", gpu: "H100", gpus: 1, memoryFraction: 0.9, knobs: { blockSize: 128 } },
    logged: { kvGiB: -1.44, weightsGiB: 67.72, refuses: /No available memory for the cache blocks/ },
  },
];

describe("vLLM start-up logs (kind A)", () => {
  const observations = sharedObservations();
  for (const entry of vllmCases) {
    it(`${entry.id}: ${entry.model}, ${entry.setting}`, async () => {
      const plan = await replayPlan(await loadReplayModel(entry.model, entry.source), entry.options, entry.serving);
      const scheme = plan.serving!.schemes[0]!;
      const { logged } = entry;
      if (logged.weightsGiB !== undefined) {
        row(entry.id, entry.model, entry.setting, "weights per GPU", logged.weightsGiB * GIB, scheme.weightsPerGpu, "GiB");
        within(scheme.weightsPerGpu, logged.weightsGiB * GIB, 0.01);
      }
      if (logged.kvGiB !== undefined) {
        row(entry.id, entry.model, entry.setting, "KV cache memory", logged.kvGiB * GIB, scheme.kvBudgetBytes!, "GiB");
        // Near zero a relative error says little: a refusal's shortfall is checked to 0.1 GiB.
        if (logged.kvGiB > 0) within(scheme.kvBudgetBytes!, logged.kvGiB * GIB, 0.05);
        else expect(Math.abs(scheme.kvBudgetBytes! - logged.kvGiB * GIB)).toBeLessThan(0.1 * GIB);
      }
      if (logged.tokens !== undefined) {
        row(entry.id, entry.model, entry.setting, "KV cache tokens", logged.tokens, scheme.kvTokens!, "tokens");
        within(scheme.kvTokens!, logged.tokens, 0.05);
      }
      if (logged.concurrency !== undefined) {
        row(entry.id, entry.model, entry.setting, "max concurrency", logged.concurrency, scheme.maxConcurrency!, "×");
        within(scheme.maxConcurrency!, logged.concurrency, 0.05);
      }
      if (logged.refuses) expect(scheme.refusal).toMatch(logged.refuses);
      else expect(scheme.refusal).toBeNull();
      if (observations && entry.fields) {
        const observed = observations.find((candidate) => candidate.id === entry.id)?.reported ?? {};
        for (const [field, value] of Object.entries(entry.fields)) expect(String(observed[field])).toBe(value);
      }
    });
  }

  it("A13, A24: gpt-oss-120b's logged terms add up to 0.95 of the GPU, not the 0.9 stated, and its MXFP4 experts load through the Triton kernels 3.6 GiB over their checkpoint bytes", async () => {
    // Logged: weights 64.38 + activation 7.38 + non-torch 0.13 + KV 3.33 = 75.22 GiB = 0.95 × 79.18.
    expect(64.38 + 7.38 + 0.13 + 3.33).toBeCloseTo(0.95 * 79.18, 1);
    const plan = await replayPlan(await loadReplayModel("openai/gpt-oss-120b", { fixture: "openai--gpt-oss-120b" }), { context: 16000 }, { engine: "vllm@0.11", gpu: "H100", memoryFraction: 0.95, knobs: { blockSize: 128 } });
    const scheme = plan.serving!.schemes[0]!;
    // The activation is the 20b's (same vocab and width): 7.38 GiB logged for both.
    within(scheme.activationBytes!, 7.38 * GIB, 0.01);
    // 65,248,815,744 B of checkpoint (60.77 GiB) held as 64.38 GiB (A13; A24 logs the same on v0.14.1 with
    // "Using Triton backend"): the scales' swizzled copy and the fp32 biases (mxfp4.py, hopper_scale.py).
    row("A13", "openai/gpt-oss-120b", "H100, 0.95 (as the terms add up), 16,000 tokens", "weights per GPU", 64.38 * GIB, scheme.weightsPerGpu, "GiB");
    within(scheme.weightsPerGpu, 64.38 * GIB, 0.005);
    row("A13", "openai/gpt-oss-120b", "H100, 0.95 (as the terms add up), 16,000 tokens", "KV cache memory", 3.33 * GIB, scheme.kvBudgetBytes!, "GiB");
    within(scheme.kvBudgetBytes!, 3.33 * GIB, 0.05);
    expect(scheme.refusal).toBeNull();
  });

  it("A23 (settings incomplete): gpt-oss-120b on vLLM 0.10.1 loads its MXFP4 experts for Marlin on an H100, 65.97 GiB", async () => {
    const plan = await replayPlan(await loadReplayModel("openai/gpt-oss-120b", { fixture: "openai--gpt-oss-120b" }), { context: 16000 }, { engine: "vllm@0.10", gpu: "H100" });
    const scheme = plan.serving!.schemes[0]!;
    // Logged "Model loading took 65.9651 GiB" after "Your GPU does not have native support for FP4 computation".
    row("A23", "openai/gpt-oss-120b", "vLLM 0.10.1, H100, Marlin", "weights per GPU", 65.9651 * GIB, scheme.weightsPerGpu, "GiB");
    within(scheme.weightsPerGpu, 65.9651 * GIB, 0.005);
    // Not replayed: its -2.14 GiB KV budget, with gpu_memory_utilization and max_model_len not in the excerpt.
  });

  it("A25: Qwen3-30B-A3B on 4 × A10 loads 14.2474 GiB per rank: experts and attention split 4 ways, routers and norms whole", async () => {
    const plan = await replayPlan(await loadReplayModel("Qwen/Qwen3-30B-A3B", { builtin: "Qwen/Qwen3-30B-A3B" }), { context: 1024 }, { engine: "vllm@0.8.5", gpu: "A10", gpus: 4, knobs: { maxNumSeqs: 1 } });
    const scheme = plan.serving!.schemes[0]!;
    row("A25", "Qwen/Qwen3-30B-A3B", "vLLM 0.8.5, 4 × A10, TP 4", "weights per GPU", 14.2474 * GIB, scheme.weightsPerGpu, "GiB");
    within(scheme.weightsPerGpu, 14.2474 * GIB, 0.005);
    // Not reproduced: the log's OOM came later, in CUDA-graph capture of the MoE layers (works with
    // --enforce-eager); vramplan's ~0.5 GiB graph estimate does not foresee it.
  });

  it("A03, A04 (settings incomplete): the logged KV memory becomes the logged token count through vLLM's pages", async () => {
    const cases = [
      { id: "A03", model: "Qwen/Qwen3-1.7B", layers: 28, kvGiB: 18.78, tokens: 175_856 },
      { id: "A04", model: "Qwen/Qwen3-14B", layers: 40, kvGiB: 6.51, tokens: 42_656 },
    ];
    for (const entry of cases) {
      // Both are Qwen3 with 8 KV heads of 128: 4,096 B per token per layer in bf16.
      const groups = [{ kind: "full" as const, layers: entry.layers, kvHeads: 8, keyDim: 128, valueDim: 128, window: null, tokensPerSequence: 0, bytesPerTokenPerLayer: 4096, bytesPerSequencePerLayer: 0, bytesPerElement: 2, expandedBytes: null, stateElements: null, bytes: 0 }];
      const config = vllmKvConfig({ groups, share: () => 1, tp: 1, blockTokens: 16, maxNumBatchedTokens: 8192, runtime: "v1", tokenReport: "blocks-per-group", mambaCacheMode: "none" }, Math.round(entry.kvGiB * GIB), 32768);
      // The budget is logged to 0.01 GiB: ±0.005 GiB is ±47 tokens at 114,688 B per token (A03).
      expect(Math.abs(config.tokens - entry.tokens)).toBeLessThanOrEqual(Math.ceil((0.005 * GIB) / (entry.layers * 4096)) + 16);
      row(entry.id, entry.model, "logged KV memory → tokens", "KV cache tokens", entry.tokens, config.tokens, "tokens");
    }
  });
});

describe("llama.cpp and Ollama buffers (kind B)", () => {
  it("B01: Ollama llama3.1:8b Q4_K_M on a 4090, 4 slots of 2,048 tokens, ubatch 512, no flash attention", async () => {
    const settings = await tempSettings();
    try {
      const planned = await planRepo("bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", {
        context: 2048,
        batch: 4,
        ggufFile: "Q4_K_M",
        serving: { engine: "llama.cpp@b4000", gpu: "RTX 4090", knobs: { flashAttention: false } },
        hub: { ...settings, offline: true },
      });
      const plan = planned.plan as GgufRepoPlan;
      const file = plan.files[0]!;
      // "CUDA0 model buffer size = 4403.49 MiB", "CPU model buffer size = 281.81 MiB" (token_embd stays in RAM).
      expect((file.gpuModelBufferBytes / MIB).toFixed(2)).toBe("4403.49");
      expect((file.cpuModelBufferBytes / MIB).toFixed(2)).toBe("281.81");
      // "KV self size = 1024.00 MiB": one unified cache of 8,192 cells.
      expect(file.kvAllocatedBytes).toBe(1024 * MIB);
      expect(plan.kvLayout.cells).toBe(8192);
      // "CUDA0 compute buffer size = 560.00 MiB".
      row("B01", "Llama-3.1-8B Q4_K_M (Ollama)", "4 × 2,048, ubatch 512, FA off", "compute buffer", 560 * MIB, file.computeBytes, "MiB");
      within(file.computeBytes, 560 * MIB, 0.02);
      row("B01", "Llama-3.1-8B Q4_K_M (Ollama)", "", "CUDA0 model buffer", 4403.49 * MIB, file.gpuModelBufferBytes, "MiB");
      row("B01", "Llama-3.1-8B Q4_K_M (Ollama)", "", "KV buffer", 1024 * MIB, file.kvAllocatedBytes, "MiB");
    } finally {
      await settings.cleanup();
    }
  });

  /** KV and compute buffer from the model's shape, as llama.cpp sizes them. */
  async function llamaBuffers(source: Parameters<typeof loadReplayModel>[1], id: string, options: { context: number; slots: number; unified: boolean; ubatch: number; flashAttention: boolean; configPatch?: Record<string, unknown> }) {
    const loaded = await loadReplayModel(id, source);
    const spec = deriveModelSpec({ ...loaded.config, ...options.configPatch });
    const kv = estimateKvCache(spec, { context: options.context, sequences: 1, bytesPerElement: 2, format: KV_FORMATS.fp16, stateBytesPerElement: 4 });
    const layout = llamaCppKvLayout(kv, options.context, options.slots, { unified: options.unified, ubatch: options.ubatch });
    return { spec, kv, layout, compute: llamaCppComputeBuffer(spec, { kvCells: layout.cells, ubatch: options.ubatch, flashAttention: options.flashAttention }) };
  }

  it("B02: Phi-3-mini (32 KV heads of 96, fused qkv) at 4,096 cells, ubatch 256: KV 1,536 MiB, compute 150 MiB", async () => {
    // The log's cache is one llama_kv_cache_unified of 4,096 cells over all 32 layers: that build
    // kept no separate SWA cache for Phi-3's 2,047-token window.
    const { layout, compute } = await llamaBuffers({ builtin: "microsoft/Phi-3-mini-4k-instruct" }, "microsoft/Phi-3-mini-4k-instruct", {
      context: 4096,
      slots: 1,
      unified: true,
      ubatch: 256,
      flashAttention: false,
      configPatch: { sliding_window: null },
    });
    expect(layout.bytes).toBe(1536 * MIB);
    row("B02", "Phi-3-mini-4k Q4_K_M", "4,096, ubatch 256, FA off", "compute buffer", 150 * MIB, compute.bytes, "MiB");
    within(compute.bytes, 150 * MIB, 0.02);
  });

  it("B03: OpenHermes-2.5-Mistral-7B (llama arch in GGUF, no sliding window) at 8,192 cells, ubatch 256, on CPU: KV 1,024 MiB, compute 280 MiB", async () => {
    // The GGUF is converted as "llama": llama.cpp applies no sliding window to it, and the vocab is 32,002.
    const { layout, compute } = await llamaBuffers({ builtin: "mistralai/Mistral-7B-v0.1" }, "teknium/OpenHermes-2.5-Mistral-7B", {
      context: 8192,
      slots: 1,
      unified: true,
      ubatch: 256,
      flashAttention: false,
      configPatch: { sliding_window: null, vocab_size: 32002 },
    });
    expect(layout.bytes).toBe(1024 * MIB);
    row("B03", "OpenHermes-2.5-Mistral-7B Q4_K_M", "8,192, ubatch 256, FA off, CPU", "compute buffer", 280 * MIB, compute.bytes, "MiB");
    within(compute.bytes, 280 * MIB, 0.02);
  });

  it("B04: Llama-3.1-405B at 4,096 cells, ubatch 512: KV 2,016 MiB, compute 1,160 MiB on each device", async () => {
    const { layout, compute } = await llamaBuffers({ fixture: "meta-llama--Llama-3.1-405B" }, "meta-llama/Llama-3.1-405B", { context: 4096, slots: 1, unified: true, ubatch: 512, flashAttention: false });
    expect(layout.bytes).toBe(2016 * MIB);
    row("B04", "Llama-3.1-405B Q4_0", "4,096, ubatch 512, FA off", "compute buffer", 1160 * MIB, compute.bytes, "MiB");
    within(compute.bytes, 1160 * MIB, 0.02);
  });

  it("B05: gpt-oss-20b at 131,072 tokens, flash attention: 12 full layers × 131,072 cells, 12 SWA layers × 768 cells, output compute 398.38 MiB", async () => {
    const { layout, compute, kv } = await llamaBuffers({ builtin: "openai/gpt-oss-20b" }, "openai/gpt-oss-20b", { context: 131072, slots: 1, unified: false, ubatch: 512, flashAttention: true });
    expect(layout.cells).toBe(131072);
    expect(layout.swaCells).toBe(768); // PAD_256(128 + 512)
    const full = kv.groups.find((group) => group.kind === "full")!;
    const sliding = kv.groups.find((group) => group.kind === "sliding")!;
    expect(full.layers * full.bytesPerTokenPerLayer * 131072).toBe(3072 * MIB);
    expect(sliding.layers * sliding.bytesPerTokenPerLayer * 768).toBe(18 * MIB);
    expect(layout.bytes).toBe(3090 * MIB);
    // The last device holds the output: "CANN7 compute buffer size = 398.38 MiB".
    row("B05", "gpt-oss-20b MXFP4", "131,072, ubatch 512, FA on", "compute buffer (output device)", 398.38 * MIB, compute.bytes, "MiB");
    within(compute.bytes, 398.38 * MIB, 0.02);
  });

  it("B06 (n_ubatch not stated): 8 slots of a 16,384 context, one stream each: 2,048 cells per slot, SWA 512 cells with a ubatch of at most 384", async () => {
    const { layout } = await llamaBuffers({ builtin: "openai/gpt-oss-20b" }, "openai/gpt-oss-20b", { context: 2048, slots: 8, unified: false, ubatch: 256, flashAttention: true });
    expect(layout.cells).toBe(2048);
    expect(layout.swaCells).toBe(512);
    // "size = 384.00 MiB (2048 cells, 12 layers, 8/8 seqs)" + "size = 96.00 MiB (512 cells, 12 layers, 8/8 seqs)".
    expect(layout.bytes).toBe((384 + 96) * MIB);
  });
});

describe("transformers generate() (kind E)", () => {
  // Qwen's speed benchmark (transformers 4.51.3, H20, batch 1, 2,048 new tokens): memory by input
  // length. It grows by exactly the KV cache per token, with no prefill spike: the figure is the
  // weights plus the DynamicCache of prompt + new tokens (MB as printed: MiB).
  const runs = [
    { id: "E01", model: "Qwen/Qwen3-8B", source: { fixture: "Qwen--Qwen3-8B" }, mib: { 1: 15947, 6144: 16811, 14336: 17963, 30720: 20267 } },
    { id: "E03", model: "Qwen/Qwen3-30B-A3B", source: { builtin: "Qwen/Qwen3-30B-A3B" }, mib: { 1: 58462, 6144: 59037, 14336: 59806, 30720: 61342 } },
  ];
  for (const run of runs) {
    it(`${run.id}: ${run.model} weights + DynamicCache within 1% at every input length`, async () => {
      for (const [input, logged] of Object.entries(run.mib)) {
        const plan = await replayPlan(await loadReplayModel(run.model, run.source), { context: Number(input) }, { engine: "transformers", gpu: "H20", knobs: { newTokens: 2048 } });
        const scheme = plan.serving!.schemes[0]!;
        const steady = scheme.weightsPerGpu + scheme.kvPerRequestBytes;
        row(run.id, run.model, `input ${input} + 2,048 new`, "weights + cache", logged * MIB, steady, "MiB");
        within(steady, logged * MIB, 0.01);
      }
    });
  }
});

import { describe, expect, it } from "vitest";
import { loadBuiltinModel } from "../../src/hub/builtin.js";
import { deriveModelSpec } from "../../src/model/derive.js";
import { estimateActivations } from "../../src/train/activations.js";
import { loraAdapters } from "../../src/train/lora.js";
import { planTrainLoaded, type TrainRequest } from "../../src/train.js";
import { trainRequest } from "../support/train-request.js";
import { fixtureConfig } from "../support/fixtures.js";
import { runCliCaptured } from "../support/run-cli.js";

const loaded = async (id: string) => {
  const builtin = await loadBuiltinModel(id);
  return { id, revision: "main", commit: undefined, configSource: "builtin" as const, config: builtin!.config, manifest: builtin!.manifest, manifestSource: builtin!.manifest ? ("builtin" as const) : undefined, notes: [] };
};
const request = trainRequest;
const LLAMA_8B = 8_030_261_248;
const ENV = (root: string) => ({ HF_HUB_OFFLINE: "1", HF_HUB_CACHE: `${root}/hf`, VRAMPLAN_CACHE: `${root}/vp` });

describe("model states", () => {
  it("full fine-tune of Llama-3.1-8B under mixed-precision AdamW: 16 B × 8,030,261,248 = 128,484,179,968 B", async () => {
    const result = await runCliCaptured(["train", "meta-llama/Llama-3.1-8B", "--method", "full", "--json"], ENV("/tmp/vramplan-train-test"));
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.modelStates.bytes).toBe(128_484_179_968);
    expect(report.modelStates.bytes).toBe(16 * LLAMA_8B);
    // Each component its own line: 2 + 4 + 2 + 8.
    expect(report.modelStates.lines.map((line: { bytesPerParameter: number }) => line.bytesPerParameter)).toEqual([2, 4, 2, 8]);
  });

  it("other precisions and optimizers (formulas.md table)", async () => {
    const states = async (changes: Partial<TrainRequest>) => planTrainLoaded(await loaded("meta-llama/Llama-3.1-8B"), request(changes), null).modelStates.bytes / LLAMA_8B;
    expect(await states({ precision: "fp32" })).toBe(16); // 4 + 4 + 8
    expect(await states({ precision: "bf16" })).toBe(8); // 2 + 2 + 4 (bf16 moments)
    expect(await states({ optimizer: "sgd-momentum" })).toBe(12); // 2 + 4 + 2 + 4
    expect(await states({ optimizer: "sgd" })).toBe(8);
    // 8-bit AdamW: two uint8 moments and an fp32 absmax per 2,048 values; norms (< 4,096
    // values each) keep 32-bit states: (2 + 4 + 2) + ≈2.004 per parameter.
    expect(await states({ optimizer: "adamw-8bit" })).toBeCloseTo(10.004, 3);
  });

  it("ZeRO shards optimizer states (1), gradients (2) and weights (3) over the data-parallel GPUs", async () => {
    const model = await loaded("meta-llama/Llama-3.1-8B");
    const bytes = (zero: 0 | 1 | 2 | 3) => planTrainLoaded(model, request({ gpus: 8, zero }), null).modelStates.bytes;
    const psi = LLAMA_8B;
    expect(await bytes(0)).toBe(16 * psi);
    expect(await bytes(1)).toBe(2 * psi + 2 * psi + (12 * psi) / 8); // ZeRO paper: 2Ψ + 2Ψ + 12Ψ/N
    expect(await bytes(2)).toBe(2 * psi + (14 * psi) / 8);
    // DeepSpeed's ZeRO 3 reduces gradients into fp32 partitions and gathers the largest module
    // (the 128,256 × 4,096 embedding) whole: 18Ψ/N + 4 × 525,336,576 (estimate_zero3_model_states_mem_needs).
    expect(await bytes(3)).toBe((18 * psi) / 8 + 4 * 128_256 * 4096);
    // FSDP's fp32 shards are the master copy: the paper's 16Ψ/N.
    expect(planTrainLoaded(model, request({ gpus: 8, zero: 3, fsdp: true }), null).modelStates.bytes).toBe((16 * psi) / 8);
  });

  it("effective batch = micro-batch × accumulation × data-parallel ranks, and accumulation costs no activations", async () => {
    const model = await loaded("meta-llama/Llama-3.1-8B");
    const one = planTrainLoaded(model, request({ microBatch: 2, gradAccum: 1, gpus: 4, zero: 3 }), null);
    const sixteen = planTrainLoaded(model, request({ microBatch: 2, gradAccum: 16, gpus: 4, zero: 3 }), null);
    expect(sixteen.batch.effective).toBe(2 * 16 * 4);
    expect(sixteen.batch.tokensPerStep).toBe(2 * 16 * 4 * 4096);
    expect(sixteen.activations.total).toBe(one.activations.total);
  });
});

describe("activations, worked by hand from Korthikanti et al. (2022)", () => {
  // A GPT-3-style layer as the paper assumes: MHA, a 4h MLP, dropout everywhere.
  const h = 2048;
  const a = 16;
  const s = 2048;
  const b = 4;
  const L = 24;
  const spec = deriveModelSpec({ model_type: "gpt2", n_embd: h, n_head: a, n_layer: L, n_positions: s, vocab_size: 50257, torch_dtype: "float16" });
  const layer = (flashAttention: boolean, checkpointing: "none" | "selective" | "full") =>
    estimateActivations(spec, { seq: s, microBatch: b, flashAttention, checkpointing, dropout: true, loss: "chunked", bytesPerValue: 2 });

  it("no recomputation: s·b·h·(34 + 5·a·s/h) bytes per layer", () => {
    expect(layer(false, "none").perLayer.total).toBe(s * b * h * (34 + (5 * a * s) / h));
    expect(layer(false, "none").layersBytes).toBe(L * s * b * h * (34 + (5 * a * s) / h));
  });

  it("selective recomputation drops the 5·a·s²·b score terms: 34·s·b·h", () => {
    expect(layer(false, "selective").perLayer.total).toBe(34 * s * b * h);
  });

  it("full recomputation keeps each layer's input, 2·s·b·h, plus one layer's activations", () => {
    expect(layer(false, "full").layersBytes).toBe(L * 2 * s * b * h + s * b * h * (34 + (5 * a * s) / h));
  });

  it("FlashAttention never stores the scores, but keeps an fp32 log-sum-exp per head and position", () => {
    expect(layer(true, "none").perLayer.total).toBe(34 * s * b * h + 4 * a * s * b);
    expect(layer(true, "full").layersBytes).toBe(L * 2 * s * b * h + 34 * s * b * h + 4 * a * s * b);
  });

  it("the logits and loss of a large vocabulary: 14 B per logit with transformers' fp32 loss", () => {
    const naive = estimateActivations(deriveModelSpec(fixtureConfig("Qwen/Qwen2.5-7B")), { seq: 4096, microBatch: 1, flashAttention: true, checkpointing: "full", dropout: false, loss: "naive", bytesPerValue: 2 });
    // 4,096 positions × 152,064 vocabulary × (2 B bf16 + 4 B fp32 copy + 4 B log-softmax + 4 B gradient)
    expect(naive.logitsBytes).toBe(4096 * 152_064 * 14);
  });
});

describe("LoRA and QLoRA", () => {
  it("rank 16 on q,k,v,o,gate,up,down of Llama-3-8B: 41,943,040 parameters (Unsloth's Llama-3 tutorial)", async () => {
    const result = await runCliCaptured(
      ["train", "meta-llama/Llama-3.1-8B", "--method", "lora", "--lora-rank", "16", "--lora-targets", "q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", "--json"],
      ENV("/tmp/vramplan-train-test"),
    );
    const report = JSON.parse(result.stdout);
    expect(report.lora.parameters).toBe(41_943_040);
    expect(report.parameters.trainable).toBe(41_943_040);
    // By hand: 32 layers × 16 × [2·(4096 + 4096) + 2·(4096 + 1024) + 3·(4096 + 14336)].
    expect(32 * 16 * (2 * 8192 + 2 * 5120 + 3 * 18432)).toBe(41_943_040);
  });

  it("attention-only targets, and MoE experts one by one (Mixtral's w1/w2/w3)", () => {
    const llama = deriveModelSpec(fixtureConfig("meta-llama/Llama-3.1-8B"));
    expect(loraAdapters(llama, 16, ["attention"]).parameters).toBe(32 * 16 * (2 * 8192 + 2 * 5120));
    const mixtral = deriveModelSpec(fixtureConfig("mistralai/Mixtral-8x7B-v0.1"));
    // 32 layers × 8 experts × 16 × (4,096 + 14,336) for w1 alone.
    expect(loraAdapters(mixtral, 16, ["w1"]).parameters).toBe(32 * 8 * 16 * (4096 + 14336));
    expect(() => loraAdapters(llama, 16, ["w1"])).toThrow(/`loraTargets` w1 match no module of this llama model: its linear modules are q_proj, k_proj/);
  });

  it("QLoRA: NF4 linears at ~0.516 B per parameter, the rest upcast to fp32", async () => {
    const report = planTrainLoaded(await loaded("meta-llama/Llama-3.1-8B"), request({ method: "qlora", checkpointing: "full" }), null);
    const [nf4, fp32] = report.modelStates.lines.filter((line) => line.label.startsWith("frozen"));
    // The decoder's Linear weights: 32 × (2·4096² + 2·4096·1024 + 3·4096·14336).
    expect(nf4?.parameters).toBe(32 * (2 * 4096 * 4096 + 2 * 4096 * 1024 + 3 * 4096 * 14336));
    expect(nf4?.bytesPerParameter).toBeCloseTo((4 + 8 / 64 + 32 / (64 * 256)) / 8, 3);
    // Embeddings and lm_head (2 × 128,256 × 4,096) and 65 norms of 4,096, in fp32.
    expect(fp32?.parameters).toBe(2 * 128_256 * 4096 + 65 * 4096);
    expect(fp32?.bytes).toBe(4 * (2 * 128_256 * 4096 + 65 * 4096));
  });

  it("LoRA on an AWQ checkpoint keeps the base as stored (4-bit linears), not at 16 bits", async () => {
    const report = planTrainLoaded(await loaded("Qwen/Qwen2.5-7B-Instruct-AWQ"), request({ method: "lora" }), null);
    const base = report.modelStates.lines.find((line) => line.label.startsWith("frozen"));
    expect(base?.label).toMatch(/as stored \(awq\)/);
    // The built-in manifest's bytes: the AWQ GEMM layout worked out in test/hub/builtin.test.ts.
    expect(base?.bytes).toBe(5_570_747_392);
    expect(base!.bytes).toBeLessThan(0.4 * 2 * 7_615_616_512);
  });
});

describe("fit search", () => {
  it("finds the largest micro-batch and longest sequence that fit, and the fewest GPUs with ZeRO 3", async () => {
    const model = await loaded("meta-llama/Llama-3.1-8B");
    const { findGpu } = await import("../../src/serve/gpu-catalog.js");
    const h100 = await findGpu("H100");
    const lora = planTrainLoaded(model, request({ method: "lora" }), h100);
    expect(lora.fit?.fits).toBe(true);
    // The fit is checked against what CUDA reports for an H100 sold as 80 GB: 79.18 GiB.
    const capacity = lora.fit!.capacityBytes;
    expect(capacity).toBe(Math.round(79.18 * 2 ** 30));
    const limit = lora.fit!.largestMicroBatch;
    expect(planTrainLoaded(model, request({ method: "lora", microBatch: limit }), null).totalPerGpu).toBeLessThanOrEqual(capacity);
    expect(planTrainLoaded(model, request({ method: "lora", microBatch: limit + 1 }), null).totalPerGpu).toBeGreaterThan(capacity);
    const full = planTrainLoaded(model, request({ method: "full" }), h100);
    expect(full.fit?.fits).toBe(false);
    const gpus = full.fit!.smallestGpuCount!;
    expect(planTrainLoaded(model, request({ method: "full", gpus, zero: 3 }), null).totalPerGpu).toBeLessThanOrEqual(capacity);
    expect(planTrainLoaded(model, request({ method: "full", gpus: gpus / 2, zero: 3 }), null).totalPerGpu).toBeGreaterThan(capacity);
    // FSDP's 16 B a parameter against DeepSpeed's 18 B and gathered embedding: at 2,048 tokens two
    // H100s hold it under FSDP (16Ψ/2 = 64.2 GB) but not under ZeRO 3 (18Ψ/2 + 4 × 525,336,576 = 74.4 GB).
    const short = planTrainLoaded(model, request({ method: "full", seq: 2048 }), h100).fit!;
    expect([short.smallestGpuCount, short.smallestGpuCountFsdp]).toEqual([4, 2]);
    expect(planTrainLoaded(model, request({ method: "full", seq: 2048, gpus: 2, zero: 3, fsdp: true }), null).totalPerGpu).toBeLessThanOrEqual(capacity);
  });
});

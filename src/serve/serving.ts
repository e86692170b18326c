import { UsageError } from "../errors.js";
import type { KvCacheEstimate } from "../estimate/kv-cache.js";
import { requantize } from "../estimate/requantize.js";
import type { QuantizationRules } from "../estimate/tensor-roles.js";
import { inventoryFromManifest, inventoryFromSpec } from "../estimate/weight-inventory.js";
import { describeScheme, parseWeightScheme, type WeightScheme } from "../estimate/weight-schemes.js";
import type { TensorManifest } from "../model/manifest.js";
import type { KvFormatName } from "../model/dtypes.js";
import type { ModelSpec } from "../model/spec.js";
import type { AccountingInput, EngineAccount, EngineKnobs, MemoryTerm } from "./accounting.js";
import { describeEngine, parseEngine, plannedWithOlderProfile, type EngineChoice, type EngineName } from "./engine-release.js";
import type { Gpu } from "./gpu-catalog.js";
import { deviceMemory, type DeviceMemory } from "./gpu-memory.js";
import { accountLlamaCpp } from "./llamacpp-account.js";
import { heldFromInventory, heldFromManifest, rankWeights, type HeldTensor, type RankWeights } from "./loaded-weights.js";
import { accountSglang } from "./sglang-account.js";
import { tensorParallelRefusal } from "./tensor-parallel.js";
import { accountTransformers } from "./transformers-account.js";
import { accountVllm } from "./vllm/vllm-account.js";

/** Weights as one scheme stores them: a what-if (requantize.ts) or the checkpoint as it is. */
export interface ServedWeights {
  name: string;
  description: string;
  bytes: number;
  parameters: number;
}

/** Tensor by tensor, as the engine will hold them (for tensor-parallel sharding). */
interface HeldWeights extends ServedWeights {
  tensors: HeldTensor[];
}

export interface ServingOptions {
  /** "vllm", "vllm@0.11", "llama.cpp@b5935" … (engine-release.ts). */
  engine?: string;
  /** The GPU, resolved from the catalog (gpu-catalog.ts findGpu). */
  gpu?: Gpu | null;
  /** --gpu-memory: the total the engine sees, overriding the table. */
  gpuMemoryBytes?: number;
  /** Tensor-parallel size (llama.cpp, transformers: layer split). */
  gpus?: number;
  /** vLLM gpu_memory_utilization / SGLang mem_fraction_static; the engine's default otherwise. */
  memoryFraction?: number;
  /** Weight formats to compare; the checkpoint's own dtype when empty. */
  schemes?: string[];
  groupSize?: number;
  /** GPUs to list as fitting or not when no GPU is given. */
  candidates?: Gpu[];
  knobs?: EngineKnobs;
}

/** One weight format served on the chosen GPUs: the engine's start-up arithmetic and its verdict. */
export interface SchemeServing {
  scheme: string;
  description: string;
  weightsBytes: number;
  bitsPerWeight: number;
  /** Per GPU from here on. Without a GPU only the weights and KV per request are known. */
  weightsPerGpu: number;
  kvPerRequestBytes: number;
  activationBytes: number | null;
  runtimeBytes: number | null;
  cudaGraphBytes: number | null;
  cudaGraphReserved: boolean | null;
  /** What the engine sizes against: vLLM total × gpu_memory_utilization, SGLang × mem_fraction_static. */
  usableBytes: number | null;
  kvBudgetBytes: number | null;
  /** Tokens the KV budget holds ("GPU KV cache size"); vLLM blocks where it pages. */
  kvTokens: number | null;
  kvBlocks: number | null;
  /** Requests of the requested context held at once ("Maximum concurrency … x"). */
  maxConcurrency: number | null;
  /** The longest context one request can have (vLLM's estimated maximum model length), up to the model's maximum. */
  longestContext: number | null;
  /** The engine starts and holds `batch` requests of the requested context. */
  fits: boolean | null;
  /** What the engine prints when it refuses to start; null when it starts. */
  refusal: string | null;
  /** The fewest GPUs of this kind that fit `batch` requests of the requested context. */
  smallestGpuCount: number | null;
  /** Everything on one GPU at the requested context and batch. */
  totalPerGpu: number | null;
  terms: MemoryTerm[];
  notes: string[];
}

export interface GpuFit {
  gpu: Gpu;
  scheme: string;
  fits: boolean;
  maxConcurrency: number | null;
  smallestGpuCount: number | null;
}

/** The setup (engine, GPU, request) and what each weight format makes of it. */
export interface ServingPlan {
  engine: { name: EngineName; version: string; label: string; requested: string | null; changes: string };
  gpu: Gpu | null;
  /** The GPU's memory as the engine sees it (CUDA's total), and where that figure comes from. */
  device: DeviceMemory | null;
  gpus: number;
  memoryFraction: number | null;
  context: number;
  batch: number;
  schemes: SchemeServing[];
  /** Without a GPU: which common GPUs fit the first scheme. */
  candidates: GpuFit[] | null;
  notes: string[];
}

/** Tensor-parallel sizes tried for "the fewest GPUs that fit". */
const GPU_COUNTS = [1, 2, 4, 8, 16, 32, 64];
const ACCOUNTS: Readonly<Record<EngineName, (input: AccountingInput, gpus: number) => EngineAccount>> = {
  vllm: accountVllm,
  sglang: accountSglang,
  "llama.cpp": accountLlamaCpp,
  transformers: accountTransformers,
};
/** KV cache element types each engine offers (vLLM CacheDType, SGLang --kv-cache-dtype, llama.cpp --cache-type-k). */
const ENGINE_KV_FORMATS: Readonly<Record<EngineName, readonly KvFormatName[]>> = {
  vllm: ["bf16", "fp16", "fp32", "fp8"],
  sglang: ["bf16", "fp16", "fp32", "fp8"],
  "llama.cpp": ["fp16", "bf16", "fp32", "q8_0", "q4_0"],
  transformers: ["bf16", "fp16", "fp32"],
};
const KV_FLAGS: Readonly<Record<EngineName, string>> = {
  vllm: "--kv-cache-dtype auto, fp8, fp8_e4m3 or fp8_e5m2",
  sglang: "--kv-cache-dtype auto, fp8_e5m2 or fp8_e4m3",
  "llama.cpp": "--cache-type-k/-v f16, bf16, f32, q8_0 or q4_0",
  transformers: "the model's dtype (a quantized cache needs cache_implementation=\"quantized\" and optimum-quanto)",
};

export interface ServingInputs {
  spec: ModelSpec;
  kv: KvCacheEstimate;
  /**
   * The checkpoint: its manifest (what-ifs are recomputed per tensor), its bytes as stored, and,
   * without a manifest, the scheme its config.json describes (quantization_config or the dtype).
   */
  weights: { manifest: TensorManifest | undefined; rules: QuantizationRules; stored: ServedWeights; storedScheme: WeightScheme };
  /** The model's compute dtype width (activations, rotary cache). */
  computeBytes: number;
  kvFormat: KvFormatName;
  kvFormatRequested: boolean;
}

export function planServing(inputs: ServingInputs, options: ServingOptions, request: { context: number; batch: number }): ServingPlan {
  const { spec, kv } = inputs;
  const engine: EngineChoice = parseEngine(options.engine ?? "vllm");
  const gpus = options.gpus ?? 1;
  if (!Number.isSafeInteger(gpus) || gpus < 1) throw new UsageError(`{gpus} must be a positive whole number, got ${gpus}`);
  const fraction = options.memoryFraction;
  if (fraction !== undefined && !(fraction > 0 && fraction <= 1)) throw new UsageError(`{memoryFraction} must be in (0, 1], got ${fraction}`);
  if (inputs.kvFormatRequested && !ENGINE_KV_FORMATS[engine.name].includes(inputs.kvFormat)) {
    throw new UsageError(`${engine.name} has no ${inputs.kvFormat} KV cache: it offers ${KV_FLAGS[engine.name]}; pick {kvDtype} from ${ENGINE_KV_FORMATS[engine.name].join(", ")}`);
  }
  const splitsHeads = engine.name === "vllm" || engine.name === "sglang";
  if (splitsHeads) {
    const refusal = tensorParallelRefusal(spec, gpus);
    if (refusal) {
      const valid = Array.from({ length: 64 }, (_, index) => index + 1)
        .filter((count) => tensorParallelRefusal(spec, count) === null)
        .join(", ");
      throw new UsageError(`${engine.name} refuses {gpus} ${gpus} (tensor parallel): ${refusal} Use ${valid}`);
    }
  }

  const inventory = inputs.weights.manifest ? inventoryFromManifest(spec, inputs.weights.manifest, inputs.weights.rules) : inventoryFromSpec(spec);
  const context = { numLayers: spec.numLayers, moe: spec.moe !== undefined };
  const held = (scheme: WeightScheme) => heldFromInventory(spec, inventory, requantize(inventory, scheme, context).tensorBytes);
  const whatIf = (name: string): HeldWeights => {
    const scheme = parseWeightScheme(name, options.groupSize);
    const requantized = requantize(inventory, scheme, context);
    return { name: scheme.name, description: describeScheme(scheme), bytes: requantized.bytes, parameters: requantized.parameters, tensors: heldFromInventory(spec, inventory, requantized.tensorBytes) };
  };
  // vLLM and SGLang load float checkpoints in 16 bits (dtype=auto); transformers and llama.cpp as stored.
  const loadBytes = splitsHeads ? Math.min(2, inputs.computeBytes) : null;
  const { manifest, rules, stored, storedScheme } = inputs.weights;
  const asStored: HeldWeights = { ...stored, tensors: manifest ? heldFromManifest(spec, manifest, rules, loadBytes) : held(storedScheme) };
  const served = options.schemes && options.schemes.length > 0 ? options.schemes.map(whatIf) : [asStored];
  const knobs = options.knobs ?? {};

  const serveOn = (gpu: Gpu | null, weights: HeldWeights): SchemeServing => {
    const rankCache = new Map<number, RankWeights>();
    const byRank = (tp: number) => {
      let cached = rankCache.get(tp);
      if (!cached) rankCache.set(tp, (cached = rankWeights(spec, weights.tensors, splitsHeads ? tp : 1, inputs.computeBytes)));
      return cached;
    };
    const device = gpu ? deviceMemory(gpu, options.gpuMemoryBytes) : notionalDevice();
    const accountFor = (count: number) =>
      ACCOUNTS[engine.name](
        { spec, kv, weights: byRank, engine, device, gpuName: gpu?.name ?? "", gpuVendor: gpu?.vendor ?? "", weightsAsStored: weights === asStored, gpus: count, memoryFraction: fraction, context: request.context, batch: request.batch, computeBytes: inputs.computeBytes, knobs },
        count,
      );
    const account = accountFor(gpus);
    const fitsWith = (result: EngineAccount) => result.refusal === null && result.maxConcurrency >= request.batch - 1e-9;
    const base = {
      scheme: weights.name,
      description: weights.description,
      weightsBytes: weights.bytes,
      bitsPerWeight: weights.parameters > 0 ? (8 * weights.bytes) / weights.parameters : 0,
      weightsPerGpu: account.weightsBytes,
      kvPerRequestBytes: account.kvPerRequestBytes,
    };
    if (!gpu) {
      return { ...base, activationBytes: null, runtimeBytes: null, cudaGraphBytes: null, cudaGraphReserved: null, usableBytes: null, kvBudgetBytes: null, kvTokens: null, kvBlocks: null, maxConcurrency: null, longestContext: null, fits: null, refusal: null, smallestGpuCount: null, totalPerGpu: null, terms: [], notes: account.notes };
    }
    const smallest = GPU_COUNTS.find((count) => (!splitsHeads || tensorParallelRefusal(spec, count) === null) && fitsWith(count === gpus ? account : accountFor(count))) ?? null;
    return {
      ...base,
      activationBytes: account.activationBytes,
      runtimeBytes: account.runtimeBytes,
      cudaGraphBytes: account.cudaGraphBytes,
      cudaGraphReserved: account.cudaGraphReserved,
      usableBytes: account.usableBytes,
      kvBudgetBytes: account.kvBudgetBytes,
      kvTokens: account.kvTokens,
      kvBlocks: account.kvBlocks,
      maxConcurrency: account.maxConcurrency,
      longestContext: account.longestContext,
      fits: fitsWith(account),
      refusal: account.refusal,
      smallestGpuCount: smallest,
      totalPerGpu: account.totalPerGpu,
      terms: account.terms,
      notes: account.notes,
    };
  };

  const gpu = options.gpu ?? null;
  const schemes = served.map((weights) => serveOn(gpu, weights));
  let candidates: GpuFit[] | null = null;
  if (!gpu && options.candidates) {
    const first = served[0] as HeldWeights;
    candidates = options.candidates.map((candidate) => {
      const result = serveOn(candidate, first);
      return { gpu: candidate, scheme: result.scheme, fits: result.fits ?? false, maxConcurrency: result.maxConcurrency, smallestGpuCount: result.smallestGpuCount };
    });
  }
  const notes: string[] = [];
  if (plannedWithOlderProfile(engine)) {
    notes.push(`${engine.name} ${engine.requested} is planned with the ${engine.release.version} profile, the newest vramplan models at or below it`);
  }
  const device = gpu ? deviceMemory(gpu, options.gpuMemoryBytes) : null;
  if (device?.unified) notes.push(device.unified);
  return {
    engine: { name: engine.name, version: engine.release.version, label: describeEngine(engine), requested: engine.requested, changes: engine.release.changes },
    gpu,
    device,
    gpus,
    memoryFraction: fraction ?? null,
    context: request.context,
    batch: request.batch,
    schemes,
    candidates,
    notes,
  };
}

/** Without a GPU the per-request figures are still the engine's; the device only bounds them. */
function notionalDevice(): DeviceMemory {
  return { bytes: 2 ** 50, basis: "nominal", source: "no GPU chosen", unified: null };
}

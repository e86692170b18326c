import type { KvCacheEstimate, KvLayerGroup } from "../estimate/kv-cache.js";
import type { ModelSpec } from "../model/spec.js";
import { activationPeakBytes, type EngineProfile } from "./engines.js";
import type { Gpu } from "./gpu-catalog.js";

/** Weights as one scheme stores them: a what-if (requantize.ts) or the checkpoint as it is. */
export interface ServedWeights {
  name: string;
  description: string;
  bytes: number;
  parameters: number;
}

/** One weight format served on the chosen GPUs: where the memory goes and what it allows. */
export interface SchemeServing {
  scheme: string;
  description: string;
  weightsBytes: number;
  bitsPerWeight: number;
  /** Per GPU from here on. */
  weightsPerGpu: number;
  /** Estimates (engine profile): activation peak, non-torch runtime memory, CUDA graphs. */
  activationBytes: number;
  runtimeBytes: number;
  cudaGraphBytes: number;
  /** What the engine allocates for one request at the requested context, per GPU. */
  kvPerRequestBytes: number;
  /** Memory the engine may use (fraction × GPU memory); null without a GPU. */
  usableBytes: number | null;
  kvBudgetBytes: number | null;
  /** Tokens the KV budget holds if every token is kept by every attention layer (vLLM's "GPU KV cache size"). */
  kvTokens: number | null;
  /** Requests of the requested context the KV budget holds at once (vLLM's "Maximum concurrency … x"). */
  maxConcurrency: number | null;
  /** The longest context one request can have, up to the model's maximum. */
  longestContext: number | null;
  fits: boolean | null;
  /** The fewest GPUs of this kind that fit `batch` requests of the requested context. */
  smallestGpuCount: number | null;
  /** Total per GPU at the requested context and batch: weights + KV + activations + runtime. */
  totalPerGpu: number;
}

export interface ServingInput {
  spec: ModelSpec;
  /** KV groups of one sequence at the requested context (estimateKvCache). */
  kv: KvCacheEstimate;
  engine: EngineProfile;
  gpu: Gpu | null;
  gpus: number;
  memoryFraction: number;
  context: number;
  batch: number;
}

const TP_SIZES = [1, 2, 4, 8, 16, 32, 64];

export function serveScheme(input: ServingInput, weights: ServedWeights): SchemeServing {
  const { engine, spec } = input;
  const perGpu = (gpus: number) => {
    const weightsPerGpu = Math.ceil(weights.bytes / gpus);
    const activationBytes = activation(input);
    const runtimeBytes = engine.nonTorchBytes + (gpus > 1 ? engine.tensorParallelBytes : 0);
    return { weightsPerGpu, activationBytes, runtimeBytes };
  };
  const here = perGpu(input.gpus);
  const kvPerRequestBytes = requestBytes(input, input.context, input.gpus);
  const base: SchemeServing = {
    scheme: weights.name,
    description: weights.description,
    weightsBytes: weights.bytes,
    bitsPerWeight: weights.parameters > 0 ? (8 * weights.bytes) / weights.parameters : 0,
    ...here,
    cudaGraphBytes: engine.cudaGraphBytes,
    kvPerRequestBytes,
    usableBytes: null,
    kvBudgetBytes: null,
    kvTokens: null,
    maxConcurrency: null,
    longestContext: null,
    fits: null,
    smallestGpuCount: null,
    totalPerGpu: here.weightsPerGpu + kvPerRequestBytes * input.batch + here.activationBytes + here.runtimeBytes,
  };
  if (!input.gpu) return base;

  const gpuBytes = input.gpu.bytes;
  const budgetFor = (gpus: number) => {
    const { weightsPerGpu, activationBytes, runtimeBytes } = perGpu(gpus);
    const usable = Math.floor(input.memoryFraction * gpuBytes);
    switch (engine.budget) {
      case "profiled":
        return usable - weightsPerGpu - activationBytes - runtimeBytes;
      case "fraction-after-weights":
        return usable - weightsPerGpu;
      case "everything-else":
        return gpuBytes - weightsPerGpu - activationBytes - runtimeBytes;
    }
  };
  const budget = budgetFor(input.gpus);
  const fitsWith = (gpus: number) => budgetFor(gpus) >= requestBytes(input, input.context, gpus) * input.batch;
  const perTokenAllLayers = input.kv.groups
    .filter((group) => group.kind !== "state")
    .reduce((sum, group) => sum + group.layers * group.bytesPerTokenPerLayer * tensorParallelShare(group, input.gpus, engine), 0);
  const stateBytes = requestBytes(input, 0, input.gpus);
  const rawTokens = perTokenAllLayers > 0 ? Math.floor(Math.max(0, budget - stateBytes) / perTokenAllLayers) : 0;
  const maxContext = spec.maxContext ?? input.context;
  return {
    ...base,
    usableBytes: engine.budget === "everything-else" ? gpuBytes : Math.floor(input.memoryFraction * gpuBytes),
    kvBudgetBytes: budget,
    kvTokens: Math.floor(rawTokens / engine.blockTokens) * engine.blockTokens,
    maxConcurrency: kvPerRequestBytes > 0 ? Math.max(0, budget) / kvPerRequestBytes : null,
    longestContext: longestContext(input, budget, maxContext),
    fits: fitsWith(input.gpus),
    smallestGpuCount: TP_SIZES.find((gpus) => validTensorParallel(spec, gpus, engine) && fitsWith(gpus)) ?? null,
  };
}

function activation(input: ServingInput): number {
  const { engine, spec } = input;
  const tokens = engine.batchedTokens ?? input.context * input.batch;
  const logitRows = engine.name === "llama.cpp" ? (engine.batchedTokens ?? 1) : engine.maxSequences;
  return activationPeakBytes(spec, tokens, logitRows);
}

/** vLLM needs the attention heads to divide over the tensor-parallel ranks. */
export function validTensorParallel(spec: ModelSpec, gpus: number, engine: EngineProfile): boolean {
  if (engine.name === "llama.cpp" || spec.numAttentionHeads === 0) return true;
  return spec.numAttentionHeads % gpus === 0;
}

/**
 * The share of a group's cache one GPU holds. Tensor parallelism splits KV heads; with more GPUs
 * than KV heads each GPU keeps one (heads are replicated: vLLM get_num_kv_heads =
 * max(1, n_kv // tp)). An MLA latent is one shared vector, held whole by every GPU. llama.cpp
 * splits layers instead, so each GPU holds its share of them.
 */
export function tensorParallelShare(group: KvLayerGroup, gpus: number, engine: EngineProfile): number {
  if (gpus <= 1) return 1;
  if (engine.name === "llama.cpp") return 1 / gpus;
  if (group.kind === "state") return 1 / gpus;
  if (group.kind === "mla") return 1;
  const heads = group.kvHeads ?? 1;
  return Math.max(1, Math.floor(heads / gpus)) / heads;
}

/** Tokens the engine allocates for one layer of a group for a request of `context` tokens. */
export function allocatedTokens(group: KvLayerGroup, context: number, engine: EngineProfile): number {
  const block = engine.blockTokens;
  const roundUp = (tokens: number) => Math.ceil(tokens / block) * block;
  const window = group.window;
  if (window === null || group.kind === "full" || group.kind === "mla") return roundUp(context);
  const batched = engine.batchedTokens ?? 0;
  switch (engine.windowSlack) {
    case "vllm":
      // SlidingWindowSpec: the window, the chunk being prefilled, and one block of misalignment;
      // ChunkedLocalAttentionSpec: the chunk and the prefill chunk.
      return group.kind === "sliding" ? roundUp(Math.min(window - 1 + batched, context)) + (Math.min(window - 1 + batched, context) > 0 ? block : 0) : roundUp(Math.min(window + batched, context));
    case "llama.cpp":
      return Math.min(roundUp(Math.min(context, window + batched)), roundUp(context));
    case "none":
      return Math.min(context, window);
  }
}

/** Per-GPU bytes the engine allocates for one request of `context` tokens. */
export function requestBytes(input: Pick<ServingInput, "kv" | "engine">, context: number, gpus: number): number {
  let bytes = 0;
  for (const group of input.kv.groups) {
    const share = tensorParallelShare(group, gpus, input.engine);
    bytes +=
      group.kind === "state"
        ? Math.ceil(group.layers * group.bytesPerSequencePerLayer * share)
        : Math.ceil(group.layers * group.bytesPerTokenPerLayer * share * (context > 0 ? allocatedTokens(group, context, input.engine) : 0));
  }
  return bytes;
}

function longestContext(input: ServingInput, budget: number, maxContext: number): number {
  if (requestBytes(input, 1, input.gpus) > budget) return 0;
  if (requestBytes(input, maxContext, input.gpus) <= budget) return maxContext;
  let low = 1;
  let high = maxContext;
  while (high - low > 1) {
    const middle = Math.floor((low + high) / 2);
    if (requestBytes(input, middle, input.gpus) <= budget) low = middle;
    else high = middle;
  }
  return low;
}

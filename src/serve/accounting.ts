import type { KvCacheEstimate } from "../estimate/kv-cache.js";
import type { ModelSpec } from "../model/spec.js";
import type { EngineChoice } from "./engine-release.js";
import type { DeviceMemory } from "./gpu-memory.js";
import type { RankWeights } from "./loaded-weights.js";

/** One term of an engine's start-up arithmetic, with the engine file whose rule it restates. */
export interface MemoryTerm {
  name: string;
  bytes: number;
  /** false: a modelled estimate (printed with ~); true: counted exactly. */
  exact: boolean;
  /** How the figure was reached, with the numbers. */
  formula: string;
  source: string;
}

/** The knobs a user sets on the engine's command line; unset ones take the engine's defaults. */
export interface EngineKnobs {
  /** vLLM --max-num-seqs; llama.cpp --parallel. */
  maxNumSeqs?: number;
  /** vLLM --max-num-batched-tokens; llama.cpp --ubatch-size. */
  maxNumBatchedTokens?: number;
  /** vLLM --block-size. */
  blockSize?: number;
  /** vLLM --enforce-eager: no CUDA graphs. */
  enforceEager?: boolean;
  /** vLLM --kv-cache-memory-bytes: the KV cache's size, memory profiling skipped. */
  kvCacheMemoryBytes?: number;
  /** vLLM --enable-prefix-caching: for hybrids, mamba_cache_mode "align" (two state blocks a request). */
  enablePrefixCaching?: boolean;
  /** llama.cpp -fa on/off. */
  flashAttention?: boolean;
  /** Tokens to generate (transformers generate max_new_tokens): the cache holds prompt + these. */
  newTokens?: number;
}

/** Everything an engine's accounting starts from, for one weight format on one GPU count. */
export interface AccountingInput {
  spec: ModelSpec;
  /** The model's KV need for one sequence at `context` (estimateKvCache): its groups give the per-layer shapes. */
  kv: KvCacheEstimate;
  /** Weights on one rank for a tensor-parallel size. */
  weights: (tp: number) => RankWeights;
  engine: EngineChoice;
  device: DeviceMemory;
  /** The GPU's catalog name, for engine rules keyed on it (vLLM keeps A100s off its large defaults). */
  gpuName: string;
  /** The catalog's vendor ("NVIDIA", "AMD", "Apple"), "" for a GPU known only by its memory. */
  gpuVendor: string;
  /** Whether `weights` are the checkpoint as stored (engines re-lay some formats out when loading them), not a what-if format. */
  weightsAsStored: boolean;
  gpus: number;
  memoryFraction: number | undefined;
  /** Tokens per sequence: vLLM's max_model_len, llama.cpp's n_ctx per slot. */
  context: number;
  batch: number;
  /** The model's dtype as the engine computes in (bytes per activation value). */
  computeBytes: number;
  knobs: EngineKnobs;
}

/** What the engine does at start-up on one GPU (one tensor-parallel rank), and what that allows. */
export interface EngineAccount {
  /** Memory the engine sees on the device, and the share it sizes against (vLLM: total × gpu_memory_utilization). */
  totalBytes: number;
  usableBytes: number;
  weightsBytes: number;
  activationBytes: number;
  /** CUDA context, NCCL and allocator memory outside PyTorch's count (llama.cpp: the output buffer and context). */
  runtimeBytes: number;
  cudaGraphBytes: number;
  /** Whether the CUDA-graph estimate was taken from the KV budget before sizing it. */
  cudaGraphReserved: boolean;
  kvBudgetBytes: number;
  /** Tokens the KV cache holds ("GPU KV cache size: N tokens"). */
  kvTokens: number;
  /** vLLM blocks (num_gpu_blocks), null for engines that do not page. */
  kvBlocks: number | null;
  /** Per rank: what one request of `context` tokens takes as the engine allocates it. */
  kvPerRequestBytes: number;
  /** Requests of `context` tokens served at once ("Maximum concurrency for N tokens per request"). */
  maxConcurrency: number;
  /** The longest context one request can have (vLLM's "estimated maximum model length"), capped at the model's maximum. */
  longestContext: number;
  /** Null when the engine starts; otherwise the error it prints. */
  refusal: string | null;
  /** Everything on the GPU at the requested batch and context (per rank). */
  totalPerGpu: number;
  terms: MemoryTerm[];
  notes: string[];
}

export const MIB = 2 ** 20;
export { GIB } from "../report/units.js";

import type { ModelSpec } from "../model/spec.js";

export const ENGINE_NAMES = ["vllm", "sglang", "llama.cpp", "transformers"] as const;
export type EngineName = (typeof ENGINE_NAMES)[number];

/**
 * What an engine reserves besides weights and KV cache, and how it allocates the cache. Every
 * number here is an assumption restated from the engine's defaults (engines.md §1.9–1.11, §5);
 * `--explain` prints them and the report marks what they produce as estimates.
 */
export interface EngineProfile {
  name: EngineName;
  /** The release whose defaults are restated. */
  version: string;
  /** Share of the GPU the engine may use: vLLM gpu_memory_utilization, SGLang mem_fraction_static. */
  memoryFraction: number;
  memoryFractionFlag: string | null;
  /** Tokens in one forward pass when the engine profiles or prefills: vLLM max_num_batched_tokens, llama.cpp n_ubatch; null = the whole context (transformers). */
  batchedTokens: number | null;
  /** Sequences sampled at once (logits buffers): vLLM max_num_seqs. */
  maxSequences: number;
  /** CUDA context, allocator, cuBLAS/NCCL buffers outside PyTorch's accounting, per GPU. */
  nonTorchBytes: number;
  /** Extra non-torch memory per GPU under tensor parallelism (NCCL, custom all-reduce). */
  tensorParallelBytes: number;
  /** CUDA graphs: captured after the KV cache is sized, so they must fit in the headroom. */
  cudaGraphBytes: number;
  /** KV pages: tokens per block (vLLM 16), or the n_ctx padding (llama.cpp 256). */
  blockTokens: number;
  /** Whether sliding and chunked layers get the engine's slack (vLLM) or exactly their window. */
  windowSlack: "vllm" | "llama.cpp" | "none";
  /** How the KV budget is found. */
  budget: "profiled" | "fraction-after-weights" | "everything-else";
  assumptions: string[];
}

const GIB = 2 ** 30;

export const ENGINES: Readonly<Record<EngineName, EngineProfile>> = {
  vllm: {
    name: "vllm",
    version: "0.10",
    memoryFraction: 0.9,
    memoryFractionFlag: "--gpu-memory-utilization",
    batchedTokens: 8192,
    maxSequences: 256,
    nonTorchBytes: 0.5 * GIB,
    tensorParallelBytes: 0.5 * GIB,
    cudaGraphBytes: 0.5 * GIB,
    blockTokens: 16,
    windowSlack: "vllm",
    budget: "profiled",
    assumptions: [
      "KV budget = gpu_memory_utilization (default 0.9) × GPU memory − weights − profiled activation peak − non-torch memory (vllm/v1/worker/gpu_worker.py)",
      "activation peak: one forward pass of max_num_batched_tokens = 8,192 tokens (the V1 default for serving) plus fp32 logits of max_num_seqs = 256 sequences",
      "non-torch memory (CUDA context, cuBLAS, allocator): ~0.5 GiB per GPU, +0.5 GiB under tensor parallelism (NCCL, custom all-reduce)",
      "CUDA graphs (~0.5 GiB) are captured after the KV cache is sized and must fit in the 1 − gpu_memory_utilization headroom",
      "KV pages of 16 tokens; a sliding layer keeps min(window − 1 + max_num_batched_tokens, context) tokens plus one block, a chunked layer min(chunk + max_num_batched_tokens, context) (kv_cache_interface.py)",
    ],
  },
  sglang: {
    name: "sglang",
    version: "0.4",
    memoryFraction: 0.88,
    memoryFractionFlag: "--mem-fraction-static",
    batchedTokens: 8192,
    maxSequences: 256,
    nonTorchBytes: 0.5 * GIB,
    tensorParallelBytes: 0.5 * GIB,
    cudaGraphBytes: 0,
    blockTokens: 1,
    windowSlack: "none",
    budget: "fraction-after-weights",
    assumptions: [
      "KV budget = mem_fraction_static × GPU memory − weights (model_runner profile_max_num_token); the rest is left for activations and CUDA graphs",
      "mem_fraction_static ~0.88: SGLang picks it from GPU size, chunked-prefill size and CUDA-graph batch size; pass --mem-fraction-static to match your server",
      "pages of one token; sliding layers hold their window",
    ],
  },
  "llama.cpp": {
    name: "llama.cpp",
    version: "b6000",
    memoryFraction: 1,
    memoryFractionFlag: null,
    batchedTokens: 512,
    maxSequences: 1,
    nonTorchBytes: 0.3 * GIB,
    tensorParallelBytes: 0,
    cudaGraphBytes: 0,
    blockTokens: 256,
    windowSlack: "llama.cpp",
    budget: "everything-else",
    assumptions: [
      "everything must fit: weights + KV cache + compute buffer + CUDA context (~0.3 GiB)",
      "n_ctx is padded to 256 cells; SWA layers keep PAD_256(min(n_ctx, window + n_ubatch)) cells (src/llama-kv-cache-iswa.cpp)",
      "compute buffer: one n_ubatch = 512-token batch with flash attention, fp32 logits for the batch",
      "--gpus N splits layers across GPUs (llama.cpp's default layer split), not heads",
    ],
  },
  transformers: {
    name: "transformers",
    version: "4.5x",
    memoryFraction: 1,
    memoryFractionFlag: null,
    batchedTokens: null,
    maxSequences: 1,
    nonTorchBytes: 0.5 * GIB,
    tensorParallelBytes: 0,
    cudaGraphBytes: 0,
    blockTokens: 1,
    windowSlack: "none",
    budget: "everything-else",
    assumptions: [
      "everything must fit: weights + DynamicCache + the prompt's activations in one forward pass + CUDA context (~0.5 GiB)",
      "the whole prompt is prefilled at once (no chunking), so activations grow with the context",
      "generate() keeps only the last position's logits (fp32)",
    ],
  },
};

/**
 * The activation peak of one forward pass over `tokens` tokens, in bf16, with the largest layer's
 * intermediates alive at once: residual and norm outputs (2h), q, k, v and the attention output,
 * the MLP's gate, up and activation (3f; MoE: top-k experts' fused buffers), plus fp32 logits for
 * `logitRows` positions. An estimate of what vLLM's profile run measures.
 */
export function activationPeakBytes(spec: ModelSpec, tokens: number, logitRows: number): number {
  const h = spec.hiddenSize;
  const attention = spec.mla
    ? spec.numAttentionHeads * (spec.mla.qkNopeHeadDim + spec.mla.qkRopeHeadDim + spec.mla.vHeadDim) + spec.mla.kvLoraRank
    : (spec.numAttentionHeads + 2 * spec.numKeyValueHeads) * spec.headDim + spec.numAttentionHeads * spec.headDim;
  const moe = spec.moe;
  const mlp = moe ? moe.expertsPerToken * (3 * moe.expertIntermediate + h) + 3 * moe.sharedIntermediate : 3 * spec.intermediateSize;
  const perToken = 2 * (2 * h + attention + Math.max(mlp, 3 * spec.intermediateSize));
  return tokens * perToken + logitRows * spec.vocabSize * 4;
}


import { formatGiB, formatInt } from "../../report/units.js";
import { GIB, type AccountingInput, type EngineAccount, type MemoryTerm } from "../accounting.js";
import type { VllmRelease } from "../engine-release.js";
import { kvShare, kvSplitNote } from "../tensor-parallel.js";
import { vllmBlockSize, vllmSchedulerDefaults } from "./defaults.js";
import { estimateMaxModelLen, vllmKvConfig, type KvConfigInput } from "./kv-cache-config.js";
import { vllmProfileRun } from "./profile-run.js";
import { computeCapability } from "../gpu-architecture.js";
import { vllmMxfp4Layout } from "./mxfp4-experts.js";
import { vllmArchitectureSupport } from "./architectures.js";

/**
 * Memory outside PyTorch's count. V0 (worker.py) subtracts everything on the device that PyTorch
 * did not allocate, the CUDA context and cuBLAS workspaces included: 0.35 GiB on the RTX 3090 of
 * vLLM issue #10517. V1 (mem_utils.py memory_profiling) counts only what grew after its start
 * snapshot: 0.13 GiB in every single-GPU H100 log we hold, 0.55 GiB under tensor parallelism 2
 * (NCCL communicators and the custom all-reduce buffers).
 */
const NON_TORCH = { v0: Math.round(0.35 * GIB), v1: Math.round(0.13 * GIB), tensorParallel: Math.round(0.42 * GIB) };
/** CUDA graphs for the default capture sizes: 0.1–1 GiB in the logs ("Graph capturing finished … took X GiB"). */
const CUDA_GRAPH_ESTIMATE = 0.5 * GIB;
/** What the driver and other processes hold before vLLM starts (79.18 − 78.57 GiB free on an idle H100). */
const MEMORY_IN_USE_AT_START = Math.round(0.6 * GIB);

export const VLLM_DEFAULT_UTILIZATION = 0.9;

/** vLLM's start-up on one tensor-parallel rank (gpu_worker.py determine_available_memory, V0: worker.py). */
export function accountVllm(input: AccountingInput, tp: number): EngineAccount {
  const release = input.engine.release as VllmRelease;
  const { spec, device, context } = input;
  const total = device.bytes;
  const utilization = input.memoryFraction ?? VLLM_DEFAULT_UTILIZATION;
  const requested = total * utilization;
  const defaults = vllmSchedulerDefaults(release, { bytes: total, name: input.gpuName }, context);
  const maxNumSeqs = input.knobs.maxNumSeqs ?? defaults.maxNumSeqs;
  const batchedTokens = input.knobs.maxNumBatchedTokens ?? defaults.maxNumBatchedTokens;
  const blockTokens = vllmBlockSize(spec.mla !== undefined, input.knobs.blockSize);

  const stored = input.weights(tp);
  const mxfp4 = vllmMxfp4Layout(spec, input.weightsAsStored, { name: input.gpuName, vendor: input.gpuVendor, capability: computeCapability(input.gpuName, input.gpuVendor) }, release, tp);
  const weights = mxfp4 ? { ...stored, bytes: stored.bytes + mxfp4.extraBytes } : stored;
  const profile = vllmProfileRun(spec, release, batchedTokens, maxNumSeqs, tp, input.computeBytes);
  const nonTorch = release.runtime === "v0" ? NON_TORCH.v0 : NON_TORCH.v1 + (tp > 1 ? NON_TORCH.tensorParallel : 0);
  const cudaGraphs = input.knobs.enforceEager ? 0 : CUDA_GRAPH_ESTIMATE;
  const hybrid = input.kv.groups.some((group) => group.kind === "state");
  const reserved = (hybrid ? release.hybridCudaGraphs : release.cudaGraphs) === "reserved" && cudaGraphs > 0;
  // --kv-cache-memory-bytes: gpu_worker.py reserves exactly that and skips the memory profiling.
  const givenKv = input.knobs.kvCacheMemoryBytes;
  const profiled = Math.floor(requested - weights.bytes - profile.peakBytes - nonTorch - (reserved ? cudaGraphs : 0));
  const available = givenKv ?? profiled;

  const kvInput: KvConfigInput = {
    groups: input.kv.groups,
    share: (group) => kvShare(group, tp, "heads"),
    tp,
    blockTokens,
    maxNumBatchedTokens: batchedTokens,
    runtime: release.runtime,
    tokenReport: release.tokenReport,
    mambaCacheMode: input.knobs.enablePrefixCaching ? "align" : "none",
  };
  const kv = vllmKvConfig(kvInput, Math.max(0, available), context);
  const modelMax = spec.maxContext ?? context;
  const longest =
    available <= 0 ? 0 : release.runtime === "v0" ? Math.min(modelMax, kv.tokens) : estimateMaxModelLen(kv.types, batchedTokens, available, Math.max(modelMax, context), kvInput.mambaCacheMode);

  let refusal: string | null = null;
  const free = total - MEMORY_IN_USE_AT_START;
  const support = vllmArchitectureSupport(spec.architecture, input.engine);
  if (support.refusal) {
    refusal = support.refusal;
  } else if (givenKv !== undefined && !release.kvCacheMemoryBytes) {
    refusal = `vllm ${release.version} has no kv_cache_memory_bytes (vramplan models it from its 0.11 profile on): drop \`kvCacheMemoryBytes\` and size the cache with \`memoryFraction\``;
  } else if (mxfp4?.refusal) {
    refusal = mxfp4.refusal;
  } else if (givenKv !== undefined && weights.bytes + nonTorch + givenKv > free) {
    refusal = `torch.OutOfMemoryError allocating the KV cache: kv_cache_memory_bytes ${formatGiB(givenKv)} GiB on top of ${formatGiB(weights.bytes)} GiB of weights is more than the ${formatGiB(free)} GiB free; lower \`kvCacheMemoryBytes\``;
  } else if (weights.bytes > free) {
    refusal = `torch.OutOfMemoryError while loading the weights: ${formatGiB(weights.bytes)} GiB per GPU, more than the ${formatGiB(free)} GiB free on a ${formatGiB(total)} GiB GPU`;
  } else if (release.runtime === "v1" && givenKv === undefined && requested > free) {
    refusal = `Free memory on device (${formatGiB(free)}/${formatGiB(total)} GiB) on startup is less than desired GPU memory utilization (${utilization}, ${formatGiB(requested)} GiB). Decrease GPU memory utilization or reduce GPU memory used by other processes.`;
  } else if (available <= 0 || kv.blocks === 0) {
    refusal = "No available memory for the cache blocks. Try increasing `gpu_memory_utilization` when initializing the engine.";
  } else if (release.runtime === "v0" && kv.tokens < context) {
    refusal = `The model's max seq len (${context}) is larger than the maximum number of tokens that can be stored in KV cache (${kv.tokens}). Try increasing \`gpu_memory_utilization\` or decreasing \`max_model_len\` when initializing the engine.`;
  } else if (release.runtime === "v1" && kv.neededBytes > available) {
    refusal = `To serve at least one request with the models's max seq len (${context}), (${formatGiB(kv.neededBytes)} GiB KV cache is needed, which is larger than the available KV cache memory (${formatGiB(available)} GiB). Based on the available memory, the estimated maximum model length is ${longest}. Try increasing \`gpu_memory_utilization\` or decreasing \`max_model_len\` when initializing the engine.`;
  } else if (release.stateBlocksCheck && !input.knobs.enforceEager && hybrid && maxNumSeqs > kv.blocks) {
    refusal = `max_num_seqs (${maxNumSeqs}) exceeds available Mamba cache blocks (${kv.blocks}). Each decode sequence requires one Mamba cache block, so CUDA graph capture cannot proceed. Please lower max_num_seqs to at most ${kv.blocks} or increase gpu_memory_utilization.`;
  }

  const split = kvSplitNote(spec, tp);
  const notes = [...weights.notes, ...(support.note ? [support.note] : []), ...(mxfp4 ? [mxfp4.note] : []), ...(split ? [split] : []), `scheduler: ${defaults.rule}${input.knobs.maxNumSeqs !== undefined || input.knobs.maxNumBatchedTokens !== undefined ? " (overridden where given)" : ""}`];
  if (refusal === null && givenKv !== undefined && weights.bytes + profile.peakBytes + nonTorch + cudaGraphs + givenKv > free) {
    notes.push(
      `\`kvCacheMemoryBytes\` ${formatInt(givenKv)} B is reserved without a check: with the weights (${formatGiB(weights.bytes)} GiB), the profile run's ~${formatGiB(profile.peakBytes)} GiB, ~${formatGiB(nonTorch + cudaGraphs)} GiB outside PyTorch and CUDA graphs, it comes to more than the ${formatGiB(free)} GiB free: expect an out-of-memory error at start-up or under load`,
    );
  }
  if (spec.hasVisionTower) {
    notes.push(
      "vLLM's profile run also encodes its largest dummy image or video (gpu_model_runner.py profile_run → embed_multimodal) and keeps the result while the language model's dummy pass runs: that peak is not counted here, so the KV budget may be lower by up to a few GiB; for text only, vLLM skips it with --limit-mm-per-prompt '{\"image\": 0, \"video\": 0}'",
    );
  }
  if (kv.paddingLayers > 0) notes.push(`KV groups of ${kv.groupSize} layers: ${kv.paddingLayers} padding layer slot(s) added, as vLLM warns ("Add ${kv.paddingLayers} padding layers")`);
  if (!reserved && cudaGraphs > 0 && requested + cudaGraphs > free) {
    notes.push(`CUDA graphs (~${formatGiB(cudaGraphs)} GiB) are captured after the KV cache takes ${utilization} of the GPU: with ${formatGiB(total - requested)} GiB left, capture may run out of memory (lower --gpu-memory-utilization or pass --enforce-eager)`);
  }

  const terms: MemoryTerm[] = [
    { name: "GPU memory", bytes: total, exact: device.basis !== "nominal", formula: `${formatGiB(total)} GiB as CUDA reports it (${device.source})`, source: "torch.cuda.mem_get_info()" },
    { name: "requested memory", bytes: Math.floor(requested), exact: true, formula: `${formatGiB(total)} GiB × gpu_memory_utilization ${utilization}`, source: "vllm/v1/worker/gpu_worker.py init_device (request_memory)" },
    {
      name: "weights",
      bytes: weights.bytes,
      // The MXFP4 re-layout is restated from source, yet the logs it was checked against sit 0.05–0.08 GiB above it.
      exact: !mxfp4?.formula,
      formula: `${formatInt(weights.modelBytes)} B as loaded${tp > 1 ? ` split over ${tp} ranks` : ""}, + ${formatInt(weights.vocabPaddingBytes)} B vocab padding to 64 rows, + ${formatInt(weights.replicatedBytes)} B kept whole on every rank, + rotary cos/sin cache ${formatInt(weights.ropeCacheBytes)} B${mxfp4?.formula ? `, + ${formatInt(mxfp4.extraBytes)} B for the MXFP4 experts as loaded (${mxfp4.formula})` : ""} = ${formatInt(weights.bytes)} B ("Model loading took")`,
      source: `vllm/model_executor/layers/vocab_parallel_embedding.py, linear.py, rotary_embedding.py${mxfp4?.formula ? ", quantization/mxfp4.py" : ""}`,
    },
    {
      name: "peak activation",
      bytes: profile.peakBytes,
      exact: false,
      formula: `${profile.formula}; profile run of ${formatInt(profile.tokens)} tokens (max_num_batched_tokens) in ${formatInt(profile.sequences)} sequences (max_num_seqs)`,
      source: release.runtime === "v0" ? "vllm/worker/model_runner.py profile_run" : "vllm/v1/worker/gpu_model_runner.py profile_run, _dummy_sampler_run; vllm/v1/sample/ops/topk_topp_sampler.py",
    },
    {
      name: "non-torch memory",
      bytes: nonTorch,
      exact: false,
      formula:
        release.runtime === "v0"
          ? "everything outside PyTorch, the CUDA context included (~0.35 GiB)"
          : `growth outside PyTorch since the start snapshot (~0.13 GiB)${tp > 1 ? " + NCCL and custom all-reduce buffers under tensor parallelism (~0.42 GiB)" : ""}`,
      source: release.runtime === "v0" ? "vllm/worker/worker.py determine_num_available_blocks" : "vllm/utils/mem_utils.py memory_profiling (non_torch_increase)",
    },
    {
      name: "CUDA graphs",
      bytes: cudaGraphs,
      exact: false,
      formula: input.knobs.enforceEager
        ? "none: --enforce-eager"
        : reserved
          ? "~0.5 GiB estimated by capturing before the KV cache is sized, and reserved from it (VLLM_MEMORY_PROFILER_ESTIMATE_CUDAGRAPHS, default since 0.21)"
          : "~0.5 GiB captured after the KV cache is allocated: it must fit in the 1 − gpu_memory_utilization headroom, not in the KV budget",
      source: "vllm/v1/worker/gpu_model_runner.py capture_model, profile_cudagraph_memory",
    },
    {
      name: "KV cache budget",
      bytes: available,
      exact: false,
      formula:
        givenKv !== undefined
          ? `kv_cache_memory_bytes ${formatInt(givenKv)} B as given: memory profiling skipped, gpu_memory_utilization not applied ("reserved … memory for KV Cache as specified by kv_cache_memory_bytes")`
          : `requested ${formatInt(Math.floor(requested))} − weights ${formatInt(weights.bytes)} − peak activation ${formatInt(profile.peakBytes)} − non-torch ${formatInt(nonTorch)}${reserved ? ` − CUDA graphs ${formatInt(cudaGraphs)}` : ""} = ${formatInt(available)} B ("Available KV cache memory")`,
      source: "vllm/v1/worker/gpu_worker.py determine_available_memory",
    },
    {
      name: "KV blocks",
      bytes: kv.blocks * kv.pageBytes * Math.max(1, kv.groupSize),
      exact: false,
      formula:
        release.runtime === "v0"
          ? `${formatInt(Math.max(0, available))} B / (${blockTokens} tokens × ${formatInt(kv.pageBytes / blockTokens)} B per token over all layers) = ${formatInt(kv.blocks)} blocks = ${formatInt(kv.tokens)} tokens; max concurrency = ${formatInt(kv.tokens)} / ${formatInt(context)} = ${kv.maxConcurrency.toFixed(2)}×`
          : `${formatInt(Math.max(0, available))} B / (page ${formatInt(kv.pageBytes)} B × ${kv.groupSize} layers per group) = ${formatInt(kv.blocks)} blocks shared by ${kv.groups} group(s) = ${formatInt(kv.tokens)} tokens ("GPU KV cache size"); one request of ${formatInt(context)} tokens takes ${formatInt(kv.perRequestBytes)} B, so max concurrency = ${kv.maxConcurrency.toFixed(2)}×`,
      source: release.runtime === "v0" ? "vllm/worker/cache_engine.py get_cache_block_size" : "vllm/v1/core/kv_cache_utils.py get_kv_cache_config, get_max_concurrency_for_kv_cache_config",
    },
  ];

  const kvAtBatch = kv.perRequestBytes * input.batch;
  return {
    totalBytes: total,
    usableBytes: Math.floor(requested),
    weightsBytes: weights.bytes,
    activationBytes: profile.peakBytes,
    runtimeBytes: nonTorch,
    cudaGraphBytes: cudaGraphs,
    cudaGraphReserved: reserved,
    kvBudgetBytes: available,
    kvTokens: kv.tokens,
    kvBlocks: kv.blocks,
    kvPerRequestBytes: kv.perRequestBytes,
    maxConcurrency: kv.maxConcurrency,
    longestContext: Math.min(longest, modelMax),
    refusal,
    totalPerGpu: weights.bytes + profile.peakBytes + nonTorch + cudaGraphs + kvAtBatch,
    terms,
    notes,
  };
}

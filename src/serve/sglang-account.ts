import { formatGiB, formatInt } from "../report/units.js";
import { GIB, MIB, type AccountingInput, type EngineAccount, type MemoryTerm } from "./accounting.js";
import { kvShare, kvSplitNote } from "./tensor-parallel.js";

/** What the driver and CUDA context hold before SGLang measures free memory. */
const MEMORY_IN_USE_AT_START = Math.round(0.6 * GIB);

/**
 * SGLang's defaults by GPU size (server_args.py _handle_gpu_memory_settings): the chunked-prefill
 * size and the largest CUDA-graph batch, which set how much mem_fraction_static leaves out.
 */
function sglangDefaults(totalMiB: number, tp: number): { chunkedPrefill: number; cudaGraphMaxBs: number } {
  if (totalMiB < 20 * 1024) return { chunkedPrefill: 2048, cudaGraphMaxBs: 8 };
  if (totalMiB < 35 * 1024) return { chunkedPrefill: 2048, cudaGraphMaxBs: tp < 4 ? 24 : 80 };
  if (totalMiB < 60 * 1024) return { chunkedPrefill: 4096, cudaGraphMaxBs: tp < 4 ? 32 : 160 };
  if (totalMiB < 160 * 1024) return { chunkedPrefill: 8192, cudaGraphMaxBs: tp < 4 ? 256 : 512 };
  return { chunkedPrefill: 16384, cudaGraphMaxBs: 512 };
}

/**
 * SGLang (model_runner.py profile_max_num_token): the token pool is what is free after loading the
 * weights minus the (1 − mem_fraction_static) share of the GPU kept for activations and CUDA
 * graphs, divided by the bytes a token takes in every layer; pages of one token.
 * mem_fraction_static, when not given: (total − reserved) / total with reserved = 512 MiB +
 * 1.5 MiB per chunked-prefill token + 2 MiB per CUDA-graph batch slot + 1 GiB per 8 ranks, and at
 * least 10 GiB on GPUs over 60 GiB. The share left out is of the memory free when SGLang starts
 * (init_torch_distributed's min_per_gpu_memory), not of the whole GPU.
 */
export function accountSglang(input: AccountingInput, tp: number): EngineAccount {
  const { spec, device, context } = input;
  const total = device.bytes;
  const totalMiB = total / MIB;
  const defaults = sglangDefaults(totalMiB, tp);
  const chunked = input.knobs.maxNumBatchedTokens ?? defaults.chunkedPrefill;
  const computedMiB = 512 + Math.max(chunked, 2048) * 1.5 + defaults.cudaGraphMaxBs * 2 + (tp / 8) * 1024;
  const reservedMiB = totalMiB > 60 * 1024 ? Math.max(computedMiB, 10 * 1024) : computedMiB;
  const fraction = input.memoryFraction ?? Math.round(((totalMiB - reservedMiB) / totalMiB) * 1000) / 1000;
  const weights = input.weights(tp);
  const freeAtStart = total - MEMORY_IN_USE_AT_START;
  const freeAfterWeights = freeAtStart - weights.bytes;
  const kept = freeAtStart * (1 - fraction);
  const pool = Math.floor(freeAfterWeights - kept);
  const cellBytes = input.kv.groups.filter((group) => group.kind !== "state").reduce((sum, group) => sum + group.layers * group.bytesPerTokenPerLayer * kvShare(group, tp, "heads"), 0);
  const stateBytes = input.kv.groups.filter((group) => group.kind === "state").reduce((sum, group) => sum + Math.ceil((group.layers * group.bytesPerSequencePerLayer) / tp), 0);
  const tokens = cellBytes > 0 ? Math.max(0, Math.floor(pool / cellBytes)) : 0;
  const perRequest = cellBytes * context + stateBytes;
  const modelMax = spec.maxContext ?? context;
  let refusal: string | null = null;
  if (freeAfterWeights <= 0) refusal = `CUDA out of memory while loading the weights: ${formatGiB(weights.bytes)} GiB per GPU on a ${formatGiB(total)} GiB GPU`;
  else if (pool <= 0) refusal = "Not enough memory. Please try to increase --mem-fraction-static.";
  const activation = Math.floor(kept);
  const terms: MemoryTerm[] = [
    { name: "GPU memory", bytes: total, exact: device.basis !== "nominal", formula: `${formatGiB(total)} GiB (${device.source})`, source: "torch.cuda.mem_get_info()" },
    { name: "weights", bytes: weights.bytes, exact: true, formula: `${formatInt(weights.modelBytes)} B${tp > 1 ? ` over ${tp} ranks` : ""} + vocab padding and replicated parts + rotary cache = ${formatInt(weights.bytes)} B`, source: "python/sglang/srt/model_loader" },
    {
      name: "mem_fraction_static",
      bytes: Math.floor(total * fraction),
      exact: false,
      formula:
        input.memoryFraction !== undefined
          ? `given: ${fraction}`
          : `(${formatInt(Math.round(totalMiB))} MiB − reserved ${formatInt(Math.round(reservedMiB))} MiB) / ${formatInt(Math.round(totalMiB))} MiB = ${fraction} (chunked prefill ${chunked}, CUDA-graph batch ${defaults.cudaGraphMaxBs}, tp ${tp})`,
      source: "python/sglang/srt/server_args.py _handle_gpu_memory_settings",
    },
    {
      name: "KV pool",
      bytes: pool,
      exact: false,
      formula: `free after weights ${formatInt(freeAfterWeights)} − (1 − ${fraction}) × free at start ${formatInt(freeAtStart)} = ${formatInt(pool)} B; / ${formatInt(cellBytes)} B per token = ${formatInt(tokens)} tokens (max_total_num_tokens)`,
      source: "python/sglang/srt/model_executor/model_runner.py profile_max_num_token",
    },
  ];
  return {
    totalBytes: total,
    usableBytes: Math.floor(total * fraction),
    weightsBytes: weights.bytes,
    activationBytes: activation,
    runtimeBytes: MEMORY_IN_USE_AT_START,
    cudaGraphBytes: 0,
    cudaGraphReserved: false,
    kvBudgetBytes: pool,
    kvTokens: tokens,
    kvBlocks: null,
    kvPerRequestBytes: perRequest,
    maxConcurrency: perRequest > 0 ? Math.max(0, pool) / perRequest : 0,
    longestContext: cellBytes > 0 ? Math.max(0, Math.min(modelMax, Math.floor((pool - stateBytes) / cellBytes))) : modelMax,
    refusal,
    totalPerGpu: weights.bytes + perRequest * input.batch + activation + MEMORY_IN_USE_AT_START,
    terms,
    notes: [
      ...weights.notes,
      ...[kvSplitNote(spec, tp)].filter((note): note is string => note !== null),
      ...(spec.quantization === "mxfp4" && input.weightsAsStored ? ["MXFP4 experts are counted as stored: SGLang's own re-layout of them is not modelled (vLLM's adds 3.5 GiB to gpt-oss-120b on an H100)"] : []),
      "the (1 − mem_fraction_static) share is left for activations and CUDA graphs; SGLang measures neither before sizing the pool",
    ],
  };
}

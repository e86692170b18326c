import { formatGiB, formatInt } from "../report/units.js";
import { GIB, type AccountingInput, type EngineAccount, type MemoryTerm } from "./accounting.js";
import type { LlamaCppRelease } from "./engine-release.js";
import { LLAMA_CPP_UBATCH, llamaCppComputeBuffer, llamaCppKvLayout } from "./llamacpp.js";

/** The CUDA context and cuBLAS handles llama.cpp does not count in its buffers. */
export const LLAMA_CPP_CONTEXT_BYTES = Math.round(0.3 * GIB);

/**
 * llama.cpp with every layer offloaded to `gpus` GPUs (its default layer split): each holds its
 * share of the repeating layers and their KV cells, the output layer on the last one, the input
 * token embedding stays in system memory; plus a compute buffer per GPU and the CUDA context.
 */
export function accountLlamaCpp(input: AccountingInput, gpus: number): EngineAccount {
  const release = input.engine.release as LlamaCppRelease;
  const { spec, device, context } = input;
  const total = device.bytes;
  const ubatch = input.knobs.maxNumBatchedTokens ?? LLAMA_CPP_UBATCH;
  const flashAttention = input.knobs.flashAttention ?? release.flashAttention;
  const slots = input.batch;
  const weights = input.weights(1);
  const onGpus = weights.modelBytes - weights.embeddingBytes;
  const weightsPerGpu = Math.ceil(onGpus / gpus);
  const layout = llamaCppKvLayout(input.kv, context, slots, { unified: release.unifiedKv, ubatch });
  const kvPerGpu = Math.ceil(layout.bytes / gpus);
  const compute = llamaCppComputeBuffer(spec, { kvCells: layout.cells, ubatch, flashAttention });
  const fixed = weightsPerGpu + compute.bytes + LLAMA_CPP_CONTEXT_BYTES;
  const budget = total - fixed;
  const perSlot = Math.ceil(layout.bytes / slots / gpus);
  const refusal =
    fixed + kvPerGpu > total
      ? `cudaMalloc failed: out of memory — ${formatGiB(fixed + kvPerGpu)} GiB per GPU (weights ${formatGiB(weightsPerGpu)}, KV ${formatGiB(kvPerGpu)}, compute ${formatGiB(compute.bytes)}) on a ${formatGiB(total)} GiB GPU; offload fewer layers (--n-gpu-layers) or shrink -c`
      : null;
  const perToken = input.kv.bytesPerToken / gpus;
  const modelMax = spec.maxContext ?? context;
  const terms: MemoryTerm[] = [
    { name: "GPU memory", bytes: total, exact: device.basis !== "nominal", formula: `${formatGiB(total)} GiB (${device.source})`, source: "ggml_backend_cuda_get_device_memory" },
    { name: "model buffer", bytes: weightsPerGpu, exact: true, formula: `${formatInt(weights.modelBytes)} B − token embedding ${formatInt(weights.embeddingBytes)} B kept in RAM, over ${gpus} GPU(s)`, source: "src/llama-model.cpp load_tensors" },
    {
      name: "KV buffer",
      bytes: kvPerGpu,
      exact: true,
      formula: `${formatInt(layout.cells)} cells × ${layout.streams} stream(s)${layout.swaCells !== null ? `, SWA layers ${formatInt(layout.swaCells)} cells` : ""} = ${formatInt(layout.bytes)} B over ${gpus} GPU(s)`,
      source: "src/llama-kv-cache.cpp, src/llama-kv-cache-iswa.cpp",
    },
    { name: "compute buffer", bytes: compute.bytes, exact: false, formula: compute.formula, source: "src/llama-context.cpp graph_reserve, src/llama-graph.cpp" },
    { name: "CUDA context", bytes: LLAMA_CPP_CONTEXT_BYTES, exact: false, formula: "~0.3 GiB the driver takes, outside llama.cpp's buffers", source: "CUDA driver" },
  ];
  return {
    totalBytes: total,
    usableBytes: total,
    weightsBytes: weightsPerGpu,
    activationBytes: compute.bytes,
    runtimeBytes: LLAMA_CPP_CONTEXT_BYTES,
    cudaGraphBytes: 0,
    cudaGraphReserved: false,
    kvBudgetBytes: budget,
    kvTokens: perToken > 0 ? Math.max(0, Math.floor(budget / perToken)) : 0,
    kvBlocks: null,
    kvPerRequestBytes: perSlot,
    maxConcurrency: perSlot > 0 ? Math.max(0, budget) / perSlot : 0,
    longestContext: perToken > 0 ? Math.max(0, Math.min(modelMax, Math.floor(budget / perToken))) : modelMax,
    refusal,
    totalPerGpu: fixed + kvPerGpu,
    terms,
    notes: [`${slots} slot(s) (--parallel), n_ubatch ${ubatch}, flash attention ${flashAttention ? "on" : "off"}, KV ${release.unifiedKv ? "unified" : "one stream per slot"}`],
  };
}

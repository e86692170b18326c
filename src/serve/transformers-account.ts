import { sequenceBytesAt } from "../estimate/kv-cache.js";
import { formatGiB, formatInt } from "../report/units.js";
import { GIB, type AccountingInput, type EngineAccount, type MemoryTerm } from "./accounting.js";

/** The CUDA context and PyTorch's allocator overhead outside tensors. */
const CONTEXT_BYTES = 0.5 * GIB;

/**
 * transformers generate() (generation/utils.py, cache_utils.py DynamicCache): the weights as
 * stored (torch_dtype="auto"), a cache grown to prompt + new tokens per sequence (sliding layers
 * keep their window), fp32 logits of the last position only; the prompt is prefilled in one
 * forward pass, whose largest layer's activations are the peak on top. `device_map="auto"`
 * spreads layers over GPUs.
 */
export function accountTransformers(input: AccountingInput, gpus: number): EngineAccount {
  const { spec, device, context } = input;
  const total = device.bytes;
  const newTokens = input.knobs.newTokens ?? 0;
  const kept = context + newTokens;
  const weights = input.weights(1);
  const weightsPerGpu = Math.ceil((weights.bytes - weights.ropeCacheBytes) / gpus);
  const perSequence = sequenceBytesAt(input.kv, kept);
  const kvPerGpu = Math.ceil((perSequence * input.batch) / gpus);
  const logits = input.batch * spec.vocabSize * 4;
  const prefillTokens = context * input.batch;
  const widest = spec.moe ? spec.moe.expertsPerToken * 3 * spec.moe.expertIntermediate + 3 * spec.moe.sharedIntermediate : 3 * spec.intermediateSize;
  const prefill = prefillTokens * (3 * spec.hiddenSize + widest) * input.computeBytes;
  const fixed = weightsPerGpu + CONTEXT_BYTES + logits;
  const budget = total - fixed - prefill;
  const refusal = fixed + kvPerGpu + prefill > total ? `torch.OutOfMemoryError: CUDA out of memory — ${formatGiB(fixed + kvPerGpu + prefill)} GiB per GPU needed at the prefill peak, ${formatGiB(total)} GiB on the GPU` : null;
  const perToken = input.kv.bytesPerToken / gpus;
  const terms: MemoryTerm[] = [
    { name: "GPU memory", bytes: total, exact: device.basis !== "nominal", formula: `${formatGiB(total)} GiB (${device.source})`, source: "torch.cuda.mem_get_info()" },
    { name: "weights", bytes: weightsPerGpu, exact: true, formula: `${formatInt(weights.modelBytes)} B as stored${gpus > 1 ? `, over ${gpus} GPUs` : ""}`, source: "transformers modeling_utils.py from_pretrained" },
    {
      name: "DynamicCache",
      bytes: kvPerGpu,
      exact: true,
      formula: `${input.batch} × (${formatInt(context)} prompt + ${formatInt(newTokens)} new tokens) × ${formatInt(input.kv.bytesPerToken)} B per token${input.kv.groups.some((group) => group.window !== null) ? " (sliding layers keep their window)" : ""}`,
      source: "transformers cache_utils.py DynamicCache",
    },
    { name: "prefill activations", bytes: prefill, exact: false, formula: `${formatInt(prefillTokens)} tokens × (3 × ${spec.hiddenSize} + ${widest}) × ${input.computeBytes} B: the largest layer's live tensors in one forward pass`, source: "transformers generation/utils.py" },
    { name: "runtime", bytes: CONTEXT_BYTES + logits, exact: false, formula: `CUDA context ~0.5 GiB + last-position fp32 logits ${formatInt(logits)} B`, source: "generation/utils.py (logits_to_keep=1)" },
  ];
  const modelMax = spec.maxContext ?? context;
  return {
    totalBytes: total,
    usableBytes: total,
    weightsBytes: weightsPerGpu,
    activationBytes: prefill,
    runtimeBytes: CONTEXT_BYTES + logits,
    cudaGraphBytes: 0,
    cudaGraphReserved: false,
    kvBudgetBytes: budget,
    kvTokens: perToken > 0 ? Math.max(0, Math.floor(budget / perToken)) : 0,
    kvBlocks: null,
    kvPerRequestBytes: Math.ceil(perSequence / gpus),
    maxConcurrency: perSequence > 0 ? Math.max(0, budget) / (perSequence / gpus) : 0,
    longestContext: perToken > 0 ? Math.max(0, Math.min(modelMax, Math.floor(budget / perToken))) : modelMax,
    refusal,
    totalPerGpu: fixed + kvPerGpu + prefill,
    terms,
    notes: [],
  };
}

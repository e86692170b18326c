import type { VllmRelease } from "../engine-release.js";

const GIB = 2 ** 30;

/** vLLM's scheduler sizes for `vllm serve` when the user sets none. */
export interface VllmSchedulerDefaults {
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  /** Where the figures come from, for --explain. */
  rule: string;
}

/**
 * EngineArgs.get_batch_defaults (vllm/engine/arg_utils.py): GPUs of 70 GiB and more, except
 * A100s (PR #17885: a larger budget cost them throughput), get max_num_batched_tokens 8192 and
 * max_num_seqs 1024 under `vllm serve`; the rest 2048 and 256. V0 without chunked prefill batches
 * a whole max_model_len (at least 2048) in one step; with it (on by default past 32k) 512.
 */
export function vllmSchedulerDefaults(release: VllmRelease, device: { bytes: number; name: string }, maxModelLen: number): VllmSchedulerDefaults {
  if (release.runtime === "v0") {
    const chunked = maxModelLen > 32768;
    return {
      maxNumSeqs: 256,
      maxNumBatchedTokens: chunked ? 512 : Math.max(maxModelLen, 2048),
      rule: chunked
        ? "V0 with chunked prefill (on by default past 32,768 tokens): max_num_batched_tokens 512, max_num_seqs 256"
        : "V0 without chunked prefill: max_num_batched_tokens = max(max_model_len, 2048), max_num_seqs 256",
    };
  }
  const large = device.bytes >= 70 * GIB && !/a100/i.test(device.name);
  return large
    ? { maxNumSeqs: 1024, maxNumBatchedTokens: 8192, rule: "vllm serve on a GPU of 70 GiB or more (not an A100): max_num_batched_tokens 8192, max_num_seqs 1024 (arg_utils.py get_batch_defaults)" }
    : { maxNumSeqs: 256, maxNumBatchedTokens: 2048, rule: "vllm serve on a GPU under 70 GiB (or an A100): max_num_batched_tokens 2048, max_num_seqs 256 (arg_utils.py get_batch_defaults)" };
}

/** vLLM's KV block: 16 tokens (CacheConfig default); FlashMLA and the CUTLASS MLA kernel want 64. */
export function vllmBlockSize(mla: boolean, requested: number | undefined): number {
  if (requested !== undefined) return requested;
  return mla ? 64 : 16;
}

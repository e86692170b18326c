import type { ModelSpec } from "../../model/spec.js";
import { formatInt } from "../../report/units.js";
import type { VllmRelease } from "../engine-release.js";

/** vLLM's fused MoE works through the batch in chunks of this many tokens (VLLM_FUSED_MOE_CHUNK_SIZE). */
const FUSED_MOE_CHUNK = 32768;

/** The peak PyTorch allocation of vLLM's profile run, above the loaded weights. */
export interface ProfileRun {
  tokens: number;
  sequences: number;
  /** The largest layer's live tensors during the dummy forward pass. */
  forwardBytes: number;
  /** The sampler warm-up over one logit row per sequence, with the forward's hidden states still alive. */
  samplerBytes: number;
  peakBytes: number;
  dominant: "forward pass" | "sampler warm-up";
  formula: string;
}

/**
 * profile_run (gpu_model_runner.py; V0: worker.py) runs one dummy forward over
 * max_num_batched_tokens tokens split into min(max_num_seqs, tokens) requests, then samples one
 * token for each with top-k and top-p on, and vLLM reserves the peak PyTorch allocation seen.
 *
 * Forward: in a decoder layer the residual, the attention output and the norm's output (3 hidden
 * widths) are alive while the MLP holds gate_up (2 × its intermediate) and the activation (1 ×);
 * a fused MoE holds top-k × (2 + 1) expert intermediates and a top-k × hidden output per token.
 * Intermediates are split `tp` ways.
 *
 * Sampler, in units of U = sequences × vocab × 4 B (one fp32 logit row per sequence), with the
 * compute-dtype logits (U × dtype/4) alive: PyTorch's sort path (apply_top_k_top_p) holds an fp32
 * copy (1), the sorted values (1) and int64 indices (2), and ATen's full sort
 * (Sort.cu segmented_sort_pairs_by_full_sort) two int2 index/segment buffers (2 + 2) and a keys
 * copy (1): 9 U. FlashInfer's sampler instead holds the fp32 copy, masked logits and probabilities: 3 U.
 */
export function vllmProfileRun(spec: ModelSpec, release: VllmRelease, tokens: number, maxNumSeqs: number, tp: number, dtypeBytes: number): ProfileRun {
  const sequences = Math.min(maxNumSeqs, tokens);
  const h = spec.hiddenSize;
  let widest = 0;
  for (const layer of spec.layers) {
    let perToken: number;
    if (layer.mlp === "moe" && spec.moe) {
      const moe = spec.moe;
      const chunk = Math.min(tokens, FUSED_MOE_CHUNK);
      const routed = (chunk / tokens) * moe.expertsPerToken * ((3 * moe.expertIntermediate) / tp + h);
      perToken = 3 * h + routed + (3 * moe.sharedIntermediate) / tp;
    } else if (layer.mlp === "dense") {
      perToken = 3 * h + (3 * spec.intermediateSize) / tp;
    } else {
      perToken = 4 * h;
    }
    widest = Math.max(widest, perToken);
  }
  const attention = 3 * h + ((2 * spec.numAttentionHeads + 2 * Math.max(1, spec.numKeyValueHeads)) * spec.headDim) / tp;
  widest = Math.max(widest, attention);
  const forwardBytes = Math.ceil(tokens * widest * dtypeBytes);

  const unit = sequences * spec.vocabSize * 4;
  const logitsUnits = dtypeBytes / 4;
  const samplerUnits = release.sampler === "torch-sort" ? 9 : 3;
  const hiddenBytes = tokens * h * dtypeBytes;
  const samplerBytes = Math.ceil(unit * (samplerUnits + logitsUnits)) + hiddenBytes;
  const samplerWins = samplerBytes >= forwardBytes;
  const peakBytes = Math.max(forwardBytes, samplerBytes);
  const units = `${samplerUnits + logitsUnits} × ${formatInt(sequences)} sequences × ${formatInt(spec.vocabSize)} vocab × 4 B`;
  const formula = samplerWins
    ? `sampler warm-up (${release.sampler === "torch-sort" ? "PyTorch sort of the logits" : "FlashInfer top-k/top-p"}): ${units} + hidden states ${formatInt(tokens)} × ${formatInt(h)} × ${dtypeBytes} B = ${formatInt(samplerBytes)} B (the forward pass over ${formatInt(tokens)} tokens peaks lower, at ${formatInt(forwardBytes)} B)`
    : `forward pass over ${formatInt(tokens)} tokens: ${formatInt(tokens)} × ${formatInt(Math.round(widest))} live values per token × ${dtypeBytes} B = ${formatInt(forwardBytes)} B (the sampler warm-up over ${formatInt(sequences)} sequences peaks lower, at ${formatInt(samplerBytes)} B)`;
  return { tokens, sequences, forwardBytes, samplerBytes, peakBytes, dominant: samplerWins ? "sampler warm-up" : "forward pass", formula };
}

import type { ModelSpec } from "../model/spec.js";

export const CHECKPOINTING = ["none", "selective", "full"] as const;
export type Checkpointing = (typeof CHECKPOINTING)[number];

export interface ActivationOptions {
  seq: number;
  microBatch: number;
  flashAttention: boolean;
  checkpointing: Checkpointing;
  /** Dropout masks (1 byte per value) where the model trains with dropout. */
  dropout: boolean;
  /** "naive": transformers' cross-entropy keeps fp32 logits; "chunked": fused/chunked loss. */
  loss: "naive" | "chunked";
  /** Bytes per activation value: 2 in bf16/fp16 training, 4 in fp32. */
  bytesPerValue: number;
  /**
   * Bytes per value of the residual stream and the norms (default `bytesPerValue`): 4 under QLoRA,
   * where PEFT's prepare_model_for_kbit_training casts embeddings and norms to fp32, so the hidden
   * states between layers, and what full checkpointing keeps of them, are fp32 while autocast runs
   * the linears in 16 bits.
   */
  residualBytes?: number;
}

export interface LayerActivations {
  /** s·b·h-proportional terms: inputs, projections, MLP intermediates, norms, masks. */
  linear: number;
  /** The attention score terms (softmax output, its mask and dropout output): a·s²·b-proportional. */
  scores: number;
  /** FlashAttention's saved fp32 log-sum-exp, a·s·b·4 bytes, where scores are not stored. */
  flashStatistics: number;
  total: number;
}

export interface ActivationEstimate {
  perLayer: LayerActivations;
  layers: number;
  /** What the layers keep until the backward pass, after checkpointing. */
  layersBytes: number;
  /** Embedding output (and its dropout mask) and the final norm's input. */
  embeddingBytes: number;
  /** Logits and the loss's buffers: b·s·V values (formulas.md "Logits and loss"). */
  logitsBytes: number;
  /** Bytes per value of the hidden states between layers (what full checkpointing keeps). */
  residualBytes: number;
  total: number;
}

/**
 * Activation memory of one micro-batch (Korthikanti et al. 2022, "Reducing Activation
 * Recomputation in Large Transformer Models", Table 2), per layer in 16-bit with 1-byte dropout
 * masks, generalised from the paper's GPT layer (MHA, 4h MLP) to the model's real shapes:
 *   attention: QKV input 2sbh + Q 2sb·q + K, V 2sb·kv each + output-projection input 2sb·q
 *              (+ its dropout mask sbh) + scores 2as²b (softmax output) (+ as²b mask + 2as²b dropout output)
 *   MLP:       input 2sbh + gated: gate, up, activation, product 4 × 2sbf (plain: 2 × 2sbf) (+ mask sbh)
 *   norms:     two inputs 2sbh each
 * which for the paper's layer is s·b·h·(34 + 5·a·s/h). FlashAttention and selective recomputation
 * drop the score terms (FlashAttention keeps an fp32 log-sum-exp); full checkpointing keeps each
 * layer's input and recomputes one layer at a time.
 */
export function estimateActivations(spec: ModelSpec, options: ActivationOptions): ActivationEstimate {
  const s = options.seq;
  const b = options.microBatch;
  const h = spec.hiddenSize;
  const a = spec.numAttentionHeads;
  const unit = options.bytesPerValue / 2; // the paper counts 2-byte values
  const mask = options.dropout ? 1 : 0;

  const q = spec.mla ? a * (spec.mla.qkNopeHeadDim + spec.mla.qkRopeHeadDim) : a * spec.headDim * (spec.layout.gatedAttention ? 2 : 1);
  const k = spec.mla ? a * (spec.mla.qkNopeHeadDim + spec.mla.qkRopeHeadDim) : spec.numKeyValueHeads * spec.headDim;
  const v = spec.mla ? a * spec.mla.vHeadDim : spec.numKeyValueHeads * spec.headDim;
  const out = spec.mla ? a * spec.mla.vHeadDim : a * spec.headDim;
  const attentionLinear = a > 0 ? unit * 2 * s * b * (h + q + k + v + out) + mask * s * b * h : 0;

  const moe = spec.moe;
  const f = spec.intermediateSize;
  const mlpValues = (intermediate: number) => (spec.layout.mlp === "gated" ? 4 * intermediate : 2 * intermediate);
  // MoE: each token passes through its top-k experts (and the shared ones), plus router logits.
  const mlp = moe
    ? unit * 2 * s * b * (h + moe.expertsPerToken * mlpValues(moe.expertIntermediate) + mlpValues(moe.sharedIntermediate)) + s * b * moe.experts * 4
    : unit * 2 * s * b * (h + mlpValues(f));
  const mlpLinear = mlp + mask * s * b * h;
  const residual = options.residualBytes ?? options.bytesPerValue;
  const norms = 2 * residual * s * b * h;

  // Scores only where a full (non-windowed) softmax is materialised: windows cap the keys.
  const scoreKeys = Math.min(s, windowOf(spec) ?? s);
  const scores = a > 0 ? unit * (2 + 2 * mask) * a * s * scoreKeys * b + mask * a * s * scoreKeys * b : 0;
  const keepScores = !options.flashAttention && options.checkpointing === "none";
  const flashStatistics = options.flashAttention && a > 0 ? 4 * a * s * b : 0;
  const linear = attentionLinear + mlpLinear + norms;
  const perLayer: LayerActivations = { linear, scores: keepScores ? scores : 0, flashStatistics, total: linear + (keepScores ? scores : 0) + flashStatistics };

  const L = spec.numLayers;
  // Full checkpointing: every layer's input, and one layer's activations while it recomputes.
  const fullLayer = linear + (options.flashAttention ? flashStatistics : scores);
  const layersBytes = options.checkpointing === "full" ? L * residual * s * b * h + fullLayer : L * perLayer.total;
  const embeddingBytes = residual * s * b * h + mask * s * b * h + residual * s * b * h;
  // Naive loss: bf16 logits, their fp32 copy, fp32 log-softmax for backward and its fp32 gradient
  // (engines.md §4.3: 14 bytes per logit); chunked loss keeps a chunk at a time.
  const logitsBytes = options.loss === "naive" ? s * b * spec.vocabSize * (options.bytesPerValue + 12) : 0;
  return { perLayer, layers: L, layersBytes, embeddingBytes, logitsBytes, residualBytes: residual, total: layersBytes + embeddingBytes + logitsBytes };
}

function windowOf(spec: ModelSpec): number | undefined {
  // A model whose every attention layer slides (Mistral-7B-v0.1) never scores beyond its window.
  const caches = spec.layers.flatMap((layer) => layer.caches);
  return caches.length > 0 && caches.every((cache) => cache.kind === "sliding") ? (caches[0] as { window: number }).window : undefined;
}

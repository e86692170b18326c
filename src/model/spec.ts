import type { ComputeDtype } from "./dtypes.js";

/** What one decoder layer keeps in the KV cache. */
export type AttentionLayer =
  | { kind: "full"; kvHeads: number; headDim: number }
  | { kind: "sliding"; window: number; kvHeads: number; headDim: number };

export type AttentionKind = AttentionLayer["kind"];

/** The rules that turn the shape into a parameter count, per family. */
export interface LayerLayout {
  /** Bias on the q, k and v projections (Qwen2: yes; Llama: only with `attention_bias`). */
  qkvBias: boolean;
  /** Bias on the output projection. */
  outputBias: boolean;
  /** Gated MLPs (SwiGLU, GeGLU) have three matrices, plain ones (GPT-2, Falcon, NeoX) two. */
  mlp: "gated" | "plain";
  mlpBias: boolean;
  /** RMSNorm has a weight, LayerNorm a weight and a bias. */
  norm: "rms" | "layer";
  normsPerLayer: number;
  /** Qwen3 and Gemma 3 normalise q and k per head: 2 × head_dim weights per layer. */
  qkNorm: boolean;
  /** GPT-2 learns a position embedding table (`n_positions` × hidden). */
  learnedPositions: number;
}

/** A value vramplan had to assume because the config did not say. */
export interface GuessedField {
  field: string;
  assumed: string;
}

/** The typed model shape every estimator works from; derived from config.json in derive.ts. */
export interface ModelSpec {
  modelType: string;
  architecture: string | undefined;
  /** The family whose rules were applied, or "generic" for an unknown `model_type`. */
  family: string;
  hiddenSize: number;
  numLayers: number;
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  intermediateSize: number;
  vocabSize: number;
  /** The longest context the model supports (vLLM's derived max_model_len), if the config says. */
  maxContext: number | undefined;
  dtype: ComputeDtype | undefined;
  tiedEmbeddings: boolean;
  layout: LayerLayout;
  /** One entry per decoder layer. */
  attention: AttentionLayer[];
  /** `quant_method` of a quantized checkpoint, if any. */
  quantization: string | undefined;
  guessed: GuessedField[];
}

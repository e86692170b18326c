import type { ComputeDtype } from "./dtypes.js";

/**
 * What one layer keeps per sequence while it generates. Attention caches grow with the tokens the
 * layer keeps; a recurrent state (Mamba, gated delta-net) has a fixed size per sequence.
 */
export type LayerCache =
  | { kind: "full"; kvHeads: number; keyDim: number; valueDim: number }
  | { kind: "sliding"; window: number; kvHeads: number; keyDim: number; valueDim: number }
  | { kind: "chunked"; chunk: number; kvHeads: number; keyDim: number; valueDim: number }
  | {
      kind: "mla";
      /** kv_lora_rank + qk_rope_head_dim: the one latent vector cached per token. */
      latentDim: number;
      /** What per-head K and V would have held: heads × (qk_nope + qk_rope + v_head_dim). */
      expandedDim: number;
      /**
       * DeepSeek-V3.2's sparse-attention indexer keeps its own key per token: index_head_dim fp8
       * values and an fp32 scale per 128 of them, whatever the KV cache type (vLLM's
       * DeepseekV32IndexerCache). 0 without an indexer.
       */
      indexerKeyBytes: number;
    }
  | {
      kind: "state";
      mixer: "mamba" | "mamba2" | "gated-deltanet" | "short-conv";
      convElements: number;
      ssmElements: number;
      /** Parameters of the layer's mixer, where vramplan knows its tensors (null: headers only). */
      mixerParameters: number | null;
    };

export type CacheKind = LayerCache["kind"];
export type AttentionCache = Exclude<LayerCache, { kind: "state" }>;

/**
 * A mixer that keeps no cache of its own because it reads another layer's (SambaY's YOCO second
 * half: cross-attention over the KV of layer L/2 + 1, gated memory units over the Mamba output of
 * layer L/2). Its weights count; it adds nothing per token.
 */
export interface SharedMixer {
  kind: "yoco-cross-attention" | "gated-memory-unit";
  parameters: number;
}

export interface LayerSpec {
  /** One cache for an attention or SSM layer; Falcon-H1 layers have both. */
  caches: LayerCache[];
  sharedMixer?: SharedMixer;
  /** Pure Mamba layers have no MLP. */
  mlp: "dense" | "moe" | "none";
}

/** Mixture-of-experts shape (formulas.md, "MoE layers"). */
export interface MoeSpec {
  experts: number;
  expertsPerToken: number;
  /** Intermediate size of one routed expert. */
  expertIntermediate: number;
  /** Summed intermediate size of the shared (always-on) experts; 0 if none. */
  sharedIntermediate: number;
  /** Qwen2-MoE gates its shared expert with a hidden × 1 projection. */
  sharedExpertGate: boolean;
  /** Router bias: gpt-oss's `router.bias`, DeepSeek-V3's `e_score_correction_bias`. */
  routerBias: boolean;
  /**
   * The router bias is stored in fp32 whatever the model's dtype: DeepSeek-V3's checkpoints (and
   * Kimi-K2's) keep `e_score_correction_bias` as F32 beside bf16 routers.
   */
  routerBiasInFp32: boolean;
  /** gpt-oss experts have biases on their projections. */
  expertBias: boolean;
}

/** DeepSeek's multi-head latent attention projections. */
export interface MlaShape {
  qLoraRank: number | null;
  kvLoraRank: number;
  qkNopeHeadDim: number;
  qkRopeHeadDim: number;
  vHeadDim: number;
  /** DeepSeek-V3.2's lightning indexer (index_n_heads, index_head_dim, index_topk); null without one. */
  indexer: { heads: number; headDim: number; topk: number } | null;
}

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
  /** MiniMax-M2 normalises q and k across all heads at once: q width + k width weights per layer. */
  qkNormAcrossHeads: boolean;
  /** GPT-2 learns a position embedding table (`n_positions` × hidden). */
  learnedPositions: number;
  /** gpt-oss: one learned attention-sink logit per query head per layer. */
  attentionSinks: boolean;
  /** Qwen3-Next: q_proj also emits an output gate, doubling its width. */
  gatedAttention: boolean;
  /**
   * Differential attention (SambaY): four learned λ vectors of head_dim and an RMSNorm over
   * 2 × head_dim (subln) per attention layer, beside the projections.
   */
  differentialAttention?: boolean;
}

/** A value vramplan had to assume because the config did not say. */
export interface GuessedField {
  field: string;
  assumed: string;
  /** How many parameters the other reading of this field would add or remove, when it is known. */
  parametersAtStake?: number;
}

/** The typed model shape every estimator works from; derived from config.json in derive.ts. */
export interface ModelSpec {
  modelType: string;
  architecture: string | undefined;
  /** The family whose rules were applied, or "generic" for an unknown `model_type`. */
  family: string;
  hiddenSize: number;
  numLayers: number;
  /** Attention shape; 0 for a model without attention layers (Mamba). */
  numAttentionHeads: number;
  numKeyValueHeads: number;
  headDim: number;
  /** Dimensions per head that rotary embeddings turn (partial_rotary_factor; MLA: qk_rope_head_dim); 0 without RoPE. */
  rotaryDim: number;
  /** Intermediate size of the dense MLP layers. */
  intermediateSize: number;
  vocabSize: number;
  /** The longest context the model supports (vLLM's derived max_model_len), if the config says. */
  maxContext: number | undefined;
  dtype: ComputeDtype | undefined;
  tiedEmbeddings: boolean;
  layout: LayerLayout;
  layers: LayerSpec[];
  moe: MoeSpec | undefined;
  mla: MlaShape | undefined;
  /**
   * Whether config.json alone gives the parameter count. It does not for Mamba-2 mixers
   * (Falcon-H1, Granite-4): their weights come from the safetensors headers only.
   */
  parametersFromConfig: boolean;
  /** DeepSeek-V3's multi-token-prediction layers: in the checkpoint, outside num_hidden_layers. */
  multiTokenPredictionLayers: number;
  /** Their modules, where vramplan knows them (families.ts `mtp`): then config.json counts them too. */
  multiTokenPredictionKind: "qwen3_next" | "deepseek" | undefined;
  /**
   * The SSM state's dtype where the checkpoint asks for one apart from the model's: Qwen3.5's
   * `mamba_ssm_dtype`, which vLLM adopts as mamba_ssm_cache_dtype (config.py,
   * Qwen3_5ForConditionalGenerationConfig) while the conv state keeps the model's dtype.
   */
  ssmStateDtype?: ComputeDtype;
  /** A vision (or audio) tower described by `vision_config`. */
  hasVisionTower: boolean;
  /** Its shape, for the families whose tower vramplan counts from config.json (else from the headers only). */
  visionTower: VisionTowerSpec | undefined;
  /** An encoder (BERT, RoBERTa, ModernBERT…): one forward pass per input, no KV cache kept. */
  encoderOnly: boolean;
  /** `quant_method` of a quantized checkpoint, if any. */
  quantization: string | undefined;
  guessed: GuessedField[];
}

/**
 * A vision tower vramplan counts from config.json.
 * - Qwen2.5-VL (modeling_qwen2_5_vl.py Qwen2_5_VisionTransformerPretrainedModel): a Conv3d patch
 *   embedding without bias, `depth` blocks of RMSNorms, fused qkv and proj with biases and a gated
 *   MLP with biases, then the patch merger (RMSNorm, two biased linears over spatial_merge_size²
 *   patches, out to the language model's width).
 * - SigLIP as Gemma 3 uses it (modeling_siglip.py SiglipVisionModel without its pooling head, and
 *   modeling_gemma3.py Gemma3MultiModalProjector): a biased Conv2d patch embedding and a position
 *   table, `depth` layers of two LayerNorms, biased q/k/v/out projections and a biased fc1/fc2 MLP,
 *   a post LayerNorm, then the projector's RMSNorm and its matrix into the text width.
 * - Qwen3-VL and Qwen3.5 (modeling_qwen3_vl.py Qwen3VLVisionModel, which Qwen3.5 reuses): a biased
 *   Conv3d patch embedding and a table of num_position_embeddings learned positions, `depth` blocks
 *   of two LayerNorms, biased qkv and proj and a plain biased fc1/fc2 MLP, the patch merger
 *   (LayerNorm over the vision width, two biased linears over spatial_merge_size² patches), and one
 *   more merger per deepstack_visual_indexes entry whose LayerNorm spans the merged width.
 * - MoonViT as Kimi-K2.5 uses it (modeling_kimi_k25.py MoonViT3dPretrainedModel and its
 *   patchmerger projector): a biased Conv2d patch embedding and an init_pos_emb_height ×
 *   init_pos_emb_width table of learned positions (the temporal ones are fixed sinusoids, not
 *   stored), `depth` blocks of two LayerNorms, biased wqkv and wo and a biased fc0/fc1 MLP, a final
 *   LayerNorm, then the projector: a LayerNorm over the vision width and two biased linears over
 *   merge_kernel_size patches into the text width.
 */
export type VisionTowerSpec = QwenVisionTower | Qwen3VisionTower | SiglipVisionTower | Llama4VisionTower | MoonVitTower;

/** What every counted vision tower has: its layers, widths, input channels and patch size, and the text width it projects into. */
interface VisionTowerShape {
  depth: number;
  hidden: number;
  intermediate: number;
  inChannels: number;
  patch: number;
  /** The language model's width, which the projector maps into. */
  outHidden: number;
}

/**
 * Llama 4's vision model (modeling_llama4.py Llama4VisionModel) and its projector: an unfolded
 * linear patch embedding without bias, a class embedding and (image/patch)² + 1 learned positions,
 * LayerNorms before and after `depth` layers of biased q/k/v/o and fc1/fc2 with two LayerNorms, the
 * pixel-shuffle adapter's fc1 (intermediate → projector_input_dim) and fc2 (projector_output_dim²),
 * both without bias, then multi_modal_projector.linear_1 into the text width.
 */
export interface Llama4VisionTower extends VisionTowerShape {
  kind: "llama4";
  imageSize: number;
  projectorInput: number;
  projectorOutput: number;
  visionOutput: number;
  projectorBias: boolean;
}

export interface SiglipVisionTower extends VisionTowerShape {
  kind: "siglip";
  imageSize: number;
}

export interface QwenVisionTower extends VisionTowerShape {
  kind: "qwen2_5_vl";
  temporalPatch: number;
  spatialMerge: number;
}

export interface MoonVitTower extends VisionTowerShape {
  kind: "moonvit";
  /** Learned positions: init_pos_emb_height × init_pos_emb_width. */
  positions: number;
  /** Patches merged into one token: the product of merge_kernel_size. */
  mergedPatches: number;
}

export interface Qwen3VisionTower extends VisionTowerShape {
  kind: "qwen3_vl";
  temporalPatch: number;
  spatialMerge: number;
  positions: number;
  deepstackMergers: number;
}

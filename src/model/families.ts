import { UnsupportedModelError } from "../errors.js";
import { readBoolean, readPositiveInt, type RawConfig } from "./raw-config.js";
import type { LayerLayout, MoeSpec } from "./spec.js";

/**
 * Per-family facts config.json does not spell out: where the biases are, how many norms a layer
 * has, whether embeddings are tied by default, which layers slide, which are mixture-of-experts.
 * Each entry names the transformers modeling file it restates (engines.md §2.3 for the MoE rules).
 */
export interface FamilyRules {
  layout(config: RawConfig): LayerLayout;
  tieDefault: boolean;
  /**
   * Which layers use sliding-window attention when the config has `sliding_window` but no
   * `layer_types` list; `undefined` means this family never slides without one.
   */
  slidingLayers?(config: RawConfig, numLayers: number): boolean[] | undefined;
  /** Mixture of experts: the expert shape and which layers route. */
  moe?(config: RawConfig, numLayers: number): MoeRules | undefined;
  /** DeepSeek-style multi-head latent attention. */
  mla?: true;
  /** Llama 4: chunked local attention on RoPE layers, global attention on the NoPE ones. */
  chunkedLayers?(config: RawConfig, numLayers: number): boolean[] | undefined;
  /**
   * Defaults of the family's transformers config class, for fields configs leave out
   * (gemma-3-27b-it's text_config has no vocab_size or max_position_embeddings).
   */
  defaults?: RawConfig;
  /**
   * The multi-token-prediction module the checkpoint ships, where vramplan knows its modules:
   * its layer count (when config.json does not say) and its shape. Qwen3-Next
   * (modeling of vLLM's qwen3_next_mtp.py): one full-attention MoE layer, an fc over
   * [embedding; hidden] (2h → h, no bias) and three RMSNorms (pre_fc_norm_hidden,
   * pre_fc_norm_embedding, norm). DeepSeek-V3 and GLM-4.5 (vLLM's deepseek_mtp.py, glm4_moe_mtp.py):
   * a decoder layer as the last MoE one, enorm and hnorm, eh_proj (2h → h, no bias), and a
   * shared_head (norm and vocabulary head) beside its own embed_tokens, both stored in the checkpoint.
   */
  mtp?: { layers: number; kind: "qwen3_next" | "deepseek" };
  /** Hybrid and state-space models: the layer kinds and their recurrent state (derive-state.ts). */
  ssm?: "jamba" | "falcon_h1" | "granitemoehybrid" | "qwen3_next" | "mamba" | "mamba2" | "lfm2" | "nemotron_h" | "sambay";
  /** Hybrids whose layers hold one block each: which layers have an MLP (the rest have none). */
  mlpLayers?(config: RawConfig, numLayers: number): boolean[];
  /** The dense MLP's width where the family derives it from other fields than intermediate_size. */
  intermediate?(config: RawConfig): number | undefined;
}

export interface MoeRules {
  spec: MoeSpec;
  isMoeLayer: boolean[];
  /** Intermediate size of this model's dense layers, where it differs from `intermediate_size`. */
  denseIntermediate?: number;
}

const int = (config: RawConfig, name: string): number | undefined => readPositiveInt(config, [name])?.value;
const intOr = (config: RawConfig, name: string, fallback: number): number => int(config, name) ?? fallback;

/** The Llama layout: biases only with `attention_bias` / `mlp_bias`, gated MLP, two RMSNorms. */
export const llamaLayout = (config: RawConfig): LayerLayout => {
  const attentionBias = readBoolean(config, "attention_bias") ?? false;
  return {
    qkvBias: attentionBias,
    outputBias: attentionBias,
    mlp: "gated",
    mlpBias: readBoolean(config, "mlp_bias") ?? false,
    norm: "rms",
    normsPerLayer: 2,
    qkNorm: false,
    qkNormAcrossHeads: false,
    learnedPositions: 0,
    attentionSinks: false,
    gatedAttention: false,
  };
};

/** GPT-2 and BERT: biases on every projection, a plain two-matrix MLP, two LayerNorms, a learned position table. */
export const biasedLayerNormLayout = (learnedPositions: number): LayerLayout => ({
  qkvBias: true,
  outputBias: true,
  mlp: "plain",
  mlpBias: true,
  norm: "layer",
  normsPerLayer: 2,
  qkNorm: false,
  qkNormAcrossHeads: false,
  learnedPositions,
  attentionSinks: false,
  gatedAttention: false,
});

const everyLayer = (numLayers: number): boolean[] => Array.from({ length: numLayers }, () => true);
const layersWhere = (numLayers: number, test: (i: number) => boolean): boolean[] => Array.from({ length: numLayers }, (_, i) => test(i));

// Qwen2/Qwen3 carry `sliding_window` but only use it with `use_sliding_window`, and then only from
// layer `max_window_layers` on (transformers configuration_qwen2.py).
const qwenSliding = (config: RawConfig, numLayers: number): boolean[] | undefined => {
  if (readBoolean(config, "use_sliding_window") !== true) return undefined;
  const first = typeof config["max_window_layers"] === "number" ? config["max_window_layers"] : 0;
  return layersWhere(numLayers, (i) => i >= first);
};

const moeSpec = (spec: Partial<MoeSpec> & Pick<MoeSpec, "experts" | "expertsPerToken" | "expertIntermediate">): MoeSpec => ({
  sharedIntermediate: 0,
  sharedExpertGate: false,
  routerBias: false,
  routerBiasInFp32: false,
  expertBias: false,
  ...spec,
});

// Mixtral and Phi-3.5-MoE: every layer routes over `num_local_experts` experts of intermediate_size.
const mixtralMoe = (config: RawConfig, numLayers: number): MoeRules | undefined => {
  const experts = int(config, "num_local_experts");
  const intermediate = int(config, "intermediate_size");
  if (!experts || !intermediate) return undefined;
  return {
    spec: moeSpec({ experts, expertsPerToken: intOr(config, "num_experts_per_tok", 2), expertIntermediate: intermediate }),
    isMoeLayer: everyLayer(numLayers),
  };
};

// Qwen2-MoE / Qwen3-MoE: MoE iff i ∉ mlp_only_layers and (i + 1) % decoder_sparse_step == 0.
const qwenMoe = (withSharedExpert: boolean) => (config: RawConfig, numLayers: number): MoeRules | undefined => {
  const experts = int(config, "num_experts");
  const expertIntermediate = int(config, "moe_intermediate_size");
  if (!experts || !expertIntermediate) return undefined;
  const step = intOr(config, "decoder_sparse_step", 1);
  const mlpOnly = new Set(Array.isArray(config["mlp_only_layers"]) ? (config["mlp_only_layers"] as unknown[]) : []);
  const shared = withSharedExpert ? (int(config, "shared_expert_intermediate_size") ?? 0) : 0;
  return {
    spec: moeSpec({
      experts,
      expertsPerToken: intOr(config, "num_experts_per_tok", 1),
      expertIntermediate,
      sharedIntermediate: shared,
      sharedExpertGate: shared > 0,
    }),
    isMoeLayer: layersWhere(numLayers, (i) => !mlpOnly.has(i) && (i + 1) % step === 0),
  };
};

// DeepSeek-V2/V3 (and Kimi-K2): the first `first_k_dense_replace` layers are dense, then every
// `moe_layer_freq`-th; shared experts are `n_shared_experts` of moe_intermediate_size.
const deepseekMoe = (config: RawConfig, numLayers: number): MoeRules | undefined => {
  const experts = int(config, "n_routed_experts");
  const expertIntermediate = int(config, "moe_intermediate_size");
  if (!experts || !expertIntermediate) return undefined;
  const firstDense = typeof config["first_k_dense_replace"] === "number" ? config["first_k_dense_replace"] : 0;
  const frequency = intOr(config, "moe_layer_freq", 1);
  return {
    spec: moeSpec({
      experts,
      expertsPerToken: intOr(config, "num_experts_per_tok", 1),
      expertIntermediate,
      sharedIntermediate: expertIntermediate * (typeof config["n_shared_experts"] === "number" ? config["n_shared_experts"] : 0),
      // DeepSeek-V3's noaux_tc routing adds an `e_score_correction_bias` per expert, which its
      // checkpoints store in F32 (a public listing of Kimi-K2's shard headers shows [384] F32).
      routerBias: config["topk_method"] === "noaux_tc",
      routerBiasInFp32: config["topk_method"] === "noaux_tc",
    }),
    isMoeLayer: layersWhere(numLayers, (i) => i >= firstDense && i % frequency === 0),
  };
};

/** Nemotron-H's hybrid_override_pattern, one character per layer (M, *, -); others are not modelled. */
export function nemotronPattern(config: RawConfig, numLayers: number): string {
  const pattern = config["hybrid_override_pattern"];
  if (typeof pattern !== "string" || pattern.length !== numLayers || !/^[M*-]+$/.test(pattern)) {
    throw new UnsupportedModelError(`config.json has no hybrid_override_pattern of ${numLayers} layers made of M, * and -: vramplan needs it to tell Nemotron-H's Mamba, attention and MLP layers apart (MoE layers, E, are not modelled)`, "hybrid_override_pattern");
  }
  return pattern;
}

/** GraniteMoeHybridConfig's num_local_experts (8 by default; 0 in the dense Granite-4.0-H models). */
const graniteExperts = (config: RawConfig): number => (typeof config["num_local_experts"] === "number" ? config["num_local_experts"] : 8);

export const FAMILIES: Readonly<Record<string, FamilyRules>> = {
  // modeling_llama.py: `attention_bias` on all four projections, `mlp_bias` on the three MLP ones.
  llama: { layout: llamaLayout, tieDefault: false },
  // modeling_smollm3.py: Llama's modules (every `no_rope_layer_interval`-th layer skips RoPE, which
  // changes no weight); SmolLM3Config ties the embeddings by default.
  smollm3: { layout: llamaLayout, tieDefault: true },
  // modeling_granite.py: Llama's layers; its embedding, attention, residual and logits multipliers
  // change no weight. GraniteConfig leaves the embeddings untied by default.
  granite: { layout: llamaLayout, tieDefault: false },
  // modeling_olmo2.py: q_norm and k_norm over all heads at once (q width, k width); its two RMSNorms
  // follow attention and the MLP (post_attention_layernorm, post_feedforward_layernorm).
  olmo2: { layout: (config) => ({ ...llamaLayout(config), qkNorm: true, qkNormAcrossHeads: true }), tieDefault: false },
  // modeling_olmo3.py: OLMo 2's layers, sliding-window attention where layer_types says so.
  olmo3: { layout: (config) => ({ ...llamaLayout(config), qkNorm: true, qkNormAcrossHeads: true }), tieDefault: false },
  // Mistral-7B-v0.1: one `sliding_window` (4096) applied on every layer.
  mistral: { layout: llamaLayout, tieDefault: false, slidingLayers: (_c, n) => everyLayer(n) },
  // modeling_mixtral.py: Mistral attention, block_sparse_moe with w1/w2/w3 experts and a gate.
  mixtral: { layout: llamaLayout, tieDefault: false, slidingLayers: (_c, n) => everyLayer(n), moe: mixtralMoe },
  // modeling_qwen2.py: bias on q, k and v only.
  qwen2: {
    layout: (config) => ({ ...llamaLayout(config), qkvBias: true, outputBias: false }),
    tieDefault: false,
    slidingLayers: qwenSliding,
  },
  qwen2_moe: {
    layout: (config) => ({ ...llamaLayout(config), qkvBias: true, outputBias: false }),
    tieDefault: false,
    slidingLayers: qwenSliding,
    moe: qwenMoe(true),
  },
  // Qwen-1 (modeling_qwen.py, QWenLMHeadModel by trust_remote_code): a fused c_attn with a bias,
  // c_proj without one; the MLP's w1 and w2 are each intermediate_size / 2 wide (a1 * silu(a2)),
  // then c_proj; two RMSNorms; untied lm_head.
  qwen: {
    layout: (config) => ({ ...llamaLayout(config), qkvBias: true, outputBias: false }),
    tieDefault: false,
    intermediate: (config) => {
      const width = int(config, "intermediate_size");
      return width === undefined || width % 2 !== 0 ? undefined : width / 2;
    },
  },
  // ChatGLM2/3 and GLM-4-9B in THUDM's format (modeling_chatglm.py by trust_remote_code): fused
  // query_key_value with a bias when add_qkv_bias, dense layers with biases only when
  // add_bias_linear, dense_h_to_4h as a fused SwiGLU (2 × ffn_hidden_size), RMSNorm when rmsnorm,
  // a separate output_layer; RoPE on half of each head (rotary_dim = kv_channels / 2).
  chatglm: {
    layout: (config) => {
      const linearBias = readBoolean(config, "add_bias_linear") ?? false;
      return {
        ...llamaLayout(config),
        qkvBias: readBoolean(config, "add_qkv_bias") ?? false,
        outputBias: linearBias,
        mlpBias: linearBias,
        norm: (readBoolean(config, "rmsnorm") ?? true) ? "rms" : "layer",
      };
    },
    tieDefault: false,
    defaults: { partial_rotary_factor: 0.5 },
  },
  // modeling_glm.py (GLM-4 in transformers' own format): q/k/v biases with attention_bias, o_proj
  // without; a fused gate_up_proj; two RMSNorms.
  glm: { layout: (config) => ({ ...llamaLayout(config), outputBias: false }), tieDefault: false },
  // modeling_glm4.py (GLM-4-0414): as glm, plus post_self_attn_layernorm and post_mlp_layernorm.
  glm4: { layout: (config) => ({ ...llamaLayout(config), outputBias: false, normsPerLayer: 4 }), tieDefault: false },
  // modeling_qwen3.py: q_norm and k_norm of head_dim each; biases only with `attention_bias`.
  qwen3: { layout: (config) => ({ ...llamaLayout(config), qkNorm: true }), tieDefault: false, slidingLayers: qwenSliding },
  qwen3_moe: { layout: (config) => ({ ...llamaLayout(config), qkNorm: true }), tieDefault: false, slidingLayers: qwenSliding, moe: qwenMoe(false) },
  // modeling_gemma.py: GeGLU MLP, embeddings always tied.
  gemma: { layout: llamaLayout, tieDefault: true },
  // modeling_gemma2.py: pre/post norms around attention and MLP; even layers slide.
  gemma2: {
    layout: (config) => ({ ...llamaLayout(config), normsPerLayer: 4 }),
    tieDefault: true,
    slidingLayers: (_c, n) => layersWhere(n, (i) => i % 2 === 0),
  },
  // modeling_gemma3.py: Gemma 2's four norms plus q/k norms; every `sliding_window_pattern`-th
  // layer (default 6) is global.
  gemma3_text: {
    layout: (config) => ({ ...llamaLayout(config), normsPerLayer: 4, qkNorm: true }),
    tieDefault: true,
    // configuration_gemma3.py Gemma3TextConfig defaults.
    defaults: { vocab_size: 262_208, max_position_embeddings: 131_072, sliding_window: 4096, head_dim: 256 },
    slidingLayers: (config, n) => {
      const pattern = intOr(config, "sliding_window_pattern", 6);
      return layersWhere(n, (i) => (i + 1) % pattern !== 0);
    },
  },
  // modeling_phi3.py: fused qkv_proj and gate_up_proj, no biases; Phi3Attention passes the
  // config's `sliding_window` (2047 on Phi-3-mini-4k) to every layer.
  phi3: { layout: llamaLayout, tieDefault: false, slidingLayers: (_c, n) => everyLayer(n) },
  // modeling_gpt2.py: Conv1D projections with biases, LayerNorm, learned positions, tied head.
  gpt2: {
    layout: () => biasedLayerNormLayout(0), // positions filled from n_positions in derive.ts
    tieDefault: true,
  },
  // modeling_gpt_neox.py: fused query_key_value and dense with biases, LayerNorm, untied embed_out.
  gpt_neox: {
    layout: (config) => {
      const attentionBias = readBoolean(config, "attention_bias") ?? true;
      return { ...llamaLayout(config), qkvBias: attentionBias, outputBias: attentionBias, mlp: "plain", mlpBias: true, norm: "layer" };
    },
    tieDefault: false,
  },
  // modeling_falcon.py: biases only with `bias`; the new decoder architecture (Falcon-40B/180B) has
  // ln_attn and ln_mlp, the parallel-attention one (Falcon-7B) a single input_layernorm.
  falcon: {
    layout: (config) => {
      const bias = readBoolean(config, "bias") ?? false;
      const newArchitecture = readBoolean(config, "new_decoder_architecture") ?? false;
      const parallel = readBoolean(config, "parallel_attn") ?? true;
      return {
        ...llamaLayout(config),
        qkvBias: bias,
        outputBias: bias,
        mlp: "plain",
        mlpBias: bias,
        norm: "layer",
        normsPerLayer: newArchitecture || !parallel ? 2 : 1,
      };
    },
    tieDefault: true,
  },
  // modeling_deepseek_v3.py: MLA attention, dense first layers then routed + shared experts.
  deepseek_v2: { layout: llamaLayout, tieDefault: false, moe: deepseekMoe, mla: true },
  deepseek_v3: { layout: llamaLayout, tieDefault: false, moe: deepseekMoe, mla: true, mtp: { layers: 0, kind: "deepseek" } },
  // modeling_glm4_moe.py: GQA attention with `attention_bias` on q, k and v only (o_proj has
  // none), q/k norms with `use_qk_norm`; DeepSeek's MoE layout (first_k_dense_replace dense
  // layers, n_shared_experts, an e_score_correction_bias per expert on every router); its MTP
  // layers (num_nextn_predict_layers) as DeepSeek-V3's.
  glm4_moe: {
    layout: (config) => ({ ...llamaLayout(config), outputBias: false, qkNorm: readBoolean(config, "use_qk_norm") ?? false }),
    tieDefault: false,
    moe: (config, numLayers) => {
      const rules = deepseekMoe(config, numLayers);
      return rules && { ...rules, spec: { ...rules.spec, routerBias: true } };
    },
    mtp: { layers: 0, kind: "deepseek" },
  },
  // modeling_minimax_m2.py: GQA attention with q_norm and k_norm over all heads at once
  // (qk_norm_type "per_layer"), every layer routes over num_local_experts experts of
  // intermediate_size with a sigmoid router and its e_score_correction_bias (use_routing_bias).
  // Its MTP modules (use_mtp) are not in the released checkpoint.
  minimax_m2: {
    layout: (config) => ({ ...llamaLayout(config), qkNorm: readBoolean(config, "use_qk_norm") ?? true, qkNormAcrossHeads: config["qk_norm_type"] !== "per_head" }),
    tieDefault: false,
    moe: (config, numLayers) => {
      const rules = mixtralMoe(config, numLayers);
      return rules && { ...rules, spec: { ...rules.spec, routerBias: readBoolean(config, "use_routing_bias") ?? false } };
    },
  },
  // modeling_gpt_oss.py: biases on all four attention projections, one sink logit per head,
  // `layer_types` alternating 128-token windows, 32 experts with biases and a biased router.
  gpt_oss: {
    layout: (config) => ({ ...llamaLayout(config), qkvBias: true, outputBias: true, attentionSinks: true }),
    tieDefault: false,
    moe: (config, numLayers) => {
      const experts = int(config, "num_local_experts");
      const intermediate = int(config, "intermediate_size");
      if (!experts || !intermediate) return undefined;
      return {
        spec: moeSpec({
          experts,
          expertsPerToken: int(config, "num_experts_per_tok") ?? intOr(config, "experts_per_token", 4),
          expertIntermediate: intermediate,
          routerBias: true,
          expertBias: true,
        }),
        isMoeLayer: everyLayer(numLayers),
      };
    },
  },
  // modeling_llama4.py: MoE layers at range(step − 1, L, step) with one shared expert; dense
  // layers use intermediate_size_mlp. RoPE layers (no_rope_layers[i] = 1) attend in chunks of
  // attention_chunk_size; every 4th layer (NoPE) attends globally.
  llama4_text: {
    layout: llamaLayout,
    tieDefault: false,
    moe: (config, numLayers) => {
      const experts = int(config, "num_local_experts");
      const intermediate = int(config, "intermediate_size");
      if (!experts || !intermediate) return undefined;
      const step = intOr(config, "interleave_moe_layer_step", 1);
      const listed = Array.isArray(config["moe_layers"]) ? new Set(config["moe_layers"] as unknown[]) : undefined;
      return {
        spec: moeSpec({ experts, expertsPerToken: intOr(config, "num_experts_per_tok", 1), expertIntermediate: intermediate, sharedIntermediate: intermediate }),
        isMoeLayer: layersWhere(numLayers, (i) => (listed ? listed.has(i) : i % step === step - 1)),
        denseIntermediate: intOr(config, "intermediate_size_mlp", intermediate),
      };
    },
    chunkedLayers: (config, numLayers) => {
      if (!int(config, "attention_chunk_size")) return undefined;
      const noRope = Array.isArray(config["no_rope_layers"]) ? (config["no_rope_layers"] as unknown[]) : undefined;
      const interval = intOr(config, "no_rope_layer_interval", 4);
      return layersWhere(numLayers, (i) => (noRope && noRope.length === numLayers ? noRope[i] === 1 : (i + 1) % interval !== 0));
    },
  },
  // Hybrid and state-space families: their layer kinds and states live in derive-state.ts.
  jamba: {
    layout: llamaLayout,
    tieDefault: false,
    ssm: "jamba",
    // modeling_jamba.py: MoE iff i % expert_layer_period == expert_layer_offset.
    moe: (config, numLayers) => {
      const experts = int(config, "num_experts");
      const intermediate = int(config, "intermediate_size");
      if (!experts || experts < 2 || !intermediate) return undefined;
      const period = intOr(config, "expert_layer_period", 2);
      const offset = typeof config["expert_layer_offset"] === "number" ? config["expert_layer_offset"] : 1;
      return {
        spec: moeSpec({ experts, expertsPerToken: intOr(config, "num_experts_per_tok", 2), expertIntermediate: intermediate }),
        isMoeLayer: layersWhere(numLayers, (i) => i % period === offset),
      };
    },
  },
  falcon_h1: { layout: llamaLayout, tieDefault: false, ssm: "falcon_h1" },
  // modeling_granitemoehybrid.py: Mamba-2 or attention mixers by `layer_types`; every layer's
  // MLP is a shared_mlp of shared_intermediate_size (input_linear h → 2s, output_linear s → h)
  // and, with num_local_experts, a routed block of intermediate_size experts beside it.
  granitemoehybrid: {
    layout: llamaLayout,
    // GraniteMoeHybridConfig's default; Granite 4.0's own configs set tie_word_embeddings true.
    tieDefault: false,
    ssm: "granitemoehybrid",
    moe: (config, numLayers) => {
      const experts = graniteExperts(config);
      const intermediate = int(config, "intermediate_size");
      if (experts === 0 || !intermediate) return undefined;
      return {
        spec: moeSpec({ experts, expertsPerToken: intOr(config, "num_experts_per_tok", 2), expertIntermediate: intermediate, sharedIntermediate: intOr(config, "shared_intermediate_size", 1024) }),
        isMoeLayer: everyLayer(numLayers),
      };
    },
    // Without experts, the shared_mlp is the whole MLP.
    intermediate: (config) => (graniteExperts(config) === 0 ? intOr(config, "shared_intermediate_size", 1024) : undefined),
  },
  // modeling_qwen3_next.py: gated attention (q_proj emits query and gate) with q/k norms.
  qwen3_next: { layout: (config) => ({ ...llamaLayout(config), qkNorm: true, gatedAttention: true }), tieDefault: false, ssm: "qwen3_next", moe: qwenMoe(true), mtp: { layers: 1, kind: "qwen3_next" } },
  // modeling_lfm2.py: short-convolution layers (Lfm2ShortConv) and GQA attention layers
  // (`layer_types`, or `full_attn_idxs`) with per-head q/k layernorms and no biases; every layer
  // has operator_norm, ffn_norm and a SwiGLU MLP whose width Lfm2MLP adjusts from block_ff_dim
  // (2/3 of it, times block_ffn_dim_multiplier, rounded up to block_multiple_of); the final norm
  // is embedding_norm; embeddings tied.
  lfm2: {
    layout: (config) => ({ ...llamaLayout(config), qkNorm: true }),
    tieDefault: true,
    ssm: "lfm2",
    intermediate: (config) => {
      let size = int(config, "block_ff_dim") ?? int(config, "intermediate_size");
      if (size === undefined || readBoolean(config, "block_auto_adjust_ff_dim") === false) return size;
      size = Math.trunc((2 * size) / 3);
      const multiplier = config["block_ffn_dim_multiplier"];
      if (typeof multiplier === "number") size = Math.trunc(multiplier * size);
      const multiple = intOr(config, "block_multiple_of", 256);
      return multiple * Math.ceil(size / multiple);
    },
  },
  // modeling_nemotron_h.py: each layer is one block after one RMSNorm, as hybrid_override_pattern
  // spells it: M a Mamba-2 mixer, * GQA attention (no RoPE), - a two-matrix relu² MLP; untied.
  nemotron_h: {
    layout: (config) => ({ ...llamaLayout(config), mlp: "plain", normsPerLayer: 1 }),
    tieDefault: false,
    ssm: "nemotron_h",
    mlpLayers: (config, numLayers) => layersWhere(numLayers, (i) => nemotronPattern(config, numLayers)[i] === "-"),
  },
  // modeling_phi4flash.py (SambaY): LayerNorms with biases, biased Wqkv and out_proj with
  // differential attention, a bias-free gated fc1 (h → 2I) and fc2; sliding-window attention in
  // the first half, one global layer (L/2 + 1) whose KV the second half reads. Layers by derive-state.ts.
  phi4flash: {
    layout: (config) => ({ ...llamaLayout(config), qkvBias: true, outputBias: true, norm: "layer", differentialAttention: true }),
    tieDefault: true,
    ssm: "sambay",
    slidingLayers: (_config, numLayers) => Array.from({ length: numLayers }, (_, i) => i < Math.floor(numLayers / 2)),
  },
  // modeling_mamba.py: one RMSNorm and a mixer per layer, no MLP, tied embeddings.
  mamba: { layout: (config) => ({ ...llamaLayout(config), normsPerLayer: 1 }), tieDefault: true, ssm: "mamba" },
  mamba2: { layout: (config) => ({ ...llamaLayout(config), normsPerLayer: 1 }), tieDefault: true, ssm: "mamba2" },
};

/** model_type aliases that share a family's rules. */
export const FAMILY_ALIASES: Readonly<Record<string, string>> = {
  RefinedWeb: "falcon",
  RefinedWebModel: "falcon",
  kimi_k2: "deepseek_v3",
  // DeepSeek-V3.2: V3's layers with a sparse-attention indexer beside MLA (read in derive.ts).
  deepseek_v32: "deepseek_v3",
  qwen2_vl: "qwen2",
  qwen2_5_vl: "qwen2",
  qwen2_5_vl_text: "qwen2",
  qwen2_vl_text: "qwen2",
  // Qwen3-VL's language model is Qwen3's (modeling_qwen3_vl.py), with multimodal rotary positions.
  qwen3_vl: "qwen3",
  qwen3_vl_text: "qwen3",
  qwen3_vl_moe: "qwen3_moe",
  qwen3_vl_moe_text: "qwen3_moe",
  // Qwen3.5 (vLLM's qwen3_5.py builds it from Qwen3-Next's layers): gated delta-net and gated
  // attention layers by layer_types, one MTP layer; dense MLPs, or Qwen3-Next's MoE blocks in -MoE.
  qwen3_5: "qwen3_next",
  qwen3_5_text: "qwen3_next",
  qwen3_5_moe: "qwen3_next",
  qwen3_5_moe_text: "qwen3_next",
  llama4: "llama4_text",
  gemma3: "gemma3_text",
  mistral3: "mistral",
};

export function familyOf(modelType: string): { name: string; rules: FamilyRules } | undefined {
  const name = FAMILY_ALIASES[modelType] ?? modelType;
  const rules = FAMILIES[name];
  return rules ? { name, rules } : undefined;
}

/** Encoder–decoder families: planned wrongly by a decoder-only model, so refused. */
export const ENCODER_DECODER_TYPES = new Set(["t5", "mt5", "umt5", "bart", "mbart", "whisper", "marian", "pegasus", "led", "m2m_100", "nllb_moe", "switch_transformers", "longt5", "blenderbot", "prophetnet", "seamless_m4t"]);

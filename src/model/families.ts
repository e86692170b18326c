import { readBoolean, type RawConfig } from "./raw-config.js";
import type { LayerLayout } from "./spec.js";

/**
 * Per-family facts that config.json does not spell out: where the biases are, how many norms a
 * layer has, whether embeddings are tied by default, which layers slide. Each entry cites the
 * transformers modeling file it restates.
 */
export interface FamilyRules {
  layout(config: RawConfig): LayerLayout;
  tieDefault: boolean;
  /**
   * Which layers use sliding-window attention when the config has `sliding_window` but no
   * `layer_types` list; `undefined` means this family never slides without one.
   */
  slidingLayers?(config: RawConfig, numLayers: number): boolean[] | undefined;
}

const llamaLayout = (config: RawConfig): LayerLayout => {
  const attentionBias = readBoolean(config, "attention_bias") ?? false;
  return {
    qkvBias: attentionBias,
    outputBias: attentionBias,
    mlp: "gated",
    mlpBias: readBoolean(config, "mlp_bias") ?? false,
    norm: "rms",
    normsPerLayer: 2,
    qkNorm: false,
    learnedPositions: 0,
  };
};

const everyLayer = (numLayers: number): boolean[] => Array.from({ length: numLayers }, () => true);

// Qwen2/Qwen3 carry `sliding_window` but only use it with `use_sliding_window`, and then only from
// layer `max_window_layers` on (transformers configuration_qwen2.py).
const qwenSliding = (config: RawConfig, numLayers: number): boolean[] | undefined => {
  if (readBoolean(config, "use_sliding_window") !== true) return undefined;
  const first = typeof config["max_window_layers"] === "number" ? config["max_window_layers"] : 0;
  return Array.from({ length: numLayers }, (_, i) => i >= first);
};

export const FAMILIES: Readonly<Record<string, FamilyRules>> = {
  // modeling_llama.py: `attention_bias` on all four projections, `mlp_bias` on the three MLP ones.
  llama: { layout: llamaLayout, tieDefault: false },
  // Mistral-7B-v0.1: one `sliding_window` (4096) applied on every layer.
  mistral: { layout: llamaLayout, tieDefault: false, slidingLayers: (_c, n) => everyLayer(n) },
  // modeling_qwen2.py: bias on q, k and v only.
  qwen2: {
    layout: (config) => ({ ...llamaLayout(config), qkvBias: true, outputBias: false }),
    tieDefault: false,
    slidingLayers: qwenSliding,
  },
  // modeling_qwen3.py: q_norm and k_norm of head_dim each; biases only with `attention_bias`.
  qwen3: {
    layout: (config) => ({ ...llamaLayout(config), qkNorm: true }),
    tieDefault: false,
    slidingLayers: qwenSliding,
  },
  // modeling_gemma.py: GeGLU MLP, embeddings always tied.
  gemma: { layout: llamaLayout, tieDefault: true },
  // modeling_gemma2.py: pre/post norms around attention and MLP; even layers slide.
  gemma2: {
    layout: (config) => ({ ...llamaLayout(config), normsPerLayer: 4 }),
    tieDefault: true,
    slidingLayers: (_c, n) => Array.from({ length: n }, (_, i) => i % 2 === 0),
  },
  // modeling_gemma3.py: Gemma 2's four norms plus q/k norms; every `sliding_window_pattern`-th
  // layer (default 6) is global.
  gemma3_text: {
    layout: (config) => ({ ...llamaLayout(config), normsPerLayer: 4, qkNorm: true }),
    tieDefault: true,
    slidingLayers: (config, n) => {
      const pattern = typeof config["sliding_window_pattern"] === "number" ? config["sliding_window_pattern"] : 6;
      return Array.from({ length: n }, (_, i) => (i + 1) % pattern !== 0);
    },
  },
  // modeling_phi3.py: fused qkv_proj and gate_up_proj, no biases; Phi3Attention passes the
  // config's `sliding_window` (2047 on Phi-3-mini-4k) to every layer.
  phi3: { layout: llamaLayout, tieDefault: false, slidingLayers: (_c, n) => everyLayer(n) },
  // modeling_gpt2.py: Conv1D projections with biases, LayerNorm, learned positions, tied head.
  gpt2: {
    layout: () => ({
      qkvBias: true,
      outputBias: true,
      mlp: "plain",
      mlpBias: true,
      norm: "layer",
      normsPerLayer: 2,
      qkNorm: false,
      learnedPositions: 0, // filled from n_positions in derive.ts
    }),
    tieDefault: true,
  },
  // modeling_gpt_neox.py: fused query_key_value and dense with biases, LayerNorm, untied embed_out.
  gpt_neox: {
    layout: (config) => {
      const attentionBias = readBoolean(config, "attention_bias") ?? true;
      return {
        qkvBias: attentionBias,
        outputBias: attentionBias,
        mlp: "plain",
        mlpBias: true,
        norm: "layer",
        normsPerLayer: 2,
        qkNorm: false,
        learnedPositions: 0,
      };
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
        qkvBias: bias,
        outputBias: bias,
        mlp: "plain",
        mlpBias: bias,
        norm: "layer",
        normsPerLayer: newArchitecture || !parallel ? 2 : 1,
        qkNorm: false,
        learnedPositions: 0,
      };
    },
    tieDefault: true,
  },
};

/** model_type aliases that share a family's rules. */
export const FAMILY_ALIASES: Readonly<Record<string, string>> = {
  RefinedWeb: "falcon",
  RefinedWebModel: "falcon",
};

export function familyOf(modelType: string): { name: string; rules: FamilyRules } | undefined {
  const name = FAMILY_ALIASES[modelType] ?? modelType;
  const rules = FAMILIES[name];
  return rules ? { name, rules } : undefined;
}

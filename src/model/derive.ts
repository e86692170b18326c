import { UnsupportedModelError } from "../errors.js";
import { parseConfigDtype } from "./dtypes.js";
import { familyOf, FAMILIES } from "./families.js";
import {
  FIELD_NAMES,
  readBoolean,
  readObject,
  readPositiveInt,
  readString,
  readStringArray,
  type RawConfig,
} from "./raw-config.js";
import type { AttentionLayer, GuessedField, LayerLayout, ModelSpec } from "./spec.js";

/**
 * Turns a config.json into the typed model spec. Known families get their own rules
 * (families.ts); an unknown `model_type` is read through the generic field names, and every value
 * that had to be assumed is listed in `spec.guessed` so the report can say so.
 */
export function deriveModelSpec(rawConfig: RawConfig): ModelSpec {
  const guessed: GuessedField[] = [];
  // Multimodal wrappers (Llava, Qwen2-VL, Gemma 3) keep the language model's shape in text_config.
  const textConfig = readObject(rawConfig, "text_config");
  const config =
    textConfig && !readPositiveInt(rawConfig, FIELD_NAMES.numLayers) ? { ...textConfig, ...pickDtype(rawConfig, textConfig) } : rawConfig;

  const modelType = readString(config, "model_type") ?? readString(rawConfig, "model_type");
  const family = modelType ? familyOf(modelType) : undefined;
  if (!modelType) guessed.push({ field: "model_type", assumed: "absent: read the generic Llama-style fields" });
  else if (!family) guessed.push({ field: "model_type", assumed: `"${modelType}" is not a known family: read the generic Llama-style fields` });

  const hiddenSize = required(config, "hiddenSize");
  const numLayers = required(config, "numLayers");
  const numAttentionHeads = required(config, "numAttentionHeads");
  const vocabSize = required(config, "vocabSize");

  const numKeyValueHeads = deriveKvHeads(config, modelType, numAttentionHeads, family === undefined, guessed);
  const headDim = deriveHeadDim(config, hiddenSize, numAttentionHeads);
  if (numAttentionHeads % numKeyValueHeads !== 0) {
    throw new UnsupportedModelError(
      `config has ${numAttentionHeads} attention heads and ${numKeyValueHeads} KV heads, which do not divide: check num_key_value_heads`,
      "num_key_value_heads",
    );
  }

  const layout: LayerLayout = family ? family.rules.layout(config) : genericLayout(config, guessed);
  if (modelType === "gpt2") layout.learnedPositions = readPositiveInt(config, ["n_positions"])?.value ?? 1024;

  const intermediateSize = deriveIntermediateSize(config, hiddenSize, layout, family === undefined, guessed);

  const tie = readBoolean(config, "tie_word_embeddings") ?? readBoolean(rawConfig, "tie_word_embeddings");
  let tiedEmbeddings: boolean;
  if (tie !== undefined) tiedEmbeddings = tie;
  else if (family) tiedEmbeddings = family.rules.tieDefault;
  else {
    // transformers' PretrainedConfig defaults tie_word_embeddings to true.
    tiedEmbeddings = true;
    guessed.push({ field: "tie_word_embeddings", assumed: "true (the transformers default)" });
  }

  if (!family) guessed.push(...unmodelledFeatures(config));

  const kv = { kvHeads: numKeyValueHeads, headDim };
  const attention = deriveAttentionLayers(config, numLayers, kv, family?.rules, guessed);

  return {
    modelType: modelType ?? "unknown",
    architecture: readStringArray(rawConfig, "architectures")?.[0],
    family: family?.name ?? "generic",
    hiddenSize,
    numLayers,
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    intermediateSize,
    vocabSize,
    maxContext: deriveMaxContext(config),
    dtype: parseConfigDtype(config["torch_dtype"] ?? config["dtype"] ?? rawConfig["torch_dtype"] ?? rawConfig["dtype"]),
    tiedEmbeddings,
    layout,
    attention,
    quantization: readString(readObject(rawConfig, "quantization_config") ?? {}, "quant_method"),
    guessed,
  };
}

function pickDtype(outer: RawConfig, inner: RawConfig): RawConfig {
  if (inner["torch_dtype"] !== undefined || inner["dtype"] !== undefined) return {};
  return { torch_dtype: outer["torch_dtype"] ?? outer["dtype"] };
}

function required(config: RawConfig, concept: "hiddenSize" | "numLayers" | "numAttentionHeads" | "vocabSize"): number {
  const names = FIELD_NAMES[concept];
  const hit = readPositiveInt(config, names);
  if (!hit) {
    throw new UnsupportedModelError(
      `config.json has no ${names[0]} (nor ${names.slice(1).join(", ")}): vramplan needs it to size the model; check that this is a transformers model config`,
      names[0],
    );
  }
  return hit.value;
}

function deriveKvHeads(
  config: RawConfig,
  modelType: string | undefined,
  numAttentionHeads: number,
  generic: boolean,
  guessed: GuessedField[],
): number {
  // Falcon-7B: `multi_query` means one shared KV head unless the new decoder architecture
  // (Falcon-40B) names its own count (vLLM `get_total_num_kv_heads`).
  const falconLike = modelType === "falcon" || modelType === "RefinedWeb" || modelType === "RefinedWebModel";
  if (falconLike && !readBoolean(config, "new_decoder_architecture") && readBoolean(config, "multi_query")) return 1;
  const hit = readPositiveInt(config, FIELD_NAMES.numKeyValueHeads);
  if (hit) return hit.value;
  if (readBoolean(config, "multi_query") === true) return 1;
  if (generic) guessed.push({ field: "num_key_value_heads", assumed: `${numAttentionHeads} (one per attention head, as in MHA)` });
  return numAttentionHeads;
}

function deriveHeadDim(config: RawConfig, hiddenSize: number, numAttentionHeads: number): number {
  const explicit = readPositiveInt(config, FIELD_NAMES.headDim);
  if (explicit) return explicit.value;
  if (hiddenSize % numAttentionHeads !== 0) {
    throw new UnsupportedModelError(
      `hidden_size ${hiddenSize} is not divisible by ${numAttentionHeads} attention heads and config.json has no head_dim: add head_dim to the config`,
      "head_dim",
    );
  }
  return hiddenSize / numAttentionHeads;
}

function deriveIntermediateSize(
  config: RawConfig,
  hiddenSize: number,
  layout: LayerLayout,
  generic: boolean,
  guessed: GuessedField[],
): number {
  const hit = readPositiveInt(config, FIELD_NAMES.intermediateSize);
  if (hit) return hit.value;
  // GPT-2 (`n_inner: null`) and Falcon (no `ffn_hidden_size`) default to 4 × hidden.
  if (layout.mlp === "plain" && !generic) return 4 * hiddenSize;
  guessed.push({ field: "intermediate_size", assumed: `${4 * hiddenSize} (4 × hidden_size)` });
  return 4 * hiddenSize;
}

/**
 * Features the generic rules cannot size. Named as guesses so an unknown MoE or MLA model is never
 * planned silently as if it were dense (DeepSeek-V3 read generically would cache 56-dim MHA heads).
 */
function unmodelledFeatures(config: RawConfig): GuessedField[] {
  const found: GuessedField[] = [];
  if (config["kv_lora_rank"] !== undefined && config["kv_lora_rank"] !== null) {
    found.push({ field: "kv_lora_rank", assumed: "multi-head latent attention is not modelled: the KV cache is sized as plain attention, an overestimate" });
  }
  const expertField = ["num_local_experts", "n_routed_experts", "num_experts", "moe_num_experts"].find((name) => {
    const value = config[name];
    return typeof value === "number" && value > 1;
  });
  if (expertField) {
    found.push({
      field: expertField,
      assumed: "mixture-of-experts layers are not modelled: the config-derived parameter count has one dense MLP per layer (weights read from safetensors stay exact)",
    });
  }
  return found;
}

function genericLayout(config: RawConfig, guessed: GuessedField[]): LayerLayout {
  const attentionBias = readBoolean(config, "attention_bias");
  const mlpBias = readBoolean(config, "mlp_bias");
  if (attentionBias === undefined) guessed.push({ field: "attention_bias", assumed: "false (no projection biases)" });
  if (mlpBias === undefined) guessed.push({ field: "mlp_bias", assumed: "false" });
  guessed.push({ field: "MLP layout", assumed: "gated (gate, up and down projections)" });
  guessed.push({ field: "norms", assumed: "2 RMSNorm per layer and a final one" });
  return {
    qkvBias: attentionBias ?? false,
    outputBias: attentionBias ?? false,
    mlp: "gated",
    mlpBias: mlpBias ?? false,
    norm: "rms",
    normsPerLayer: 2,
    qkNorm: false,
    learnedPositions: 0,
  };
}

const LAYER_TYPE_KINDS: Readonly<Record<string, "full" | "sliding">> = {
  full_attention: "full",
  sliding_attention: "sliding",
};

function deriveAttentionLayers(
  config: RawConfig,
  numLayers: number,
  kv: { kvHeads: number; headDim: number },
  rules: (typeof FAMILIES)[string] | undefined,
  guessed: GuessedField[],
): AttentionLayer[] {
  const window = readPositiveInt(config, ["sliding_window"])?.value;
  const full = (): AttentionLayer => ({ kind: "full", ...kv });
  const sliding = (w: number): AttentionLayer => ({ kind: "sliding", window: w, ...kv });

  // Newer configs spell the pattern out, one entry per layer (gpt-oss, Gemma 3, Qwen3).
  const layerTypes = readStringArray(config, "layer_types");
  if (layerTypes && layerTypes.length === numLayers) {
    const unknown = [...new Set(layerTypes.filter((type) => !(type in LAYER_TYPE_KINDS)))];
    if (unknown.length > 0) {
      throw new UnsupportedModelError(
        `layer_types contains ${unknown.join(", ")}, which vramplan cannot size yet: only full_attention and sliding_attention layers are supported`,
        "layer_types",
      );
    }
    return layerTypes.map((type) => {
      if (LAYER_TYPE_KINDS[type] === "full") return full();
      if (window === undefined) throw new UnsupportedModelError("layer_types has sliding_attention layers but no sliding_window", "sliding_window");
      return sliding(window);
    });
  }

  if (window === undefined) return Array.from({ length: numLayers }, full);

  let slides: boolean[] | undefined;
  if (rules) {
    slides = rules.slidingLayers?.(config, numLayers);
  } else if (typeof config["sliding_window_pattern"] === "number" && config["sliding_window_pattern"] > 0) {
    const pattern = config["sliding_window_pattern"];
    slides = Array.from({ length: numLayers }, (_, i) => (i + 1) % pattern !== 0);
    guessed.push({ field: "sliding layers", assumed: `every ${pattern}th layer global, the others slide (Gemma 3 convention)` });
  } else if (readBoolean(config, "use_sliding_window") !== false) {
    slides = Array.from({ length: numLayers }, () => true);
    guessed.push({ field: "sliding layers", assumed: `all layers slide over ${window} tokens (Mistral convention)` });
  }
  if (!slides) return Array.from({ length: numLayers }, full);
  return slides.map((slide) => (slide ? sliding(window) : full()));
}

/**
 * vLLM's derived max_model_len: the smallest declared length, stretched by RoPE scaling where the
 * scaling type extends the context (yarn from its original length, linear and dynamic by factor).
 */
function deriveMaxContext(config: RawConfig): number | undefined {
  const lengths = FIELD_NAMES.maxContext
    .map((name) => readPositiveInt(config, [name])?.value)
    .filter((value): value is number => value !== undefined);
  if (lengths.length === 0) return undefined;
  let maxContext = Math.min(...lengths);
  const ropeScaling = readObject(config, "rope_scaling");
  if (ropeScaling) {
    const type = readString(ropeScaling, "rope_type") ?? readString(ropeScaling, "type");
    const factor = typeof ropeScaling["factor"] === "number" ? ropeScaling["factor"] : undefined;
    if (factor !== undefined && factor > 1) {
      if (type === "yarn") {
        const original = readPositiveInt(ropeScaling, ["original_max_position_embeddings"])?.value;
        if (original !== undefined) maxContext = Math.floor(original * factor);
      } else if (type === "linear" || type === "dynamic") {
        maxContext = Math.floor(maxContext * factor);
      }
    }
  }
  return maxContext;
}

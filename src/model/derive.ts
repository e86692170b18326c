import { UnsupportedModelError } from "../errors.js";
import { parseConfigDtype, type ComputeDtype } from "./dtypes.js";
import { deriveSsmLayers, type SsmLayer } from "./derive-state.js";
import { biasedLayerNormLayout, ENCODER_DECODER_TYPES, familyOf, llamaLayout, type FamilyRules, type MoeRules } from "./families.js";
import {
  FIELD_NAMES,
  readBoolean,
  readObject,
  readPositiveInt,
  readPositiveIntStrict,
  readString,
  readStringArray,
  type RawConfig,
} from "./raw-config.js";
import type { AttentionCache, GuessedField, LayerLayout, LayerSpec, MlaShape, ModelSpec, VisionTowerSpec } from "./spec.js";

/**
 * Turns a config.json into the typed model spec. Known families get their own rules
 * (families.ts); an unknown `model_type` is read through the generic field names, and every value
 * that had to be assumed is listed in `spec.guessed` so the report can say so.
 */
export function deriveModelSpec(rawConfig: RawConfig): ModelSpec {
  const guessed: GuessedField[] = [];
  refuseEncoderDecoder(rawConfig);
  if (isEncoderOnly(rawConfig)) return encoderOnlySpec(rawConfig);
  // Multimodal wrappers (Llava, Qwen2-VL, Gemma 3, Llama 4) keep the language model in text_config.
  const textConfig = readObject(rawConfig, "text_config");
  const declared =
    textConfig && !readPositiveInt(rawConfig, FIELD_NAMES.numLayers) ? { ...pickShared(rawConfig, textConfig), ...textConfig } : rawConfig;

  const modelType = readString(declared, "model_type") ?? readString(rawConfig, "model_type");
  const family = modelType ? familyOf(modelType) : undefined;
  // What the family's transformers config class fills in when config.json leaves a field out.
  const config: RawConfig = { ...family?.rules.defaults, ...declared };
  const rules = family?.rules;
  if (!modelType) guessed.push({ field: "model_type", assumed: "absent: read the generic Llama-style fields" });
  else if (!family) guessed.push({ field: "model_type", assumed: `"${modelType}" is not a known family: read the generic Llama-style fields` });

  const hiddenSize = required(config, "hiddenSize");
  const numLayers = required(config, "numLayers");
  const vocabSize = required(config, "vocabSize");
  const attentionFree = rules?.ssm === "mamba" || rules?.ssm === "mamba2";
  const numAttentionHeads = attentionFree ? 0 : required(config, "numAttentionHeads");
  const numKeyValueHeads = attentionFree ? 0 : deriveKvHeads(config, modelType, numAttentionHeads, family === undefined, guessed);
  const headDim = attentionFree ? 0 : deriveHeadDim(config, hiddenSize, numAttentionHeads);
  if (!attentionFree && numAttentionHeads % numKeyValueHeads !== 0) {
    throw new UnsupportedModelError(
      `config has ${numAttentionHeads} attention heads and ${numKeyValueHeads} KV heads, which do not divide: check num_key_value_heads`,
      "num_key_value_heads",
    );
  }

  const layout: LayerLayout = rules ? rules.layout(config) : genericLayout(config, guessed);
  if (modelType === "gpt2") layout.learnedPositions = readPositiveInt(config, ["n_positions"])?.value ?? 1024;

  const moe = rules ? rules.moe?.(config, numLayers) : genericMoe(config, numLayers, guessed);
  const intermediateSize = moe?.denseIntermediate ?? rules?.intermediate?.(config) ?? deriveIntermediateSize(config, hiddenSize, layout, family === undefined || attentionFree, guessed);
  const mla = rules?.mla ? readMla(config, numAttentionHeads) : undefined;
  if (!family) guessed.push(...unmodelledFeatures(config));

  const tie = readBoolean(config, "tie_word_embeddings") ?? readBoolean(rawConfig, "tie_word_embeddings");
  let tiedEmbeddings: boolean;
  if (tie !== undefined) tiedEmbeddings = tie;
  else if (rules) tiedEmbeddings = rules.tieDefault;
  else {
    // transformers' PretrainedConfig defaults tie_word_embeddings to true.
    tiedEmbeddings = true;
    // What the guess can move, so the reader knows how far off a config-only count may be.
    guessed.push({ field: "tie_word_embeddings", assumed: `true (the transformers default); untied, lm_head would add ${vocabSize * hiddenSize} parameters`, parametersAtStake: vocabSize * hiddenSize });
  }

  if (!family) quantifyGuesses(guessed, { numLayers, hiddenSize, intermediateSize, heads: numAttentionHeads, kvHeads: numKeyValueHeads, headDim, moe });
  const attention = attentionFree ? [] : deriveAttention(config, numLayers, { kvHeads: numKeyValueHeads, headDim }, rules, mla, numAttentionHeads, guessed);
  const ssm: SsmLayer[] | undefined = rules?.ssm ? deriveSsmLayers(rules.ssm, config, numLayers, hiddenSize) : undefined;
  const mlpLayers = rules?.mlpLayers?.(config, numLayers);
  const layers: LayerSpec[] = Array.from({ length: numLayers }, (_, i) => {
    const attends = ssm ? ssm[i]?.attention === true : true;
    const state = ssm?.[i]?.state;
    const cache = attention[i];
    const sharedMixer = ssm?.[i]?.sharedMixer;
    return {
      caches: [...(attends && cache ? [cache] : []), ...(state ? [state] : [])],
      mlp: attentionFree || mlpLayers?.[i] === false ? "none" : moe?.isMoeLayer[i] ? "moe" : "dense",
      ...(sharedMixer && { sharedMixer }),
    };
  });

  return {
    // The checkpoint's own model_type (gemma3), though the rules come from its text model's.
    modelType: readString(rawConfig, "model_type") ?? modelType ?? "unknown",
    architecture: readStringArray(rawConfig, "architectures")?.[0],
    family: family?.name ?? "generic",
    hiddenSize,
    numLayers,
    numAttentionHeads,
    numKeyValueHeads,
    headDim,
    intermediateSize,
    vocabSize,
    rotaryDim: mla ? mla.qkRopeHeadDim : layout.learnedPositions > 0 || attentionFree ? 0 : deriveRotaryDim(config, headDim),
    maxContext: deriveMaxContext(config),
    dtype: parseConfigDtype(config["torch_dtype"] ?? config["dtype"] ?? rawConfig["torch_dtype"] ?? rawConfig["dtype"]),
    tiedEmbeddings,
    layout,
    layers,
    moe: moe?.spec,
    mla,
    parametersFromConfig: layers.every((layer) => layer.caches.every((cache) => cache.kind !== "state" || cache.mixerParameters !== null)),
    multiTokenPredictionLayers: declaredMtpLayers(config) ?? rules?.mtp?.layers ?? 0,
    multiTokenPredictionKind: rules?.mtp?.kind,
    ...(modelType?.startsWith("qwen3_5") ? ssmStateDtype(config) : {}),
    hasVisionTower: readObject(rawConfig, "vision_config") !== undefined,
    visionTower: readVisionTower(rawConfig),
    encoderOnly: false,
    // MLX writes {"quantization": {"group_size", "bits"}} and no quant_method.
    quantization: readString(readObject(rawConfig, "quantization_config") ?? {}, "quant_method") ?? (readObject(rawConfig, "quantization") ? "mlx" : undefined),
    guessed,
  };
}

/**
 * Encoder-only families (transformers' BERT-style models, and the sentence-transformers embedding
 * models built on them): each input is one forward pass over all its tokens, so nothing is cached
 * between steps. `is_decoder` turns a BERT into a causal decoder; that one is not an encoder.
 */
const ENCODER_ONLY_TYPES = new Set(["bert", "roberta", "xlm-roberta", "xlm-roberta-xl", "distilbert", "electra", "deberta", "deberta-v2", "mpnet", "modernbert", "nomic_bert", "camembert", "albert", "ernie", "megatron-bert"]);

function isEncoderOnly(config: RawConfig): boolean {
  return ENCODER_ONLY_TYPES.has(readString(config, "model_type") ?? "") && readBoolean(config, "is_decoder") !== true;
}

/**
 * An encoder's shape: what the plan reports and training's activations use. Its parameters come
 * from the safetensors headers only (token-type and position tables, poolers and heads vary by
 * family), and its layers keep no cache.
 */
function encoderOnlySpec(config: RawConfig): ModelSpec {
  const hiddenSize = required(config, "hiddenSize");
  const numLayers = required(config, "numLayers");
  const vocabSize = required(config, "vocabSize");
  const numAttentionHeads = required(config, "numAttentionHeads");
  const headDim = deriveHeadDim(config, hiddenSize, numAttentionHeads);
  const layout = biasedLayerNormLayout(readPositiveInt(config, ["max_position_embeddings"])?.value ?? 0);
  return {
    modelType: readString(config, "model_type") ?? "unknown",
    architecture: readStringArray(config, "architectures")?.[0],
    family: "encoder",
    hiddenSize,
    numLayers,
    numAttentionHeads,
    numKeyValueHeads: numAttentionHeads,
    headDim,
    rotaryDim: 0,
    intermediateSize: readPositiveInt(config, FIELD_NAMES.intermediateSize)?.value ?? 4 * hiddenSize,
    vocabSize,
    maxContext: deriveMaxContext(config),
    dtype: parseConfigDtype(config["torch_dtype"] ?? config["dtype"]),
    tiedEmbeddings: readBoolean(config, "tie_word_embeddings") ?? true,
    layout,
    layers: Array.from({ length: numLayers }, () => ({ caches: [], mlp: "dense" as const })),
    moe: undefined,
    mla: undefined,
    parametersFromConfig: false,
    multiTokenPredictionLayers: 0,
    multiTokenPredictionKind: undefined,
    hasVisionTower: false,
    visionTower: undefined,
    encoderOnly: true,
    quantization: readString(readObject(config, "quantization_config") ?? {}, "quant_method"),
    guessed: [],
  };
}

/** Qwen3.5's `mamba_ssm_dtype` ("float32"): the SSM state's own dtype, apart from the model's. */
function ssmStateDtype(config: RawConfig): { ssmStateDtype?: ComputeDtype } {
  const declared = parseConfigDtype(config["mamba_ssm_dtype"]);
  return declared ? { ssmStateDtype: declared } : {};
}

/**
 * How many multi-token-prediction layers config.json says the checkpoint ships: DeepSeek and GLM
 * name them num_nextn_predict_layers, Qwen3-Next and Qwen3.5 mtp_num_hidden_layers. An explicit 0
 * means none (a checkpoint stripped of them), not "ask the family".
 */
const MTP_LAYER_FIELDS = ["num_nextn_predict_layers", "mtp_num_hidden_layers"];

function declaredMtpLayers(config: RawConfig): number | undefined {
  return readPositiveInt(config, MTP_LAYER_FIELDS)?.value ?? (MTP_LAYER_FIELDS.some((name) => config[name] === 0) ? 0 : undefined);
}

/**
 * The Qwen3-VL vision tower's checkpoints: Qwen3VLVisionConfig stacks three deepstack mergers by
 * default ([8, 16, 24]); Qwen3_5VisionConfig has none.
 */
const QWEN3_VISION_DEFAULTS: Readonly<Record<string, { deepstackMergers: number }>> = {
  qwen3_vl: { deepstackMergers: 3 },
  qwen3_vl_moe: { deepstackMergers: 3 },
  qwen3_5: { deepstackMergers: 0 },
  qwen3_5_moe: { deepstackMergers: 0 },
};

/** The vision tower's shape, for the families whose modules vramplan knows (VisionTowerSpec). */
function readVisionTower(config: RawConfig): VisionTowerSpec | undefined {
  const vision = readObject(config, "vision_config");
  if (!vision) return undefined;
  const field = (name: string) => readPositiveInt(vision, [name])?.value;
  if (readString(config, "model_type") === "gemma3" && readString(vision, "model_type") === "siglip_vision_model" && readBoolean(vision, "vision_use_head") === false) {
    const [depth, hidden, intermediate, imageSize, patch] = [field("num_hidden_layers"), field("hidden_size"), field("intermediate_size"), field("image_size"), field("patch_size")];
    const outHidden = readPositiveInt(readObject(config, "text_config") ?? {}, ["hidden_size"])?.value;
    if (!depth || !hidden || !intermediate || !imageSize || !patch || !outHidden) return undefined;
    return { kind: "siglip", depth, hidden, intermediate, imageSize, patch, outHidden, inChannels: field("num_channels") ?? 3 };
  }
  if (readString(config, "model_type") === "llama4") {
    const [depth, hidden, intermediate, imageSize, patch] = [field("num_hidden_layers"), field("hidden_size"), field("intermediate_size"), field("image_size"), field("patch_size")];
    const outHidden = readPositiveInt(readObject(config, "text_config") ?? {}, ["hidden_size"])?.value;
    if (!depth || !hidden || !intermediate || !imageSize || !patch || !outHidden) return undefined;
    // Llama4VisionConfig's defaults for the projector widths.
    const projectorInput = field("projector_input_dim") ?? 4096;
    return {
      kind: "llama4",
      depth,
      hidden,
      intermediate,
      imageSize,
      patch,
      outHidden,
      inChannels: field("num_channels") ?? 3,
      projectorInput,
      projectorOutput: field("projector_output_dim") ?? 4096,
      visionOutput: field("vision_output_dim") ?? 7680,
      projectorBias: readBoolean(vision, "multi_modal_projector_bias") ?? false,
    };
  }
  if (readString(config, "model_type") === "kimi_k25") {
    // KimiK25VisionConfig names the tower's fields vt_*; its projector maps into text_hidden_size.
    const [depth, hidden, intermediate, patch] = [field("vt_num_hidden_layers"), field("vt_hidden_size"), field("vt_intermediate_size"), field("patch_size")];
    const outHidden = field("text_hidden_size") ?? readPositiveInt(readObject(config, "text_config") ?? {}, ["hidden_size"])?.value;
    const [height, width] = [field("init_pos_emb_height"), field("init_pos_emb_width")];
    const merge = vision["merge_kernel_size"];
    const mergedPatches = Array.isArray(merge) && merge.length === 2 && merge.every((side) => Number.isSafeInteger(side) && side > 0 && side <= 16) ? (merge[0] as number) * (merge[1] as number) : undefined;
    if (!depth || !hidden || !intermediate || !patch || !outHidden || !height || !width || !mergedPatches) return undefined;
    return { kind: "moonvit", depth, hidden, intermediate, patch, outHidden, inChannels: 3, positions: height * width, mergedPatches };
  }
  const qwen3 = QWEN3_VISION_DEFAULTS[readString(config, "model_type") ?? ""];
  if (qwen3) {
    const [depth, hidden, intermediate, outHidden] = [field("depth") ?? 27, field("hidden_size") ?? 1152, field("intermediate_size") ?? 4304, field("out_hidden_size") ?? 3584];
    const deepstack = vision["deepstack_visual_indexes"];
    return {
      kind: "qwen3_vl",
      depth,
      hidden,
      intermediate,
      outHidden,
      inChannels: field("in_channels") ?? 3,
      patch: field("patch_size") ?? 16,
      temporalPatch: field("temporal_patch_size") ?? 2,
      spatialMerge: field("spatial_merge_size") ?? 2,
      positions: field("num_position_embeddings") ?? 2304,
      deepstackMergers: Array.isArray(deepstack) ? deepstack.length : qwen3.deepstackMergers,
    };
  }
  if (readString(config, "model_type") !== "qwen2_5_vl") return undefined;
  const [depth, hidden, intermediate, outHidden] = [field("depth"), field("hidden_size"), field("intermediate_size"), field("out_hidden_size")];
  if (!depth || !hidden || !intermediate || !outHidden) return undefined;
  return {
    kind: "qwen2_5_vl",
    depth,
    hidden,
    intermediate,
    outHidden,
    // Qwen2_5_VLVisionConfig's defaults.
    inChannels: field("in_channels") ?? field("in_chans") ?? 3,
    patch: field("patch_size") ?? 14,
    temporalPatch: field("temporal_patch_size") ?? 2,
    spatialMerge: field("spatial_merge_size") ?? 2,
  };
}

function refuseEncoderDecoder(config: RawConfig): void {
  const modelType = readString(config, "model_type") ?? "";
  if (readBoolean(config, "is_encoder_decoder") === true || ENCODER_DECODER_TYPES.has(modelType)) {
    throw new UnsupportedModelError(
      `${modelType || "this model"} is an encoder–decoder model: vramplan plans decoder-only models and would need the cross-attention cache of the encoder output too, so it refuses rather than print a wrong number`,
      "is_encoder_decoder",
    );
  }
}

/** The wrapper's dtype and tie flag apply to its text model unless that says otherwise. */
function pickShared(outer: RawConfig, inner: RawConfig): RawConfig {
  const shared: Record<string, unknown> = {};
  if (inner["torch_dtype"] === undefined && inner["dtype"] === undefined) shared["torch_dtype"] = outer["torch_dtype"] ?? outer["dtype"];
  if (inner["tie_word_embeddings"] === undefined && outer["tie_word_embeddings"] !== undefined) shared["tie_word_embeddings"] = outer["tie_word_embeddings"];
  return shared;
}

function required(config: RawConfig, concept: "hiddenSize" | "numLayers" | "numAttentionHeads" | "vocabSize"): number {
  const names = FIELD_NAMES[concept];
  const hit = readPositiveInt(config, names);
  if (!hit) {
    const present = names.find((name) => config[name] !== undefined && config[name] !== null);
    if (present) {
      throw new UnsupportedModelError(
        `config.json has ${present} = ${JSON.stringify(config[present])}, which is not a positive whole number: fix that field (vramplan needs it to size the model)`,
        present,
      );
    }
    throw new UnsupportedModelError(
      `config.json has no ${names[0]} (nor ${names.slice(1).join(", ")}): vramplan needs it to size the model; check that this is a transformers model config`,
      names[0],
    );
  }
  return hit.value;
}

function deriveKvHeads(config: RawConfig, modelType: string | undefined, numAttentionHeads: number, generic: boolean, guessed: GuessedField[]): number {
  // Falcon-7B: `multi_query` means one shared KV head unless the new decoder architecture
  // (Falcon-40B) names its own count (vLLM `get_total_num_kv_heads`).
  const falconLike = modelType === "falcon" || modelType === "RefinedWeb" || modelType === "RefinedWebModel";
  if (falconLike && !readBoolean(config, "new_decoder_architecture") && readBoolean(config, "multi_query")) return 1;
  const hit = readPositiveIntStrict(config, FIELD_NAMES.numKeyValueHeads);
  if (hit) return hit.value;
  if (readBoolean(config, "multi_query") === true) return 1;
  if (generic) {
    guessed.push({
      field: "num_key_value_heads",
      assumed: `${numAttentionHeads} (one per attention head, as in MHA); with fewer KV heads the KV cache shrinks in proportion, to 1/${numAttentionHeads} of this with one`,
    });
  }
  return numAttentionHeads;
}

function deriveHeadDim(config: RawConfig, hiddenSize: number, numAttentionHeads: number): number {
  const explicit = readPositiveIntStrict(config, FIELD_NAMES.headDim);
  if (explicit) return explicit.value;
  if (hiddenSize % numAttentionHeads !== 0) {
    throw new UnsupportedModelError(
      `hidden_size ${hiddenSize} is not divisible by ${numAttentionHeads} attention heads and config.json has no head_dim: add head_dim to the config`,
      "head_dim",
    );
  }
  return hiddenSize / numAttentionHeads;
}

function deriveIntermediateSize(config: RawConfig, hiddenSize: number, layout: LayerLayout, guessable: boolean, guessed: GuessedField[]): number {
  const hit = readPositiveInt(config, FIELD_NAMES.intermediateSize);
  if (hit) return hit.value;
  // GPT-2 (`n_inner: null`) and Falcon (no `ffn_hidden_size`) default to 4 × hidden.
  if (layout.mlp === "plain" && !guessable) return 4 * hiddenSize;
  guessed.push({ field: "intermediate_size", assumed: `${4 * hiddenSize} (4 × hidden_size)` });
  return 4 * hiddenSize;
}

function readMla(config: RawConfig, heads: number): MlaShape {
  const need = (name: string) => {
    const value = readPositiveInt(config, [name])?.value;
    if (value === undefined) throw new UnsupportedModelError(`config.json has no ${name}: vramplan needs it to size multi-head latent attention`, name);
    return value;
  };
  const shape: MlaShape = {
    qLoraRank: readPositiveInt(config, ["q_lora_rank"])?.value ?? null,
    kvLoraRank: need("kv_lora_rank"),
    qkNopeHeadDim: need("qk_nope_head_dim"),
    qkRopeHeadDim: need("qk_rope_head_dim"),
    vHeadDim: need("v_head_dim"),
    indexer: null,
  };
  const indexHeads = readPositiveInt(config, ["index_n_heads"])?.value;
  if (indexHeads !== undefined) shape.indexer = { heads: indexHeads, headDim: need("index_head_dim"), topk: need("index_topk") };
  if (heads <= 0) throw new UnsupportedModelError("config.json has no num_attention_heads", "num_attention_heads");
  return shape;
}

/**
 * Mixtral-shaped experts read from generic fields, for an unknown model_type that has them; named
 * as a guess. Without this an unknown MoE would be counted as one dense MLP per layer.
 */
function genericMoe(config: RawConfig, numLayers: number, guessed: GuessedField[]): MoeRules | undefined {
  const experts = readPositiveInt(config, ["num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts"]);
  if (!experts || experts.value < 2) return undefined;
  const expertIntermediate = readPositiveInt(config, ["moe_intermediate_size", "intermediate_size"])?.value;
  if (!expertIntermediate) return undefined;
  const perToken = readPositiveInt(config, ["num_experts_per_tok", "experts_per_token", "moe_top_k"])?.value ?? 2;
  guessed.push({ field: experts.field, assumed: `${experts.value} routed experts on every layer, ${perToken} per token, no shared expert (Mixtral layout)` });
  return {
    spec: { experts: experts.value, expertsPerToken: perToken, expertIntermediate, sharedIntermediate: 0, sharedExpertGate: false, routerBias: false, routerBiasInFp32: false, expertBias: false },
    isMoeLayer: Array.from({ length: numLayers }, () => true),
  };
}

/**
 * Features the generic rules cannot size. Named as guesses so an unknown MLA model is never
 * planned silently as if it were plain attention (DeepSeek read generically would cache 56-dim
 * MHA heads).
 */
function unmodelledFeatures(config: RawConfig): GuessedField[] {
  if (config["kv_lora_rank"] === undefined || config["kv_lora_rank"] === null) return [];
  return [{ field: "kv_lora_rank", assumed: "multi-head latent attention is not modelled for this model_type: the KV cache is sized as plain attention, an overestimate" }];
}

/**
 * What each generic guess puts at stake, in parameters: the other reading of the field, counted
 * with this model's shapes (attention biases on q, k, v and o; MLP biases; a two-matrix MLP;
 * LayerNorms with biases; a shared expert as wide as the routed ones). The plan sums them into
 * the most a config-only count of an unknown model can be off by.
 */
function quantifyGuesses(
  guessed: GuessedField[],
  shape: { numLayers: number; hiddenSize: number; intermediateSize: number; heads: number; kvHeads: number; headDim: number; moe: MoeRules | undefined },
): void {
  const { numLayers: layers, hiddenSize: h, intermediateSize: i, heads, kvHeads, headDim, moe } = shape;
  const denseLayers = moe ? moe.isMoeLayer.filter((routed) => !routed).length : layers;
  const stakes: Record<string, [number, string]> = {
    attention_bias: [layers * (heads * headDim + 2 * kvHeads * headDim + h), "true would add"],
    mlp_bias: [denseLayers * (2 * i + h), "true would add"],
    "MLP layout": [denseLayers * h * i, "a plain two-matrix MLP would have"],
    norms: [(2 * layers + 1) * h, "LayerNorm (weight and bias) would add"],
  };
  if (moe) stakes[guessed.find((guess) => guess.assumed.includes("routed experts on every layer"))?.field ?? ""] = [layers * 3 * h * moe.spec.expertIntermediate, "a shared expert as wide as one routed expert would add"];
  for (const guess of guessed) {
    const stake = stakes[guess.field];
    if (!stake) continue;
    guess.parametersAtStake = stake[0];
    guess.assumed += `; ${stake[1]} ${stake[0]} parameters${stake[1].endsWith("have") ? " fewer" : ""}`;
  }
}

function genericLayout(config: RawConfig, guessed: GuessedField[]): LayerLayout {
  if (readBoolean(config, "attention_bias") === undefined) guessed.push({ field: "attention_bias", assumed: "false (no projection biases)" });
  if (readBoolean(config, "mlp_bias") === undefined) guessed.push({ field: "mlp_bias", assumed: "false" });
  guessed.push({ field: "MLP layout", assumed: "gated (gate, up and down projections)" });
  guessed.push({ field: "norms", assumed: "2 RMSNorm per layer and a final one" });
  return llamaLayout(config);
}

const LAYER_TYPE_KINDS: Readonly<Record<string, "full" | "sliding" | "chunked" | "other">> = {
  full_attention: "full",
  attention: "full",
  sliding_attention: "sliding",
  chunked_attention: "chunked",
  // Non-attention layers of hybrids; which of them carry a state is derive-state.ts's business.
  linear_attention: "other",
  mamba: "other",
};

/** The attention cache of each layer, before hybrids drop the layers that do not attend. */
function deriveAttention(
  config: RawConfig,
  numLayers: number,
  kv: { kvHeads: number; headDim: number },
  rules: FamilyRules | undefined,
  mla: MlaShape | undefined,
  heads: number,
  guessed: GuessedField[],
): AttentionCache[] {
  if (mla) {
    // vLLM, SGLang and llama.cpp cache one latent vector per token: no per-head K and V.
    const latent: AttentionCache = {
      kind: "mla",
      latentDim: mla.kvLoraRank + mla.qkRopeHeadDim,
      expandedDim: heads * (mla.qkNopeHeadDim + mla.qkRopeHeadDim + mla.vHeadDim),
      indexerKeyBytes: mla.indexer ? mla.indexer.headDim + Math.ceil(mla.indexer.headDim / 128) * 4 : 0,
    };
    return Array.from({ length: numLayers }, () => latent);
  }
  const valueDim = readPositiveInt(config, ["v_head_dim"])?.value ?? kv.headDim;
  const shape = { kvHeads: kv.kvHeads, keyDim: kv.headDim, valueDim };
  const window = readPositiveInt(config, ["sliding_window"])?.value;
  const chunk = readPositiveInt(config, ["attention_chunk_size"])?.value;
  const full = (): AttentionCache => ({ kind: "full", ...shape });
  const sliding = (): AttentionCache => {
    if (window === undefined) throw new UnsupportedModelError("the config has sliding-attention layers but no sliding_window", "sliding_window");
    return { kind: "sliding", window, ...shape };
  };
  const chunked = (): AttentionCache => {
    if (chunk === undefined) throw new UnsupportedModelError("the config has chunked-attention layers but no attention_chunk_size", "attention_chunk_size");
    return { kind: "chunked", chunk, ...shape };
  };

  // Newer configs spell the pattern out, one entry per layer (gpt-oss, Gemma 3, Qwen3, Llama 4).
  const layerTypes = readStringArray(config, "layer_types");
  if (layerTypes && layerTypes.length === numLayers) {
    const unknown = [...new Set(layerTypes.filter((type) => !(type in LAYER_TYPE_KINDS)))];
    if (unknown.length > 0) {
      throw new UnsupportedModelError(`layer_types contains ${unknown.join(", ")}, which vramplan cannot size yet`, "layer_types");
    }
    return layerTypes.map((type) => {
      const kind = LAYER_TYPE_KINDS[type];
      return kind === "sliding" ? sliding() : kind === "chunked" ? chunked() : full();
    });
  }

  const chunkedLayers = rules?.chunkedLayers?.(config, numLayers);
  if (chunkedLayers) return chunkedLayers.map((isChunked) => (isChunked ? chunked() : full()));

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
  return slides.map((slide) => (slide ? sliding() : full()));
}

/**
 * vLLM's derived max_model_len: the smallest declared length; a yarn RoPE scaling stretches its
 * original length by its factor (Qwen's 32k → 128k configs). Linear and dynamic scaling are not
 * applied: configs that use them (Gemma 3) already declare the extended length.
 */
/** rotary_dim (GPT-J), partial_rotary_factor (Phi, StableLM, GLM) or rotary_pct (GPT-NeoX) of head_dim. */
function deriveRotaryDim(config: RawConfig, headDim: number): number {
  const explicit = readPositiveInt(config, ["rotary_dim", "rotary_emb_dim"]);
  if (explicit) return explicit.value;
  const fraction = [config["partial_rotary_factor"], config["rotary_pct"]].find((value) => typeof value === "number" && value > 0 && value <= 1);
  return typeof fraction === "number" ? Math.floor(headDim * fraction) : headDim;
}

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
      }
    }
  }
  return maxContext;
}

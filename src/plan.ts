import { ContextTooLongError, UnsupportedModelError, UsageError, withOptionNames } from "./errors.js";
import { estimateKvCache, type KvCacheEstimate } from "./estimate/kv-cache.js";
import { estimateWeights, type WeightsEstimate } from "./estimate/weights.js";
import { quantizationRules } from "./estimate/tensor-roles.js";
import type { EngineKnobs } from "./serve/accounting.js";
import { planServing, type ServedWeights, type ServingOptions, type ServingPlan } from "./serve/serving.js";
import { storedScheme } from "./estimate/weight-schemes.js";
import type { ConfigSource, LoadedModel, ManifestSource } from "./hub/load-model.js";
import { loadCheckpoint } from "./load-checkpoint.js";
import type { SentenceTransformerPlan } from "./model/sentence-transformers.js";
import { hubSettingsFromEnv, type HubSettings } from "./hub/settings.js";
import { parseModelRef } from "./model-id.js";
import { checkAttentionAgainstHeaders } from "./model/check-against-headers.js";
import { isGgufFirst } from "./repo-kind.js";
import { deriveModelSpec } from "./model/derive.js";
import { encoderForwardActivations, type EncoderActivations } from "./estimate/encoder-activations.js";
import { COMPUTE_DTYPE_BYTES, KV_FORMATS, SAFETENSORS_COMPUTE_DTYPES, type ComputeDtype, type KvDtypeChoice, type KvFormatName } from "./model/dtypes.js";
import type { CacheKind, MlaShape, ModelSpec } from "./model/spec.js";
import { formatInt } from "./report/units.js";
import type { TokenCount, TokenInput } from "./tokens/count-tokens.js";

export interface PlanOptions {
  /** Branch, tag or commit; `main` by default (an `@revision` suffix on the id also works). */
  revision?: string;
  /** Tokens per sequence; defaults to the model's maximum, as vLLM's max_model_len does. */
  context?: number;
  /** Concurrent sequences. */
  batch?: number;
  kvDtype?: KvDtypeChoice;
  /** Make a context beyond the model's maximum an error instead of a warning. */
  strict?: boolean;
  /** Plan serving: an engine, a GPU by name, weight formats to compare. */
  serving?: ServingRequest;
  /**
   * With no `serving` given, plan serving anyway under the default engine where the model can be
   * served, so the plan says which common GPUs fit (the web page does). Encoders, GGUF repos and
   * pipelines go without.
   */
  servingByDefault?: boolean | undefined;
  /**
   * Size the context from a prompt instead of `context`: its tokens through the model's chat
   * template and tokenizer, plus the tokens to generate.
   */
  prompt?: { input: TokenInput; maxNewTokens?: number };
}

/** The split of a context sized from a prompt; `plan()` fills it in after counting. */
export interface PromptContext {
  input: "messages" | "prompt";
  promptTokens: number;
  newTokens: number;
  template: TokenCount["template"];
}

export interface ServingRequest {
  /** "vllm", "vllm@0.11", "sglang", "llama.cpp@b5935", "transformers"; vLLM's newest profile by default. */
  engine?: string;
  /** A GPU as people name it: "H100", "A100-40", "4090"; without one, common GPUs are listed. */
  gpu?: string;
  /** The GPU's total memory as the engine sees it, in bytes, overriding vramplan's table. */
  gpuMemoryBytes?: number;
  gpus?: number;
  memoryFraction?: number;
  /** Engine settings: max_num_seqs, max_num_batched_tokens, block size, eager mode, tokens to generate. */
  knobs?: EngineKnobs;
  /** Weight formats (`--dtype`, `--compare`): bf16, fp8, int4, nf4, mxfp4, Q4_K_M, … */
  dtypes?: string[];
  groupSize?: number;
}

export interface PlanWarning {
  code: string;
  message: string;
}

/** The plan object: what `plan()` returns and `--json` prints. Documented in docs/plan-json.md. */
export interface Plan {
  schema: "vramplan.plan/1";
  model: {
    id: string;
    revision: string;
    commit: string | null;
    configSource: ConfigSource;
    manifestSource: ManifestSource | null;
    modelType: string;
    architecture: string | null;
    family: string;
    dtype: ComputeDtype | null;
    parameters: number;
    /** Parameters one token passes through; equal to `parameters` unless the model routes experts. */
    activeParameters: number;
    layers: number;
    hiddenSize: number;
    intermediateSize: number;
    vocabSize: number;
    attentionHeads: number;
    kvHeads: number;
    headDim: number;
    maxContext: number | null;
    tiedEmbeddings: boolean;
    /** Layers per cache kind (a Falcon-H1 layer counts as both attention and state). */
    layerKinds: Record<CacheKind, number>;
    slidingWindow: number | null;
    attentionChunk: number | null;
    experts: { routed: number; perToken: number; shared: boolean; moeLayers: number } | null;
    mla: MlaShape | null;
    hasVisionTower: boolean;
    quantization: string | null;
    guessed: { field: string; assumed: string }[];
  };
  options: {
    context: number;
    contextSource: "requested" | "model maximum" | "prompt";
    /** When the context was sized from a prompt: its tokens and the tokens to generate. */
    prompt: PromptContext | null;
    batch: number;
    kvDtype: KvFormatName;
    kvDtypeSource: "requested" | "model dtype" | "assumed";
  };
  weights: WeightsEstimate;
  kvCache: KvCacheEstimate & { dtype: KvFormatName };
  /** Weights plus KV cache (and an encoder's sentence-transformers Dense layers); activations and runtime overhead are not included. */
  total: { bytes: number };
  /** Encoders with a modules.json: pooling, Dense layers and the embedding's width. */
  sentenceTransformers: SentenceTransformerPlan | null;
  /** Encoders only: the estimated peak activations of one forward pass over `batch` × `context` tokens (not in `total`). */
  encoderActivations: EncoderActivations | null;
  /** Present when serving was asked for: estimates per engine profile, GPU fit. */
  serving: ServingPlan | null;
  warnings: PlanWarning[];
  notes: string[];
}

/** The checkpoint as an engine loads it: no multi-token-prediction layers, no stored buffers. */
function storedWeights(spec: ModelSpec, weights: WeightsEstimate): ServedWeights {
  const mtp = weights.components.find((component) => component.name === "multi-token prediction");
  const label = spec.quantization ?? spec.dtype ?? "checkpoint";
  return {
    name: `${label} (as stored)`,
    description: weights.source === "safetensors" ? "the checkpoint's tensors as they are" : `derived from config.json in ${weights.assumedDtype}`,
    bytes: weights.bytes - (mtp?.bytes ?? 0) - weights.buffers.bytes,
    parameters: weights.parameters - (mtp?.parameters ?? 0),
  };
}

/** Packings tensor-roles.ts unpacks into logical parameters. */
const KNOWN_QUANTIZATION = new Set(["gptq", "awq", "mxfp4", "bitsandbytes", "compressed-tensors", "fp8", "mlx"]);

/** Plans one model: fetch (or read from cache), derive its shape, count its bytes. */
export async function plan(modelId: string, options: PlanOptions & { hub?: Partial<HubSettings> } = {}): Promise<Plan> {
  const ref = parseModelRef(modelId, options.revision);
  if (isGgufFirst(ref.id)) {
    throw new UnsupportedModelError(`${ref.id} is a repo of GGUF files, not a transformers checkpoint: planRepo() plans it, with llama.cpp's accounting, as the CLI's plan does`);
  }
  // Resolve the GPU before touching the network: a typo should not cost a download.
  const request = options.serving ?? (options.servingByDefault ? {} : undefined);
  const serving = request ? await resolveServing(request) : undefined;
  const settings = resolveHubSettings(options.hub);
  const loaded = await loadCheckpoint(ref, settings);
  if (!options.prompt) return planLoadedModel(loaded, options, serving);

  if (options.context !== undefined) throw new UsageError("give either a context or a prompt to size it from, not both");
  const newTokens = options.prompt.maxNewTokens ?? 0;
  if (!Number.isSafeInteger(newTokens) || newTokens < 0) throw new UsageError(`{maxNewTokens} must be a whole number, got ${newTokens}`);
  // The tokenizer of the commit the model was planned at.
  const { countTokensFor } = await import("./tokens/count-tokens.js");
  const counted = await countTokensFor(ref, options.prompt.input, settings, loaded.commit);
  const prompt: PromptContext = { input: counted.input, promptTokens: counted.tokens, newTokens, template: counted.template };
  const planned = planLoadedModel(loaded, { ...options, context: counted.tokens + newTokens }, serving);
  if (newTokens === 0) planned.notes.push(withOptionNames("no {maxNewTokens}: the context holds the prompt only, with no room for the answer"));
  planned.notes.push(...counted.notes);
  return { ...planned, options: { ...planned.options, contextSource: "prompt", prompt } };
}

/** Names to catalog entries; GPU listings need @huggingface/tasks, loaded only here. */
export async function resolveServing(request: ServingRequest): Promise<ServingOptions> {
  const { findGpu, commonGpus, customGpu } = await import("./serve/gpu-catalog.js");
  const gpu = request.gpu ? await findGpu(request.gpu) : request.gpuMemoryBytes !== undefined ? customGpu(request.gpuMemoryBytes) : null;
  if (request.engine) (await import("./serve/engine-release.js")).parseEngine(request.engine);
  return {
    ...(request.engine && { engine: request.engine }),
    ...(request.gpuMemoryBytes !== undefined && { gpuMemoryBytes: request.gpuMemoryBytes }),
    ...(request.knobs && { knobs: request.knobs }),
    gpu,
    ...(request.gpus !== undefined && { gpus: request.gpus }),
    ...(request.memoryFraction !== undefined && { memoryFraction: request.memoryFraction }),
    ...(request.dtypes && { schemes: request.dtypes }),
    ...(request.groupSize !== undefined && { groupSize: request.groupSize }),
    ...(gpu ? {} : { candidates: await commonGpus() }),
  };
}

/** Library defaults for callers that pass no settings: the environment is the caller's to pass. */
function resolveHubSettings(partial: Partial<HubSettings> = {}): HubSettings {
  return { ...hubSettingsFromEnv({}), ...partial };
}

/** The pure part of `plan`: no I/O, everything from what was loaded. */
export function planLoadedModel(loaded: LoadedModel, options: PlanOptions = {}, requestedServing?: ServingOptions): Plan {
  const checked = checkAttentionAgainstHeaders(withCheckpointDtype(deriveModelSpec(loaded.config), loaded), loaded.manifest);
  const spec = checked.spec;
  // Serving nobody asked for is dropped where there is none to plan; asked for, it is refused below.
  const serving = spec.encoderOnly && !options.serving && options.servingByDefault ? undefined : requestedServing;
  const warnings: PlanWarning[] = spec.guessed.map((guess) => ({
    code: "guessed-field",
    message: `${guess.field}: assumed ${guess.assumed}`,
  }));
  const atStake = spec.guessed.reduce((sum, guess) => sum + (guess.parametersAtStake ?? 0), 0);
  if (checked.warning) warnings.push({ code: "config-contradicts-headers", message: checked.warning });
  if (spec.encoderOnly && serving) {
    throw new UnsupportedModelError(
      `${loaded.id} is an encoder (${spec.modelType}): serving plans size a decoder's KV cache and an encoder keeps none; its memory is the weights this plan gives plus one batch's activations`,
    );
  }

  const { context, contextSource } = resolveContext(spec, options, warnings);
  const batch = options.batch ?? 1;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new UsageError(`{batch} must be a positive whole number, got ${batch}`);

  const { kvDtype, kvDtypeSource } = resolveKvDtype(spec, options.kvDtype ?? "auto", warnings);
  if (!loaded.manifest && !spec.parametersFromConfig) {
    throw new UnsupportedModelError(
      `${loaded.id}: no safetensors headers are known, and vramplan does not derive ${spec.encoderOnly ? `${spec.modelType} (encoder)` : spec.family} parameters from config.json; run once online (or put model.safetensors in the Hugging Face cache) so the headers can be read`,
    );
  }
  const weights = estimateWeights(spec, loaded.manifest, loaded.config);
  const kvCache = {
    ...estimateKvCache(spec, {
      context,
      sequences: batch,
      bytesPerElement: KV_FORMATS[kvDtype].blockBytes / KV_FORMATS[kvDtype].blockElements,
      format: KV_FORMATS[kvDtype],
      // Recurrent states stay in the model's dtype: --kv-dtype is the attention cache's.
      stateBytesPerElement: COMPUTE_DTYPE_BYTES[spec.dtype ?? "bf16"],
      ...(spec.ssmStateDtype ? { ssmStateBytesPerElement: COMPUTE_DTYPE_BYTES[spec.ssmStateDtype] } : {}),
    }),
    dtype: kvDtype,
  };

  // Byte counts are doubles: past 2^53 they stop being exact, so such a plan is refused, not rounded.
  if (!Number.isSafeInteger(weights.parameters) || !Number.isSafeInteger(weights.bytes)) {
    throw new UnsupportedModelError(
      `config.json describes weights of more than 2^53 bytes (its widths and layer counts, vision_config's included, multiply to about ${(weights.bytes / 2 ** 50).toFixed(0)} PiB): the config is corrupt; fix its size fields`,
    );
  }
  if (!Number.isSafeInteger(kvCache.bytes) || !Number.isSafeInteger(weights.bytes + kvCache.bytes)) {
    throw new UsageError(
      `${formatInt(batch)} × ${formatInt(context)} tokens need more than 2^53 bytes of KV cache (about ${(kvCache.bytes / 2 ** 50).toFixed(0)} PiB), past what vramplan counts exactly: plan a shorter context or fewer sequences`,
    );
  }
  if (weights.source === "config" && !spec.quantization) {
    warnings.push({
      code: "derived-weights",
      message: `no safetensors headers known: weight bytes are derived from config.json (${spec.family} rules, ${weights.assumedDtype} per parameter), not read from the checkpoint`,
    });
  }
  if (weights.source === "config" && atStake > 0) {
    const share = ((100 * atStake) / weights.parameters).toFixed(atStake / weights.parameters < 0.001 ? 3 : 1);
    warnings.push({
      code: "guesses-at-stake",
      message: `the generic guesses above move the config-only count by at most ${formatInt(atStake)} parameters (${share}% of ${formatInt(weights.parameters)}); the safetensors headers would settle it: plan once online`,
    });
  }
  if (spec.quantization && weights.source === "safetensors" && !KNOWN_QUANTIZATION.has(spec.quantization)) {
    warnings.push({
      code: "quantized-parameter-count",
      message: `${spec.quantization} checkpoint: weight bytes are exact, but vramplan does not know this packing, so the parameter count counts stored elements`,
    });
  }
  if (weights.source === "config" && spec.hasVisionTower && !spec.visionTower) {
    warnings.push({
      code: "vision-tower-not-counted",
      message: "the vision tower (vision_config) is not in the config-derived count: only safetensors headers give its bytes",
    });
  }
  if (weights.source === "config" && spec.multiTokenPredictionLayers > 0 && weights.fromConfig?.multiTokenPrediction === null) {
    warnings.push({
      code: "mtp-not-counted",
      message: `the checkpoint also ships ${spec.multiTokenPredictionLayers} multi-token-prediction layer(s), not in the config-derived count (vLLM loads them only for speculative decoding)`,
    });
  }
  if (spec.quantization && weights.source === "config") {
    warnings.push({
      code: "quantized-derived-bytes",
      message: `no safetensors headers known: weight bytes are derived from config.json (${spec.family} rules) and its ${spec.quantization} quantization_config (${weights.assumedDtype}, scales included, tensor by tensor), not read from the checkpoint`,
    });
  }
  if (spec.dtype === "fp32") {
    warnings.push({
      code: "fp32-checkpoint",
      message: "the checkpoint is stored in float32: vLLM and SGLang (dtype auto) serve it in 16 bits, half these weight bytes; transformers and llama.cpp keep what is stored",
    });
  }

  const rules = quantizationRules(loaded.config);
  const servingPlan = serving
    ? planServing(
        {
          spec,
          kv: kvCache,
          weights: { manifest: loaded.manifest, rules, stored: storedWeights(spec, weights), storedScheme: storedScheme(spec.dtype, rules) },
          // Engines compute in 16 bits: vLLM and SGLang serve float32 checkpoints in fp16/bf16 too.
          computeBytes: 2,
          kvFormat: kvDtype,
          kvFormatRequested: kvDtypeSource === "requested",
        },
        serving,
        { context, batch },
      )
    : null;
  if (servingPlan) {
    if (servingPlan.device?.basis === "nominal") warnings.push({ code: "gpu-memory-assumed", message: servingPlan.device.source });
    for (const scheme of servingPlan.schemes) {
      if (servingPlan.gpu && scheme.refusal) {
        warnings.push({ code: "engine-refuses", message: `${scheme.scheme}: ${servingPlan.engine.name} would not start on ${servingPlan.gpus} × ${servingPlan.gpu.name}: ${scheme.refusal}${scheme.smallestGpuCount ? ` (${scheme.smallestGpuCount} GPUs would do)` : ""}` });
      } else if (servingPlan.gpu && scheme.fits === false) {
        warnings.push({ code: "does-not-fit", message: `${scheme.scheme}: ${batch} × ${formatInt(context)} tokens does not fit on ${servingPlan.gpus} × ${servingPlan.gpu.name} (${servingPlan.gpu.memoryGiB} GB): at most ${(scheme.maxConcurrency ?? 0).toFixed(2)} such requests at once${scheme.smallestGpuCount ? `; ${scheme.smallestGpuCount} GPUs would hold ${batch}` : ""}` });
      }
    }
  }

  const caches = spec.layers.flatMap((layer) => layer.caches);
  const layerKinds = { full: 0, sliding: 0, chunked: 0, mla: 0, state: 0 } satisfies Record<CacheKind, number>;
  for (const cache of caches) layerKinds[cache.kind] += 1;
  const firstSliding = caches.find((cache) => cache.kind === "sliding");
  const firstChunked = caches.find((cache) => cache.kind === "chunked");
  // Only an encoder's: a decoder repo's modules.json (rare) describes an embedding head not modelled here.
  const sentenceTransformers = spec.encoderOnly ? (loaded.sentenceTransformers ?? null) : null;
  return {
    schema: "vramplan.plan/1",
    model: {
      id: loaded.id,
      revision: loaded.revision,
      commit: loaded.commit ?? null,
      configSource: loaded.configSource,
      manifestSource: loaded.manifestSource ?? null,
      modelType: spec.modelType,
      architecture: spec.architecture ?? null,
      family: spec.family,
      dtype: spec.dtype ?? null,
      parameters: weights.parameters,
      activeParameters: weights.activeParameters,
      layers: spec.numLayers,
      hiddenSize: spec.hiddenSize,
      intermediateSize: spec.intermediateSize,
      vocabSize: spec.vocabSize,
      attentionHeads: spec.numAttentionHeads,
      // Latent attention caches one vector per token and layer, shared by every head: as vLLM
      // describes it, one KV head of kv_lora_rank + qk_rope_head_dim (576 for DeepSeek-V3).
      kvHeads: spec.mla ? 1 : spec.numKeyValueHeads,
      headDim: spec.mla ? spec.mla.kvLoraRank + spec.mla.qkRopeHeadDim : spec.headDim,
      maxContext: spec.maxContext ?? null,
      tiedEmbeddings: spec.tiedEmbeddings,
      layerKinds,
      slidingWindow: firstSliding?.kind === "sliding" ? firstSliding.window : null,
      attentionChunk: firstChunked?.kind === "chunked" ? firstChunked.chunk : null,
      experts: spec.moe
        ? {
            routed: spec.moe.experts,
            perToken: spec.moe.expertsPerToken,
            shared: spec.moe.sharedIntermediate > 0,
            moeLayers: spec.layers.filter((layer) => layer.mlp === "moe").length,
          }
        : null,
      mla: spec.mla ?? null,
      hasVisionTower: spec.hasVisionTower,
      quantization: spec.quantization ?? null,
      guessed: spec.guessed,
    },
    options: { context, contextSource, prompt: null, batch, kvDtype, kvDtypeSource },
    weights,
    kvCache,
    total: { bytes: weights.bytes + kvCache.bytes + (sentenceTransformers?.denseBytes ?? 0) },
    sentenceTransformers,
    encoderActivations: spec.encoderOnly ? encoderForwardActivations(spec, batch, context, COMPUTE_DTYPE_BYTES[spec.dtype ?? "bf16"]) : null,
    serving: servingPlan,
    warnings,
    notes: spec.encoderOnly
      ? [
          ...loaded.notes,
          `an encoder (${spec.modelType}) reads each input in one forward pass and keeps no KV cache: memory is the weights plus that pass's activations, which grow with batch × sequence length (~activations, an estimate outside the total)`,
          ...(sentenceTransformers ? [describeSentenceTransformers(sentenceTransformers)] : []),
        ]
      : loaded.notes,
  };
}

/** One line: how the modules turn token states into the embedding, and what the Dense layers weigh. */
function describeSentenceTransformers(modules: SentenceTransformerPlan): string {
  const pooling = modules.pooling.length > 0 ? `${modules.pooling.join(" + ")} pooling` : "no pooling config";
  const dense = modules.dense.map((layer) => `${layer.path} ${formatInt(layer.inFeatures)}→${formatInt(layer.outFeatures)}${layer.bias ? " with bias" : ""}`);
  const parts = [
    `sentence-transformers (modules.json): ${pooling}${modules.dimensions !== null ? ` → ${formatInt(modules.dimensions)} dimensions` : ""}${modules.normalized ? ", normalized" : ""}`,
    ...(dense.length > 0 ? [`Dense ${dense.join(", ")}: ${formatInt(modules.denseParameters)} parameters, ${formatInt(modules.denseBytes)} B in fp32 (derived from their config.json; in the total)`] : []),
    ...(modules.notCounted.length > 0 ? [`not counted: ${modules.notCounted.join(", ")}`] : []),
  ];
  return parts.join("; ");
}

/**
 * GPT-2's config names no dtype; its checkpoint does. When config.json is silent, the dtype that
 * holds most of the checkpoint's bytes is the model's dtype.
 */
function withCheckpointDtype(spec: ModelSpec, loaded: LoadedModel): ModelSpec {
  if (spec.dtype || !loaded.manifest) return spec;
  // Floating dtypes only: gpt-oss stores most bytes as packed U8 experts, but computes in bf16.
  const bytesByDtype = new Map<string, number>();
  for (const file of loaded.manifest.files) {
    for (const tensor of file.tensors) {
      if (SAFETENSORS_COMPUTE_DTYPES[tensor.dtype]) bytesByDtype.set(tensor.dtype, (bytesByDtype.get(tensor.dtype) ?? 0) + tensor.bytes);
    }
  }
  const [dominant] = [...bytesByDtype].sort((a, b) => b[1] - a[1])[0] ?? [];
  const dtype = dominant ? SAFETENSORS_COMPUTE_DTYPES[dominant] : undefined;
  if (!dtype) return spec;
  return { ...spec, dtype, guessed: [...spec.guessed, { field: "torch_dtype", assumed: `${dtype} (absent from config.json; the checkpoint stores ${dominant})` }] };
}

function resolveContext(spec: ModelSpec, options: PlanOptions, warnings: PlanWarning[]) {
  if (options.context === undefined) {
    if (spec.maxContext === undefined) {
      throw new UsageError("config.json declares no maximum context (max_position_embeddings): pass {context} N");
    }
    return { context: spec.maxContext, contextSource: "model maximum" as const };
  }
  const context = options.context;
  if (!Number.isSafeInteger(context) || context < 1) throw new UsageError(`{context} must be a positive whole number of tokens, got ${context}`);
  if (spec.maxContext !== undefined && context > spec.maxContext) {
    const message = `context ${formatInt(context)} exceeds the model's maximum of ${formatInt(spec.maxContext)} tokens`;
    if (options.strict) throw new ContextTooLongError(`${message}: lower {context}, or drop {strict} to plan it anyway`);
    warnings.push({ code: "context-beyond-maximum", message: `${message}; the model was not trained for it` });
  }
  return { context, contextSource: "requested" as const };
}

function resolveKvDtype(spec: ModelSpec, choice: KvDtypeChoice, warnings: PlanWarning[]): { kvDtype: KvFormatName; kvDtypeSource: Plan["options"]["kvDtypeSource"] } {
  if (choice !== "auto") return { kvDtype: choice, kvDtypeSource: "requested" as const };
  if (spec.dtype) return { kvDtype: spec.dtype, kvDtypeSource: "model dtype" as const };
  warnings.push({ code: "guessed-field", message: "torch_dtype: absent from config.json; assumed bf16 for the KV cache" });
  return { kvDtype: "bf16" as const, kvDtypeSource: "assumed" as const };
}

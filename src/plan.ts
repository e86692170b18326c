import { ContextTooLongError, UsageError } from "./errors.js";
import { estimateKvCache, type KvCacheEstimate } from "./estimate/kv-cache.js";
import { estimateWeights, type WeightsEstimate } from "./estimate/weights.js";
import { loadModel, type ConfigSource, type LoadedModel, type ManifestSource } from "./hub/load-model.js";
import { hubSettingsFromEnv, type HubSettings } from "./hub/settings.js";
import { parseModelRef } from "./model-id.js";
import { deriveModelSpec } from "./model/derive.js";
import { COMPUTE_DTYPE_BYTES, SAFETENSORS_COMPUTE_DTYPES, type ComputeDtype, type KvDtypeChoice } from "./model/dtypes.js";
import type { ModelSpec } from "./model/spec.js";
import { formatInt } from "./report/units.js";

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
    layers: number;
    hiddenSize: number;
    intermediateSize: number;
    vocabSize: number;
    attentionHeads: number;
    kvHeads: number;
    headDim: number;
    maxContext: number | null;
    tiedEmbeddings: boolean;
    layerKinds: { full: number; sliding: number };
    slidingWindow: number | null;
    quantization: string | null;
    guessed: { field: string; assumed: string }[];
  };
  options: {
    context: number;
    contextSource: "requested" | "model maximum";
    batch: number;
    kvDtype: ComputeDtype;
    kvDtypeSource: "requested" | "model dtype" | "assumed";
  };
  weights: WeightsEstimate;
  kvCache: KvCacheEstimate & { dtype: ComputeDtype };
  /** Weights plus KV cache; activations and runtime overhead are not included. */
  total: { bytes: number };
  warnings: PlanWarning[];
  notes: string[];
}

/** Plans one model: fetch (or read from cache), derive its shape, count its bytes. */
export async function plan(modelId: string, options: PlanOptions & { hub?: Partial<HubSettings> } = {}): Promise<Plan> {
  const ref = parseModelRef(modelId, options.revision);
  const loaded = await loadModel(ref, resolveHubSettings(options.hub));
  return planLoadedModel(loaded, options);
}

/** Library defaults for callers that pass no settings: the environment is the caller's to pass. */
function resolveHubSettings(partial: Partial<HubSettings> = {}): HubSettings {
  return { ...hubSettingsFromEnv({}), ...partial };
}

/** The pure part of `plan`: no I/O, everything from what was loaded. */
export function planLoadedModel(loaded: LoadedModel, options: PlanOptions = {}): Plan {
  const spec = withCheckpointDtype(deriveModelSpec(loaded.config), loaded);
  const warnings: PlanWarning[] = spec.guessed.map((guess) => ({
    code: "guessed-field",
    message: `${guess.field}: assumed ${guess.assumed}`,
  }));

  const { context, contextSource } = resolveContext(spec, options, warnings);
  const batch = options.batch ?? 1;
  if (!Number.isSafeInteger(batch) || batch < 1) throw new UsageError(`--batch must be a positive whole number, got ${batch}`);

  const { kvDtype, kvDtypeSource } = resolveKvDtype(spec, options.kvDtype ?? "auto", warnings);
  const weights = estimateWeights(spec, loaded.manifest);
  const kvCache = { ...estimateKvCache(spec, { context, sequences: batch, bytesPerElement: COMPUTE_DTYPE_BYTES[kvDtype] }), dtype: kvDtype };

  if (weights.source === "config") {
    warnings.push({
      code: "derived-weights",
      message: `no safetensors headers known: weight bytes are derived from config.json (${spec.family} rules, ${weights.assumedDtype} per parameter), not read from the checkpoint`,
    });
  }
  if (spec.quantization && weights.source === "safetensors") {
    warnings.push({
      code: "quantized-parameter-count",
      message: `${spec.quantization} checkpoint: weight bytes are exact, but the parameter count counts stored elements, not unpacked weights`,
    });
  }
  if (spec.dtype === "fp32") {
    warnings.push({
      code: "fp32-checkpoint",
      message: "the checkpoint is stored in float32; serving engines usually load it in bf16/fp16, half these weight bytes",
    });
  }

  const slidingLayers = spec.attention.filter((layer) => layer.kind === "sliding");
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
      layers: spec.numLayers,
      hiddenSize: spec.hiddenSize,
      intermediateSize: spec.intermediateSize,
      vocabSize: spec.vocabSize,
      attentionHeads: spec.numAttentionHeads,
      kvHeads: spec.numKeyValueHeads,
      headDim: spec.headDim,
      maxContext: spec.maxContext ?? null,
      tiedEmbeddings: spec.tiedEmbeddings,
      layerKinds: { full: spec.attention.length - slidingLayers.length, sliding: slidingLayers.length },
      slidingWindow: slidingLayers[0]?.kind === "sliding" ? slidingLayers[0].window : null,
      quantization: spec.quantization ?? null,
      guessed: spec.guessed,
    },
    options: { context, contextSource, batch, kvDtype, kvDtypeSource },
    weights,
    kvCache,
    total: { bytes: weights.bytes + kvCache.bytes },
    warnings,
    notes: loaded.notes,
  };
}

/**
 * GPT-2's config names no dtype; its checkpoint does. When config.json is silent, the dtype that
 * holds most of the checkpoint's bytes is the model's dtype.
 */
function withCheckpointDtype(spec: ModelSpec, loaded: LoadedModel): ModelSpec {
  if (spec.dtype || !loaded.manifest) return spec;
  const bytesByDtype = new Map<string, number>();
  for (const file of loaded.manifest.files) {
    for (const tensor of file.tensors) bytesByDtype.set(tensor.dtype, (bytesByDtype.get(tensor.dtype) ?? 0) + tensor.bytes);
  }
  const [dominant] = [...bytesByDtype].sort((a, b) => b[1] - a[1])[0] ?? [];
  const dtype = dominant ? SAFETENSORS_COMPUTE_DTYPES[dominant] : undefined;
  if (!dtype) return spec;
  return { ...spec, dtype, guessed: [...spec.guessed, { field: "torch_dtype", assumed: `${dtype} (absent from config.json; the checkpoint stores ${dominant})` }] };
}

function resolveContext(spec: ModelSpec, options: PlanOptions, warnings: PlanWarning[]) {
  if (options.context === undefined) {
    if (spec.maxContext === undefined) {
      throw new UsageError("config.json declares no maximum context (max_position_embeddings): pass --context N");
    }
    return { context: spec.maxContext, contextSource: "model maximum" as const };
  }
  const context = options.context;
  if (!Number.isSafeInteger(context) || context < 1) throw new UsageError(`--context must be a positive whole number of tokens, got ${context}`);
  if (spec.maxContext !== undefined && context > spec.maxContext) {
    const message = `context ${formatInt(context)} exceeds the model's maximum of ${formatInt(spec.maxContext)} tokens`;
    if (options.strict) throw new ContextTooLongError(`${message}: lower --context, or drop --strict to plan it anyway`);
    warnings.push({ code: "context-beyond-maximum", message: `${message}; the model was not trained for it` });
  }
  return { context, contextSource: "requested" as const };
}

function resolveKvDtype(spec: ModelSpec, choice: KvDtypeChoice, warnings: PlanWarning[]) {
  if (choice !== "auto") return { kvDtype: choice, kvDtypeSource: "requested" as const };
  if (spec.dtype) return { kvDtype: spec.dtype, kvDtypeSource: "model dtype" as const };
  warnings.push({ code: "guessed-field", message: "torch_dtype: absent from config.json; assumed bf16 for the KV cache" });
  return { kvDtype: "bf16" as const, kvDtypeSource: "assumed" as const };
}

import { formatInt } from "./report/units.js";
import { UnsupportedModelError, withOptionNames } from "./errors.js";
import { estimateWeights } from "./estimate/weights.js";
import { quantizationRules } from "./estimate/tensor-roles.js";
import { loadModel, type LoadedModel } from "./hub/load-model.js";
import { hubSettingsFromEnv, type HubSettings } from "./hub/settings.js";
import { parseModelRef, type ModelRef } from "./model-id.js";
import { isGgufFirst, meansNoCheckpoint } from "./repo-kind.js";
import { deriveModelSpec } from "./model/derive.js";
import type { RawConfig } from "./model/raw-config.js";
import type { Gpu } from "./serve/gpu-catalog.js";
import { planTraining, type TrainOptions, type TrainPlan } from "./train/train-plan.js";

export interface TrainRequest extends Omit<TrainOptions, "gpu"> {
  /** A GPU as people name it; enables the fit search. */
  gpu?: string;
  revision?: string;
}

/** The training plan object: what `planTrain()` returns and `vramplan train --json` prints. */
export interface TrainReport extends TrainPlan {
  schema: "vramplan.train/1";
  model: { id: string; revision: string; commit: string | null; modelType: string; family: string; parameters: number; layers: number; hiddenSize: number; maxContext: number | null };
  options: Omit<TrainOptions, "gpu">;
  warnings: { code: string; message: string }[];
  sources: string[];
}

export async function planTrain(modelId: string, request: TrainRequest, hub: Partial<HubSettings> = {}): Promise<TrainReport> {
  const ref = parseModelRef(modelId, request.revision);
  const gpu = request.gpu ? await (await import("./serve/gpu-catalog.js")).findGpu(request.gpu) : null;
  const settings: HubSettings = { ...hubSettingsFromEnv({}), ...hub };
  let loaded: LoadedModel;
  if (isGgufFirst(ref.id)) loaded = await shapesFromGguf(ref, settings, request.method);
  else {
    try {
      loaded = await loadModel(ref, settings);
    } catch (error) {
      if (!meansNoCheckpoint(error)) throw error;
      loaded = await shapesFromGguf(ref, settings, request.method, error);
    }
  }
  return planTrainLoaded(loaded, request, gpu);
}

/**
 * A GGUF repo as the base of a fine-tune: its metadata gives the original model's shapes, and the
 * run loads that model's 16-bit weights, not these quantized files. QLoRA is refused: it quantizes
 * the 16-bit checkpoint itself with bitsandbytes, which a GGUF file is not.
 */
async function shapesFromGguf(ref: ModelRef, settings: HubSettings, method: TrainRequest["method"], checkpointError?: unknown): Promise<LoadedModel> {
  const refuseQlora = () => {
    if (method === "qlora") throw new UnsupportedModelError(`${ref.id} holds GGUF files: QLoRA quantizes a 16-bit transformers checkpoint with bitsandbytes, so plan it on the original model's repo`);
  };
  const { loadGguf, otherRepoKind } = await import("./plan-repo.js");
  let repo;
  if (checkpointError === undefined) {
    refuseQlora();
    repo = await loadGguf(ref, settings);
  } else {
    const other = await otherRepoKind(ref, settings, {}, checkpointError);
    if (other.kind === "diffusers") {
      throw new UnsupportedModelError(`${ref.id} is a diffusers pipeline (${other.pipeline.index.className}): training plans are for language models; \`vramplan plan ${ref.id}\` sizes its components`);
    }
    refuseQlora();
    repo = other.repo;
  }
  const header = repo.listing.sets[0]?.headers?.[0];
  if (!header) throw new UnsupportedModelError(`${ref.id}: no GGUF file with a readable header to take the model's shapes from`);
  const { ggufModelConfig } = await import("./gguf/gguf-config.js");
  const derived = ggufModelConfig(header);
  return {
    id: ref.id,
    revision: ref.revision,
    commit: repo.commit,
    configSource: repo.source === "vramplan-cache" ? "hf-cache" : repo.source,
    // Trained in 16 bits, whatever the files' quantization.
    config: { torch_dtype: "bfloat16", ...derived.config },
    manifest: undefined,
    manifestSource: undefined,
    notes: [...repo.notes, `${ref.id} holds GGUF files: planned with the original model's shapes from their metadata, in bf16 (a fine-tune loads the 16-bit checkpoint, not a quantized file)`],
  };
}

export function planTrainLoaded(loaded: LoadedModel, request: TrainRequest, gpu: Gpu | null): TrainReport {
  const spec = deriveModelSpec(loaded.config);
  if (!loaded.manifest && !spec.parametersFromConfig) {
    throw new UnsupportedModelError(`${loaded.id}: no safetensors headers are known and vramplan does not derive ${spec.family} parameters from config.json; run once online`);
  }
  const weights = estimateWeights(spec, loaded.manifest, loaded.config);
  const { gpu: _name, revision: _revision, ...options } = request;
  const plan = planTraining({ spec, weights, manifest: loaded.manifest, rules: quantizationRules(loaded.config), dropout: trainsWithDropout(loaded.config) }, { ...options, gpu });
  const warnings = spec.guessed.map((guess) => ({ code: "guessed-field", message: `${guess.field}: assumed ${guess.assumed}` }));
  if (spec.maxContext !== undefined && options.seq > spec.maxContext) {
    warnings.push({ code: "context-beyond-maximum", message: withOptionNames(`{seq} ${formatInt(options.seq)} exceeds the model's maximum of ${formatInt(spec.maxContext)} tokens`) });
  }
  if (spec.encoderOnly) {
    warnings.push({
      code: "encoder-activations",
      message: withOptionNames(`an encoder (${spec.modelType}): activations follow the decoder formulas, logits over the vocabulary included (masked-language-model training); an embedding or classification fine-tune has none of those, so {loss} chunked is closer there`),
    });
  }
  if ((spec.parametersFromConfig === false && !spec.encoderOnly) || spec.layers.some((layer) => layer.caches.some((cache) => cache.kind === "state"))) {
    warnings.push({ code: "rough-activations", message: "SSM layers' activations are estimated from their width only" });
  }
  if (options.zero === 0 && options.gpus > 1) {
    warnings.push({ code: "replicated-states", message: withOptionNames(`ZeRO stage 0 replicates every state on each of the ${options.gpus} GPUs: more GPUs add batch, not memory; try {zero} 3 (or {fsdp})`) });
  }
  return {
    schema: "vramplan.train/1",
    model: {
      id: loaded.id,
      revision: loaded.revision,
      commit: loaded.commit ?? null,
      modelType: spec.modelType,
      family: spec.family,
      parameters: weights.parameters,
      layers: spec.numLayers,
      hiddenSize: spec.hiddenSize,
      maxContext: spec.maxContext ?? null,
    },
    options,
    ...plan,
    warnings,
    sources: loaded.notes,
  };
}

/** Modern LLMs train without dropout; GPT-2-era configs say otherwise. */
function trainsWithDropout(config: RawConfig): boolean {
  return ["attention_dropout", "hidden_dropout", "resid_pdrop", "attn_pdrop", "hidden_dropout_prob", "dropout"].some((field) => {
    const value = config[field];
    return typeof value === "number" && value > 0;
  });
}

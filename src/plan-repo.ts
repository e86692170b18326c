import { isVramplanError, UsageError, withOptionNames } from "./errors.js";
import type { LoadedPipeline } from "./diffusers/load-pipeline.js";
import type { PipelinePlan } from "./diffusers/pipeline-plan.js";
import type { GgufKvType, GgufRepoPlan } from "./gguf/gguf-plan.js";
import { hubSettingsFromEnv, type HubSettings } from "./hub/settings.js";
import type { GgufRepo } from "./gguf/load-gguf-repo.js";
import { parseModelRef, type ModelRef } from "./model-id.js";
import { plan, type Plan, type PlanOptions } from "./plan.js";
import { isGgufFirst, meansNoCheckpoint } from "./repo-kind.js";

export interface RepoPlanOptions extends PlanOptions {
  /** A GGUF file (or its quantization) to plan alone; implies a GGUF repo. */
  ggufFile?: string | undefined;
  /** System memory for layers llama.cpp cannot offload (GGUF repos). */
  ramBytes?: number | undefined;
}

export type RepoPlan = { kind: "safetensors"; plan: Plan } | { kind: "gguf"; plan: GgufRepoPlan } | { kind: "diffusers"; plan: PipelinePlan };

/** What a repo with no config.json holds: a diffusers pipeline, or GGUF files. */
export type OtherRepo = { kind: "diffusers"; pipeline: LoadedPipeline } | { kind: "gguf"; repo: GgufRepo };

/**
 * Plans whatever the repo holds: a transformers checkpoint (config.json + safetensors), a diffusers
 * pipeline (model_index.json + a folder per component) or GGUF quantization files. A name saying
 * GGUF, or --file, goes straight to the GGUF planner; otherwise the checkpoint is tried first (one
 * round trip), and a repo with no config.json is then looked at as a pipeline, then for .gguf files.
 */
export async function planRepo(modelId: string, options: RepoPlanOptions & { hub?: Partial<HubSettings> } = {}): Promise<RepoPlan> {
  const settings: HubSettings = { ...hubSettingsFromEnv({}), ...options.hub };
  const ref = parseModelRef(modelId, options.revision);
  if (isGgufFirst(ref.id, options.ggufFile)) return { kind: "gguf", plan: await planGgufRepoOf(await loadGguf(ref, settings, options), options) };
  try {
    return { kind: "safetensors", plan: await plan(modelId, { ...options, hub: settings }) };
  } catch (error) {
    if (!meansNoCheckpoint(error)) throw error;
    const other = await otherRepoKind(ref, settings, options, error);
    if (other.kind === "diffusers") return { kind: "diffusers", plan: await planPipelineOf(other.pipeline, options) };
    return { kind: "gguf", plan: await planGgufRepoOf(other.repo, options) };
  }
}

/**
 * The one route for a repo with no config.json (`plan`, `batch`, `cache prefetch`, `train`, the
 * library): its model_index.json makes it a diffusers pipeline; else its .gguf files are read.
 */
export async function otherRepoKind(ref: ModelRef, settings: HubSettings, options: RepoPlanOptions, checkpointError: unknown): Promise<OtherRepo> {
  const { loadPipeline, NotPipelineError, PipelineNotCachedError } = await import("./diffusers/load-pipeline.js");
  try {
    return { kind: "diffusers", pipeline: await loadPipeline(ref, settings) };
  } catch (error) {
    const notAPipeline = error instanceof NotPipelineError || error instanceof PipelineNotCachedError || (isVramplanError(error) && error.code === "notFound");
    if (!notAPipeline) throw error;
  }
  return { kind: "gguf", repo: await ggufInstead(ref, settings, options, checkpointError) };
}

/** A loaded pipeline against the GPU the options name; engine, context and format options do not apply to it. */
export async function planPipelineOf(pipeline: LoadedPipeline, options: RepoPlanOptions): Promise<PipelinePlan> {
  if (options.prompt) throw new UsageError("{messages} and {promptFile} size a language model's context; a diffusers pipeline has none to size");
  const [{ planPipeline }, catalog, { deviceMemory }] = await Promise.all([import("./diffusers/pipeline-plan.js"), import("./serve/gpu-catalog.js"), import("./serve/gpu-memory.js")]);
  const serving = options.serving;
  const gpu = serving?.gpu ? await catalog.findGpu(serving.gpu) : serving?.gpuMemoryBytes !== undefined ? catalog.customGpu(serving.gpuMemoryBytes) : null;
  const planned = planPipeline(pipeline, { gpu, device: gpu ? deviceMemory(gpu, serving?.gpuMemoryBytes) : null, gpus: serving?.gpus });
  const ignored = [
    ...(options.context !== undefined ? ["{context}"] : []),
    ...(options.kvDtype !== undefined && options.kvDtype !== "auto" ? ["{kvDtype}"] : []),
    ...(serving?.dtypes && serving.dtypes.length > 0 ? ["{dtype}/{compare}"] : []),
  ];
  if (ignored.length > 0) planned.warnings.push(withOptionNames(`${ignored.join(", ")} ${ignored.length === 1 ? "does" : "do"} not apply to a diffusers pipeline: its components are planned as stored`));
  return planned;
}

/**
 * After `checkpointError`, the repo read as GGUF files; when it is not a GGUF repo either (or not
 * cached as one), the checkpoint's error is the one that says more.
 */
export async function ggufInstead(ref: ModelRef, settings: HubSettings, options: RepoPlanOptions, checkpointError: unknown): Promise<GgufRepo> {
  try {
    return await loadGguf(ref, settings, options);
  } catch (ggufError) {
    if (isVramplanError(ggufError) && ["unsupported", "offlineNotCached", "notFound"].includes(ggufError.code)) throw checkpointError;
    throw ggufError;
  }
}

export async function loadGguf(ref: ModelRef, settings: HubSettings, options: Pick<RepoPlanOptions, "ggufFile"> = {}): Promise<GgufRepo> {
  const { loadGgufRepo } = await import("./gguf/load-gguf-repo.js");
  return loadGgufRepo(ref, settings, { file: options.ggufFile });
}

/** A loaded GGUF repo planned with the options a safetensors plan takes (GPU, engine, cache type). */
export async function planGgufRepoOf(repo: GgufRepo, options: RepoPlanOptions): Promise<GgufRepoPlan> {
  if (options.prompt) throw new UsageError("{messages} and {promptFile} need the repo's tokenizer files; for a GGUF repo, count with the original model's repo and pass {context}");
  const [{ planGgufRepo }, { GGMLFileQuantizationType }, catalog] = await Promise.all([import("./gguf/gguf-plan.js"), import("@huggingface/tasks"), import("./serve/gpu-catalog.js")]);
  const gpu = options.serving?.gpu ? await catalog.findGpu(options.serving.gpu) : options.serving?.gpuMemoryBytes !== undefined ? catalog.customGpu(options.serving.gpuMemoryBytes) : null;
  return planGgufRepo(repo, {
    context: options.context,
    batch: options.batch,
    kvType: ggufKvType(options.kvDtype),
    gpu,
    gpus: options.serving?.gpus,
    ramBytes: options.ramBytes,
    gpuMemoryBytes: options.serving?.gpuMemoryBytes,
    engine: options.serving?.engine,
    ubatch: options.serving?.knobs?.maxNumBatchedTokens,
    flashAttention: options.serving?.knobs?.flashAttention,
  }, (id) => GGMLFileQuantizationType[id]);
}

function ggufKvType(choice: PlanOptions["kvDtype"]): GgufKvType {
  switch (choice) {
    case undefined:
    case "auto":
    case "fp16":
      return "f16";
    case "q8_0":
    case "q4_0":
      return choice;
    default:
      throw new UsageError(`{kvDtype} ${choice}: llama.cpp's cache types here are fp16 (its f16 default), q8_0 and q4_0`);
  }
}

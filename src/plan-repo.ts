import { isVramplanError, UsageError } from "./errors.js";
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

export type RepoPlan = { kind: "safetensors"; plan: Plan } | { kind: "gguf"; plan: GgufRepoPlan };

/**
 * Plans whatever the repo holds: a transformers checkpoint (config.json + safetensors) or GGUF
 * quantization files. A name saying GGUF, or --file, goes straight to the GGUF planner; otherwise
 * the checkpoint is tried first (one round trip), and a repo with no config.json is then looked
 * at for .gguf files.
 */
export async function planRepo(modelId: string, options: RepoPlanOptions & { hub?: Partial<HubSettings> } = {}): Promise<RepoPlan> {
  const settings: HubSettings = { ...hubSettingsFromEnv({}), ...options.hub };
  const ref = parseModelRef(modelId, options.revision);
  if (isGgufFirst(ref.id, options.ggufFile)) return { kind: "gguf", plan: await planGgufRepoOf(await loadGguf(ref, settings, options), options) };
  try {
    return { kind: "safetensors", plan: await plan(modelId, { ...options, hub: settings }) };
  } catch (error) {
    if (!meansNoCheckpoint(error)) throw error;
    return { kind: "gguf", plan: await planGgufRepoOf(await ggufInstead(ref, settings, options, error), options) };
  }
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

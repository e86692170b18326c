import { HubHttpError, isVramplanError, UsageError } from "./errors.js";
import type { GgufKvType, GgufRepoPlan } from "./gguf/gguf-plan.js";
import { hubSettingsFromEnv, type HubSettings } from "./hub/settings.js";
import { parseModelRef } from "./model-id.js";
import { plan, type Plan, type PlanOptions } from "./plan.js";

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
  const ggufFirst = options.ggufFile !== undefined || /gguf/i.test(modelId);
  if (ggufFirst) return { kind: "gguf", plan: await planGguf(modelId, options, settings) };
  try {
    return { kind: "safetensors", plan: await plan(modelId, { ...options, hub: settings }) };
  } catch (error) {
    const noCheckpoint =
      (error instanceof HubHttpError && error.code === "notFound" && error.url.endsWith("/config.json")) || (isVramplanError(error) && error.code === "offlineNotCached");
    if (!noCheckpoint) throw error;
    try {
      return { kind: "gguf", plan: await planGguf(modelId, options, settings) };
    } catch (ggufError) {
      // Not a GGUF repo either (or not cached as one): the checkpoint's error says more.
      if (isVramplanError(ggufError) && ["unsupported", "offlineNotCached", "notFound"].includes(ggufError.code)) throw error;
      throw ggufError;
    }
  }
}

async function planGguf(modelId: string, options: RepoPlanOptions, settings: HubSettings): Promise<GgufRepoPlan> {
  if (options.prompt) throw new UsageError("{messages} and {promptFile} need the repo's tokenizer files; for a GGUF repo, count with the original model's repo and pass {context}");
  const ref = parseModelRef(modelId, options.revision);
  const [{ loadGgufRepo }, { planGgufRepo }, { GGMLFileQuantizationType }] = await Promise.all([
    import("./gguf/load-gguf-repo.js"),
    import("./gguf/gguf-plan.js"),
    import("@huggingface/tasks"),
  ]);
  const catalog = await import("./serve/gpu-catalog.js");
  const gpu = options.serving?.gpu ? await catalog.findGpu(options.serving.gpu) : options.serving?.gpuMemoryBytes !== undefined ? catalog.customGpu(options.serving.gpuMemoryBytes) : null;
  const repo = await loadGgufRepo(ref, settings, { file: options.ggufFile });
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

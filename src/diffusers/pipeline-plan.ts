import { UsageError } from "../errors.js";
import type { ManifestFile } from "../model/manifest.js";
import type { DeviceMemory } from "../serve/gpu-memory.js";
import type { ComponentRole } from "./pipeline-index.js";
import type { LoadedPipeline } from "./load-pipeline.js";

/**
 * A diffusers pipeline's memory: each component's exact bytes from its own safetensors headers,
 * the pipeline's total, and the three ways people run it on one GPU (all resident; diffusers'
 * enable_model_cpu_offload, which keeps one component on the GPU at a time; the text encoders
 * dropped after encoding the prompt). Weights only: a denoising step's activations and the VAE
 * decode grow with resolution and batch, and are not estimated here.
 */
export interface PipelineComponentPlan {
  name: string;
  library: string;
  className: string;
  role: ComponentRole;
  files: number;
  tensors: number;
  parameters: number;
  bytes: number;
  byDtype: { dtype: string; elements: number; bytes: number }[];
  /** Moved off the GPU in the usual memory recipes: text and image encoders run once per prompt. */
  commonlyOffloaded: boolean;
}

export interface PipelineFit {
  bytes: number;
  fits: boolean;
}

export interface PipelinePlan {
  schema: "vramplan.diffusers-plan/1";
  model: {
    id: string;
    revision: string;
    commit: string | null;
    source: LoadedPipeline["source"];
    pipeline: string;
    diffusersVersion: string | null;
  };
  components: PipelineComponentPlan[];
  /** Components model_index.json names that have no safetensors weights in their folder. */
  withoutSafetensors: string[];
  total: { parameters: number; bytes: number };
  gpu: {
    name: string;
    memoryGiB: number;
    gpus: number;
    device: DeviceMemory;
    /** Every component resident at once (`pipe.to("cuda")`). */
    allOnGpu: PipelineFit;
    /** `pipe.enable_model_cpu_offload()`: the largest component is what must fit at a time. */
    modelCpuOffload: PipelineFit & { component: string };
    /** The prompt encoded first, then the text encoders freed: the denoiser and VAE stay. */
    withoutTextEncoders: PipelineFit;
  } | null;
  notes: string[];
  warnings: string[];
}

export interface PipelinePlanOptions {
  gpu: { name: string; memoryGiB: number } | null;
  device: DeviceMemory | null;
  gpus?: number | undefined;
}

function componentOf(loaded: LoadedPipeline, name: string, files: readonly ManifestFile[]): Omit<PipelineComponentPlan, "library" | "className" | "role" | "commonlyOffloaded"> {
  const byDtype = new Map<string, { dtype: string; elements: number; bytes: number }>();
  let tensors = 0;
  for (const file of files) {
    for (const tensor of file.tensors) {
      tensors += 1;
      const elements = tensor.shape.reduce((product, size) => product * size, 1);
      const share = byDtype.get(tensor.dtype) ?? { dtype: tensor.dtype, elements: 0, bytes: 0 };
      share.elements += elements;
      share.bytes += tensor.bytes;
      byDtype.set(tensor.dtype, share);
    }
  }
  const shares = [...byDtype.values()].sort((a, b) => b.bytes - a.bytes);
  const bytes = shares.reduce((sum, share) => sum + share.bytes, 0);
  if (!Number.isSafeInteger(bytes)) throw new UsageError(`${loaded.id}/${name}: its tensors add up past 2^53 bytes, which vramplan does not count`);
  return { name, files: files.length, tensors, parameters: shares.reduce((sum, share) => sum + share.elements, 0), bytes, byDtype: shares };
}

export function planPipeline(loaded: LoadedPipeline, options: PipelinePlanOptions): PipelinePlan {
  const components: PipelineComponentPlan[] = [];
  const withoutSafetensors: string[] = [];
  for (const component of loaded.index.components) {
    const files = loaded.files.filter((file) => file.path.startsWith(`${component.name}/`));
    if (files.length === 0) {
      withoutSafetensors.push(component.name);
      continue;
    }
    components.push({
      ...componentOf(loaded, component.name, files),
      library: component.library,
      className: component.className,
      role: component.role,
      commonlyOffloaded: component.role === "text encoder" || component.role === "image encoder",
    });
  }
  const total = { parameters: components.reduce((sum, c) => sum + c.parameters, 0), bytes: components.reduce((sum, c) => sum + c.bytes, 0) };
  const warnings = withoutSafetensors.length > 0 ? [`${withoutSafetensors.join(", ")}: no safetensors weights in ${withoutSafetensors.length === 1 ? "its folder" : "their folders"}, left out of the total`] : [];
  const notes = [...loaded.notes, "weights only: the activations of a denoising step and of the VAE decode grow with resolution and batch, and are not included"];

  let gpu: PipelinePlan["gpu"] = null;
  if (options.gpu && options.device) {
    const gpus = options.gpus ?? 1;
    if (gpus > 1) notes.push("diffusers runs a pipeline on one GPU unless its components are placed by hand (device_map); the fits below are for one of them");
    const capacity = options.device.bytes;
    const largest = components.reduce<PipelineComponentPlan | undefined>((best, c) => (best === undefined || c.bytes > best.bytes ? c : best), undefined);
    const encoders = components.filter((c) => c.commonlyOffloaded).reduce((sum, c) => sum + c.bytes, 0);
    const fit = (bytes: number): PipelineFit => ({ bytes, fits: bytes <= capacity });
    gpu = {
      name: options.gpu.name,
      memoryGiB: options.gpu.memoryGiB,
      gpus,
      device: options.device,
      allOnGpu: fit(total.bytes),
      modelCpuOffload: { ...fit(largest?.bytes ?? 0), component: largest?.name ?? "" },
      withoutTextEncoders: fit(total.bytes - encoders),
    };
  }
  return {
    schema: "vramplan.diffusers-plan/1",
    model: { id: loaded.id, revision: loaded.revision, commit: loaded.commit ?? null, source: loaded.source, pipeline: loaded.index.className, diffusersVersion: loaded.index.diffusersVersion },
    components,
    withoutSafetensors,
    total,
    gpu,
    notes,
    warnings,
  };
}

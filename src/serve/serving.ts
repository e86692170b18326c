import { UsageError } from "../errors.js";
import type { KvCacheEstimate } from "../estimate/kv-cache.js";
import type { QuantizationRules } from "../estimate/tensor-roles.js";
import type { TensorManifest } from "../model/manifest.js";
import type { ModelSpec } from "../model/spec.js";
import { ENGINES, type EngineName } from "./engines.js";
import type { Gpu } from "./gpu-catalog.js";
import { requantize } from "../estimate/requantize.js";
import { serveScheme, tensorParallelShare, validTensorParallel, type SchemeServing, type ServedWeights, type ServingInput } from "./serving-plan.js";
import { inventoryFromManifest, inventoryFromSpec } from "../estimate/weight-inventory.js";
import { describeScheme, parseWeightScheme } from "../estimate/weight-schemes.js";

export interface ServingOptions {
  engine?: EngineName;
  /** The GPU, resolved from the catalog (gpu-catalog.ts findGpu). */
  gpu?: Gpu | null;
  /** Tensor-parallel size (llama.cpp: layer split). */
  gpus?: number;
  /** vLLM gpu_memory_utilization / SGLang mem_fraction_static; the profile's default otherwise. */
  memoryFraction?: number;
  /** Weight formats to compare; the checkpoint's own dtype when empty. */
  schemes?: string[];
  groupSize?: number;
  /** GPUs to list as fitting or not when no GPU is given. */
  candidates?: Gpu[];
}

export interface GpuFit {
  gpu: Gpu;
  scheme: string;
  fits: boolean;
  maxConcurrency: number | null;
  smallestGpuCount: number | null;
}

/** The setup (engine, GPU, request) and what each weight format makes of it. */
export interface ServingPlan extends Omit<ServingInput, "spec" | "kv"> {
  schemes: SchemeServing[];
  /** Without a GPU: which common GPUs fit the first scheme. */
  candidates: GpuFit[] | null;
  /** Facts the numbers rest on, for --explain (tensor-parallel replication, engine limits). */
  notes: string[];
}

export function planServing(
  spec: ModelSpec,
  kv: KvCacheEstimate,
  /** The checkpoint: its manifest (what-ifs are recomputed per tensor) and its bytes as stored. */
  weights: { manifest: TensorManifest | undefined; rules: QuantizationRules; stored: ServedWeights },
  options: ServingOptions,
  request: { context: number; batch: number },
): ServingPlan {
  const engine = ENGINES[options.engine ?? "vllm"];
  const gpus = options.gpus ?? 1;
  if (!Number.isSafeInteger(gpus) || gpus < 1) throw new UsageError(`--gpus must be a positive whole number, got ${gpus}`);
  const memoryFraction = options.memoryFraction ?? engine.memoryFraction;
  if (!(memoryFraction > 0 && memoryFraction <= 1)) throw new UsageError(`--gpu-memory-utilization must be in (0, 1], got ${memoryFraction}`);
  const notes: string[] = [];
  if (!validTensorParallel(spec, gpus, engine)) {
    notes.push(`${spec.numAttentionHeads} attention heads do not divide over ${gpus} GPUs: ${engine.name} refuses this tensor-parallel size`);
  }
  for (const group of kv.groups) {
    const share = tensorParallelShare(group, gpus, engine);
    if (gpus > 1 && group.kvHeads !== null && group.kind !== "mla" && engine.name !== "llama.cpp" && gpus > group.kvHeads) {
      notes.push(
        `${group.kvHeads} KV heads on ${gpus} GPUs: each GPU keeps 1 KV head (each head replicated ${gpus / group.kvHeads}×), so the ${group.kind} KV per GPU is 1/${group.kvHeads} of the total, not 1/${gpus} (vLLM get_num_kv_heads = max(1, n_kv // tp))`,
      );
    } else if (gpus > 1 && group.kind === "mla") {
      notes.push(`the MLA latent is shared by all heads, so every one of the ${gpus} GPUs holds all of it (KV per GPU does not shrink with tensor parallelism)`);
    } else if (gpus > 1 && share < 1 && group.kind !== "state") {
      notes.push(`${group.kind} KV split over ${gpus} GPUs: each holds ${Math.round(share * (group.kvHeads ?? 1))} of ${group.kvHeads} KV heads`);
    }
  }

  const inventory = weights.manifest ? inventoryFromManifest(spec, weights.manifest, weights.rules) : inventoryFromSpec(spec);
  const context = { numLayers: spec.numLayers, moe: spec.moe !== undefined };
  const whatIf = (name: string): ServedWeights => {
    const scheme = parseWeightScheme(name, options.groupSize);
    const requantized = requantize(inventory, scheme, context);
    return { name: scheme.name, description: describeScheme(scheme), bytes: requantized.bytes, parameters: requantized.parameters };
  };
  const served = options.schemes && options.schemes.length > 0 ? options.schemes.map(whatIf) : [weights.stored];
  const input = { spec, kv, engine, gpu: options.gpu ?? null, gpus, memoryFraction, context: request.context, batch: request.batch };
  const schemes = served.map((scheme) => serveScheme(input, scheme));

  let candidates: GpuFit[] | null = null;
  if (!options.gpu && options.candidates) {
    const first = served[0] as ServedWeights;
    candidates = options.candidates.map((gpu) => {
      const served = serveScheme({ ...input, gpu }, first);
      return { gpu, scheme: served.scheme, fits: served.fits ?? false, maxConcurrency: served.maxConcurrency, smallestGpuCount: served.smallestGpuCount };
    });
  }
  return { engine, gpu: options.gpu ?? null, gpus, memoryFraction, context: request.context, batch: request.batch, schemes, candidates, notes };
}

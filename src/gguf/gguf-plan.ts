import { UsageError } from "../errors.js";
import { estimateKvCache } from "../estimate/kv-cache.js";
import { KV_FORMATS, type KvFormatName } from "../model/dtypes.js";
import { deriveModelSpec } from "../model/derive.js";
import type { ModelSpec } from "../model/spec.js";
import { describeEngine, parseEngine, type LlamaCppRelease } from "../serve/engine-release.js";
import type { Gpu } from "../serve/gpu-catalog.js";
import { deviceMemory, type DeviceMemory } from "../serve/gpu-memory.js";
import { LLAMA_CPP_CONTEXT_BYTES } from "../serve/llamacpp-account.js";
import { LLAMA_CPP_UBATCH, llamaCppComputeBuffer, llamaCppKvLayout, type ComputeBuffer, type LlamaCppKvLayout } from "../serve/llamacpp.js";
import { ggufModelConfig } from "./gguf-config.js";
import type { GgufFileHeader } from "./gguf-header.js";
import { ggufWeights, type GgufWeights } from "./gguf-weights.js";
import type { GgufRepo, GgufSource } from "./load-gguf-repo.js";

/** llama.cpp's --cache-type-k/-v choices vramplan plans: f16 (its default), q8_0, q4_0. */
export const GGUF_KV_TYPES = ["f16", "q8_0", "q4_0"] as const;
export type GgufKvType = (typeof GGUF_KV_TYPES)[number];
const KV_FORMAT_OF: Record<GgufKvType, KvFormatName> = { f16: "fp16", q8_0: "q8_0", q4_0: "q4_0" };

export interface GgufPlanOptions {
  context?: number | undefined;
  batch?: number | undefined;
  kvType?: GgufKvType | undefined;
  gpu?: Gpu | null | undefined;
  gpus?: number | undefined;
  /** System memory for what does not fit on the GPU (`--ram`). */
  ramBytes?: number | undefined;
  /** --gpu-memory: the device total, overriding vramplan's table. */
  gpuMemoryBytes?: number | undefined;
  /** "llama.cpp" or "llama.cpp@b5935": which defaults (flash attention, per-slot KV) apply. */
  engine?: string | undefined;
  /** -ub, -fa. */
  ubatch?: number | undefined;
  flashAttention?: boolean | undefined;
}

/** One quantization file (or shard set) of the repo, as llama.cpp would load it. */
export interface GgufFilePlan {
  name: string;
  files: string[];
  quant: string | null;
  /** general.file_type as llama.cpp names it (MOSTLY_Q4_K_M → Q4_K_M), when the header says. */
  fileType: string | null;
  weights: Omit<GgufWeights, "layerBytes"> & { bitsPerWeight: number };
  /** The model's KV need at the context (exact), and what llama.cpp allocates (256-cell padding, SWA cells). */
  kvBytes: number;
  kvAllocatedBytes: number;
  /** The compute buffer llama.cpp reserves for one ubatch (estimate, checked to the MiB on four logs), and the CUDA context. */
  computeBytes: number;
  /** Weights in the GPU buffers at full offload, and the input embedding llama.cpp keeps in system memory. */
  gpuModelBufferBytes: number;
  cpuModelBufferBytes: number;
  runtimeBytes: number;
  /** Everything on the GPU(s) with every layer offloaded (the input embedding stays in RAM, as llama.cpp keeps it). */
  fullOffloadBytes: number;
  fits: boolean | null;
  /** llama.cpp --n-gpu-layers: the repeating layers that fit; layers + 1 means all, output included. */
  gpuLayers: number | null;
  /** Bytes on the GPU(s) at that offload, and left in system memory. */
  gpuBytes: number | null;
  ramBytes: number | null;
  fitsRam: boolean | null;
}

export interface GgufRepoPlan {
  schema: "vramplan.gguf-plan/1";
  model: {
    id: string;
    revision: string;
    commit: string | null;
    source: GgufSource;
    architecture: string;
    modelType: string;
    layers: number;
    attentionHeads: number;
    kvHeads: number;
    headDim: number;
    maxContext: number | null;
    slidingWindow: number | null;
    parameters: number;
  };
  options: {
    context: number;
    batch: number;
    kvType: GgufKvType;
    gpu: { name: string; memoryGiB: number; bytes: number } | null;
    gpus: number;
    ramBytes: number | null;
    engine: string;
    ubatch: number;
    flashAttention: boolean;
  };
  /** llama.cpp's KV cells: per stream, for SWA layers, and the streams (one per slot unless unified). */
  kvLayout: Omit<LlamaCppKvLayout, "bytes">;
  compute: ComputeBuffer;
  device: DeviceMemory | null;
  files: GgufFilePlan[];
  /** The set with the most weight bytes (the least lossy) that fits entirely on the GPU(s). */
  largestFitting: string | null;
  projectors: string[];
  warnings: string[];
  notes: string[];
}

/**
 * `fileTypeName` names general.file_type ids (llama.cpp's llama_ftype): the caller passes
 * @huggingface/tasks' GGMLFileQuantizationType, loaded lazily.
 */
export function planGgufRepo(repo: GgufRepo, options: GgufPlanOptions = {}, fileTypeName: (id: number) => string | undefined = () => undefined): GgufRepoPlan {
  const first = repo.listing.sets[0]?.headers?.[0] as GgufFileHeader;
  const derived = ggufModelConfig(first);
  const spec: ModelSpec = deriveModelSpec(derived.config);
  const context = options.context ?? spec.maxContext;
  if (context === undefined) throw new UsageError(`${repo.id}: the GGUF metadata has no context_length: pass {context} N`);
  const batch = options.batch ?? 1;
  const kvType = options.kvType ?? "f16";
  const gpus = options.gpus ?? 1;
  const warnings = [...derived.assumed, ...spec.guessed.map((guess) => `${guess.field}: assumed ${guess.assumed}`)];
  if (spec.maxContext !== undefined && context > spec.maxContext) warnings.push(`context ${context} exceeds the model's maximum of ${spec.maxContext} tokens`);

  const format = KV_FORMATS[KV_FORMAT_OF[kvType]];
  // llama.cpp keeps recurrent states in f32.
  const kv = estimateKvCache(spec, { context, sequences: batch, bytesPerElement: format.blockBytes / format.blockElements, format, stateBytesPerElement: 4 });
  const engine = parseEngine(options.engine ?? "llama.cpp");
  if (engine.name !== "llama.cpp") throw new UsageError(`${repo.id} is a GGUF repo: llama.cpp (or Ollama) serves it, not ${engine.name}`);
  const release = engine.release as LlamaCppRelease;
  const ubatch = options.ubatch ?? LLAMA_CPP_UBATCH;
  const flashAttention = options.flashAttention ?? release.flashAttention;
  const layout = llamaCppKvLayout(kv, context, batch, { unified: release.unifiedKv, ubatch });
  const kvAllocatedBytes = layout.bytes;
  const compute = llamaCppComputeBuffer(spec, { kvCells: layout.cells, ubatch, flashAttention });
  const computeBytes = compute.bytes;
  const runtimeBytes = LLAMA_CPP_CONTEXT_BYTES;
  const device = options.gpu ? deviceMemory(options.gpu, options.gpuMemoryBytes) : null;
  const available = device ? device.bytes * gpus : null;

  const files = repo.listing.sets.map((set): GgufFilePlan => {
    const headers = set.headers ?? [];
    const weights = ggufWeights(headers, `${repo.id}/${set.files[0]}`);
    const layers = weights.layerBytes.length;
    // With every layer offloaded the output goes too; the input embedding stays in system memory.
    const gpuWeightsFull = weights.bytes - weights.tokenEmbeddingBytes + (weights.tiedEmbeddings ? weights.outputBytes : 0);
    const fullOffloadBytes = gpuWeightsFull + kvAllocatedBytes + computeBytes + runtimeBytes;
    const everythingBytes = weights.bytes + (weights.tiedEmbeddings ? weights.outputBytes : 0);
    let fits: boolean | null = null;
    let gpuLayers: number | null = null;
    let gpuBytes: number | null = null;
    if (available !== null) {
      fits = fullOffloadBytes <= available;
      if (fits) {
        gpuLayers = layers + 1;
        gpuBytes = fullOffloadBytes;
      } else {
        // -ngl N offloads the last N repeating layers, with their share of the KV cache.
        const onGpu = (count: number) => {
          let bytes = computeBytes + runtimeBytes + (layers > 0 ? Math.ceil((kvAllocatedBytes * count) / layers) : 0);
          for (let index = layers - count; index < layers; index++) bytes += weights.layerBytes[index] ?? 0;
          return bytes;
        };
        let count = 0;
        while (count < layers && onGpu(count + 1) <= available) count += 1;
        gpuLayers = count;
        gpuBytes = onGpu(count);
      }
    }
    const ramBytes = gpuBytes === null ? null : everythingBytes + kvAllocatedBytes + computeBytes + runtimeBytes - gpuBytes;
    const fileTypeId = headers[0]?.metadata["general.file_type"];
    const { layerBytes: _layerBytes, ...summary } = weights;
    return {
      name: set.name,
      files: set.files,
      quant: set.quant,
      fileType: typeof fileTypeId === "number" ? (fileTypeName(fileTypeId) ?? null) : null,
      weights: { ...summary, bitsPerWeight: weights.parameters > 0 ? (8 * weights.bytes) / weights.parameters : 0 },
      kvBytes: kv.bytes,
      kvAllocatedBytes,
      computeBytes,
      gpuModelBufferBytes: gpuWeightsFull,
      cpuModelBufferBytes: weights.bytes - gpuWeightsFull,
      runtimeBytes,
      fullOffloadBytes,
      fits,
      gpuLayers,
      gpuBytes,
      ramBytes,
      fitsRam: ramBytes === null || options.ramBytes === undefined ? null : ramBytes <= options.ramBytes,
    };
  });
  files.sort((a, b) => b.weights.bytes - a.weights.bytes);
  const largestFitting = files.find((file) => file.fits)?.name ?? null;
  const sliding = spec.layers.flatMap((layer) => layer.caches).find((cache) => cache.kind === "sliding");
  return {
    schema: "vramplan.gguf-plan/1",
    model: {
      id: repo.id,
      revision: repo.revision,
      commit: repo.commit ?? null,
      source: repo.source,
      architecture: derived.architecture,
      modelType: spec.modelType,
      layers: spec.numLayers,
      attentionHeads: spec.numAttentionHeads,
      kvHeads: spec.numKeyValueHeads,
      headDim: spec.headDim,
      maxContext: spec.maxContext ?? null,
      slidingWindow: sliding?.kind === "sliding" ? sliding.window : null,
      parameters: files[0]?.weights.parameters ?? 0,
    },
    options: {
      context,
      batch,
      kvType,
      gpu: options.gpu ? { name: options.gpu.name, memoryGiB: options.gpu.memoryGiB, bytes: device?.bytes ?? options.gpu.bytes } : null,
      gpus,
      ramBytes: options.ramBytes ?? null,
      engine: describeEngine(engine),
      ubatch,
      flashAttention,
    },
    kvLayout: { cells: layout.cells, swaCells: layout.swaCells, streams: layout.streams },
    compute,
    device,
    files,
    largestFitting,
    projectors: repo.listing.projectors,
    warnings,
    notes: repo.notes,
  };
}

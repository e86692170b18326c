import { UsageError } from "../errors.js";
import type { WeightsEstimate } from "../estimate/weights.js";
import type { TensorManifest } from "../model/manifest.js";
import { COMPUTE_DTYPE_BYTES } from "../model/dtypes.js";
import { linearModules } from "../model/modules.js";
import type { ModelSpec } from "../model/spec.js";
import type { QuantizationRules } from "../estimate/tensor-roles.js";
import type { Gpu } from "../serve/gpu-catalog.js";
import { deviceMemory } from "../serve/gpu-memory.js";
import { requantize } from "../estimate/requantize.js";
import { inventoryFromManifest, inventoryFromSpec } from "../estimate/weight-inventory.js";
import { estimateActivations, type ActivationEstimate, type Checkpointing } from "./activations.js";
import { loraAdapters, type LoraAdapters } from "./lora.js";
import { OFFLOADS, deepspeedPlacement, trainableStates, zeroShards, type Offload, type Optimizer, type ParameterShapes, type Precision, type StateLine, type ZeroStage } from "./model-states.js";

export const TRAIN_METHODS = ["full", "lora", "qlora"] as const;
export type TrainMethod = (typeof TRAIN_METHODS)[number];

export interface TrainOptions {
  method: TrainMethod;
  precision: Precision;
  optimizer: Optimizer;
  seq: number;
  microBatch: number;
  gradAccum: number;
  gpus: number;
  zero: ZeroStage;
  /** Sharded by PyTorch FSDP (full shard) rather than DeepSpeed; `zero` is then 3. */
  fsdp?: boolean;
  /** States moved to CPU memory: DeepSpeed offload_optimizer ("optimizer"), plus offload_param ("all"). */
  offload?: Offload;
  flashAttention: boolean;
  checkpointing: Checkpointing;
  loss: "naive" | "chunked";
  loraRank: number;
  loraTargets: string[];
  gpu: Gpu | null;
}

export interface TrainPlan {
  /** The model's parameters, those trained (adapters for LoRA), and those frozen. */
  parameters: { total: number; trainable: number; frozen: number };
  lora: LoraAdapters | null;
  /** Every state on one GPU: trainable weights, gradients, optimizer, and frozen base weights. */
  modelStates: { lines: StateLine[]; bytes: number };
  activations: ActivationEstimate;
  /** CUDA context and allocator, an estimate. */
  runtimeBytes: number;
  totalPerGpu: number;
  batch: { microBatch: number; gradAccum: number; dataParallel: number; effective: number; tokensPerStep: number };
  fit: TrainFit | null;
  notes: string[];
}

export interface TrainFit {
  gpu: Gpu;
  /** The GPU's memory as CUDA reports it, which the fit is checked against. */
  capacityBytes: number;
  fits: boolean;
  /** The largest micro-batch at the chosen sequence length; 0 if even one does not fit. */
  largestMicroBatch: number;
  /** The longest sequence at the chosen micro-batch, up to the model's maximum. */
  longestSeq: number;
  /** The fewest GPUs of this kind for this method at the chosen ZeRO stage (null past 64). */
  smallestGpuCount: number | null;
  /** The ZeRO stage that count assumes: the chosen one, or 3 when the choice (0) shards nothing. */
  smallestGpuCountZero: ZeroStage;
  /** With nothing sharded chosen: the fewest GPUs under FSDP full shard instead of DeepSpeed ZeRO 3 (16 B, not 18 B, a parameter). */
  smallestGpuCountFsdp: number | null;
}

const RUNTIME_BYTES = 2 ** 30 / 2;

export interface TrainInput {
  spec: ModelSpec;
  weights: WeightsEstimate;
  manifest: TensorManifest | undefined;
  rules: QuantizationRules;
  /** Whether the model trains with dropout (config's attention/hidden/residual dropout > 0). */
  dropout: boolean;
}

export function planTraining(input: TrainInput, options: TrainOptions): TrainPlan {
  validate(options);
  const { spec } = input;
  const notes: string[] = [];
  const dataParallel = options.gpus;
  const shards = zeroShards(options.zero, options.gpus);
  const total = input.weights.parameters - (input.weights.components.find((component) => component.name === "multi-token prediction")?.parameters ?? 0);

  let lines: StateLine[];
  let trainable: number;
  let lora: LoraAdapters | null = null;
  if (options.method === "full") {
    trainable = total;
    lines = trainableStates(parameterShapes(spec, trainable), options.precision, options.optimizer, shards);
  } else {
    lora = loraAdapters(spec, options.loraRank, options.loraTargets);
    if (lora.skipped.length > 0) notes.push(`not adapted (PEFT cannot wrap them as Linear): ${lora.skipped.join(", ")}`);
    trainable = lora.parameters;
    // PEFT keeps adapters in fp32 (autocast_adapter_dtype), so their weights and gradients are fp32.
    lines = trainableStates({ parameters: trainable, matrixParameters: trainable, factoredRowsPlusColumns: adapterRowsPlusColumns(lora), smallTensorParameters: 0 }, "fp32", options.optimizer, shards).map((line) => ({
      ...line,
      label: `LoRA ${line.label}`,
    }));
    lines.push(...frozenBase(input, options, total, shards.weights));
  }
  const mixed = options.precision === "mixed-bf16" || options.precision === "mixed-fp16";
  lines = deepspeedPlacement(lines, {
    stage: options.zero,
    gpus: options.gpus,
    mixed: mixed && options.method === "full",
    fsdp: options.fsdp ?? false,
    offload: options.offload ?? "none",
    largestModuleParameters: largestModuleParameters(spec),
  });

  const activations = estimateActivations(spec, {
    seq: options.seq,
    microBatch: options.microBatch,
    flashAttention: options.flashAttention,
    checkpointing: options.checkpointing,
    dropout: input.dropout,
    loss: options.loss,
    bytesPerValue: options.precision === "fp32" ? 4 : 2,
    // PEFT's k-bit preparation leaves embeddings and norms in fp32: the residual stream is fp32.
    residualBytes: options.method === "qlora" || options.precision === "fp32" ? 4 : 2,
  });
  const adapterActivations = lora ? loraActivationBytes(spec, lora, options) : 0;
  const activationsTotal = { ...activations, total: activations.total + adapterActivations, layersBytes: activations.layersBytes + adapterActivations };
  const modelStateBytes = lines.reduce((sum, line) => sum + line.bytes, 0);
  const totalPerGpu = modelStateBytes + activationsTotal.total + RUNTIME_BYTES;
  const plan: TrainPlan = {
    parameters: { total, trainable, frozen: options.method === "full" ? 0 : total },
    lora,
    modelStates: { lines, bytes: modelStateBytes },
    activations: activationsTotal,
    runtimeBytes: RUNTIME_BYTES,
    totalPerGpu,
    batch: {
      microBatch: options.microBatch,
      gradAccum: options.gradAccum,
      dataParallel,
      effective: options.microBatch * options.gradAccum * dataParallel,
      tokensPerStep: options.microBatch * options.gradAccum * dataParallel * options.seq,
    },
    fit: null,
    notes,
  };
  if (options.gpu) plan.fit = fitSearch(input, options, options.gpu);
  return plan;
}

function validate(options: TrainOptions): void {
  for (const [option, value] of [["seq", options.seq], ["microBatch", options.microBatch], ["gradAccum", options.gradAccum], ["gpus", options.gpus]] as const) {
    if (!Number.isSafeInteger(value) || value < 1) throw new UsageError(`{${option}} must be a positive whole number, got ${value}`);
  }
  const offload = options.offload ?? "none";
  if (!OFFLOADS.includes(offload)) throw new UsageError(`{offload} must be ${OFFLOADS.join(", ")}, got ${String(offload)}`);
  if (offload !== "none" && options.zero === 0) throw new UsageError("offloading needs sharded states: add {zero} 1, 2 or 3 (DeepSpeed) or {fsdp}");
  if (offload === "all" && options.zero !== 3) throw new UsageError("DeepSpeed offloads parameters (offload_param) only under ZeRO 3: use {zero} 3, or {offload} optimizer");
  if (offload === "optimizer" && options.fsdp) throw new UsageError("FSDP's CPUOffload moves parameters, gradients and optimizer states together: use {offload} all");
  if (options.method === "qlora" && options.precision === "fp32") throw new UsageError("QLoRA computes in bf16 or fp16: use {precision} mixed-bf16 (or bf16)");
}

/** Frozen base weights: 16-bit for LoRA; for QLoRA NF4 linears plus the rest upcast to fp32. */
function frozenBase(input: TrainInput, options: TrainOptions, total: number, weightShards: number): StateLine[] {
  const frozen = total;
  if (options.method === "lora" && input.rules.method) {
    // A quantized checkpoint (AWQ, GPTQ, FP8, bitsandbytes…) stays as stored under LoRA: PEFT wraps
    // the quantized linears and trains adapters beside them.
    const mtp = input.weights.components.find((component) => component.name === "multi-token prediction")?.bytes ?? 0;
    const stored = input.weights.bytes - input.weights.buffers.bytes - mtp;
    return [
      {
        kind: "frozen",
        label: `frozen base weights as stored (${input.rules.method}${input.weights.source === "config" ? `, derived from quantization_config` : ""})`,
        parameters: frozen,
        bytesPerParameter: frozen > 0 ? stored / frozen : 0,
        bytes: Math.ceil(stored / weightShards),
        sharded: weightShards > 1,
      },
    ];
  }
  if (options.method === "lora") {
    const bytesPerParameter = options.precision === "fp32" ? 4 : COMPUTE_DTYPE_BYTES[input.spec.dtype === "fp32" ? "bf16" : (input.spec.dtype ?? "bf16")];
    return [{ kind: "frozen", label: `frozen base weights (${options.precision === "fp32" ? "fp32" : "16-bit"})`, parameters: frozen, bytesPerParameter, bytes: Math.ceil((frozen * bytesPerParameter) / weightShards), sharded: weightShards > 1 }];
  }
  // QLoRA (Dettmers et al. 2023): the decoder's Linear weights in NF4 with double quantization;
  // PEFT's prepare_model_for_kbit_training casts every other parameter (embeddings, lm_head,
  // norms) to fp32.
  const inventory = input.manifest ? inventoryFromManifest(input.spec, input.manifest, input.rules) : inventoryFromSpec(input.spec);
  const nf4 = requantize(inventory, { kind: "nf4", name: "nf4" }, { numLayers: input.spec.numLayers, moe: input.spec.moe !== undefined });
  const kept = nf4.parameters - nf4.quantizedParameters;
  return [
    { kind: "frozen", label: "frozen base linears (NF4, double quantization)", parameters: nf4.quantizedParameters, bytesPerParameter: nf4.quantizedParameters > 0 ? nf4.quantizedBytes / nf4.quantizedParameters : 0, bytes: Math.ceil(nf4.quantizedBytes / weightShards), sharded: weightShards > 1 },
    { kind: "frozen", label: "frozen embeddings, lm_head, norms in fp32 (PEFT k-bit prep)", parameters: kept, bytesPerParameter: 4, bytes: Math.ceil((kept * 4) / weightShards), sharded: weightShards > 1 },
  ];
}

/**
 * The parameters of the largest single module, which ZeRO 3 gathers whole at a time: the
 * embedding or lm_head table, or the widest linear (one expert's, where experts are separate).
 */
function largestModuleParameters(spec: ModelSpec): number {
  let largest = spec.vocabSize * spec.hiddenSize;
  for (const module of linearModules(spec)) if (module.role !== "ssm") largest = Math.max(largest, module.inFeatures * module.outFeatures);
  return largest;
}

/** Trainable-parameter shapes for the optimizer: matrices from the module list, the rest vectors. */
function parameterShapes(spec: ModelSpec, parameters: number): ParameterShapes {
  let matrixParameters = spec.vocabSize * spec.hiddenSize * (spec.tiedEmbeddings ? 1 : 2);
  let factoredRowsPlusColumns = (spec.vocabSize + spec.hiddenSize) * (spec.tiedEmbeddings ? 1 : 2);
  for (const module of linearModules(spec)) {
    if (module.role === "ssm") continue;
    matrixParameters += module.inFeatures * module.outFeatures * module.copies;
    factoredRowsPlusColumns += (module.inFeatures + module.outFeatures) * module.copies;
  }
  matrixParameters = Math.min(matrixParameters, parameters);
  // Norm weights and biases are the small tensors that keep 32-bit states in 8-bit optimizers.
  return { parameters, matrixParameters, factoredRowsPlusColumns, smallTensorParameters: parameters - matrixParameters };
}

function adapterRowsPlusColumns(lora: LoraAdapters): number {
  return lora.modules.reduce((sum, module) => sum + module.modules * (lora.rank + module.inFeatures + module.outFeatures + lora.rank), 0);
}

/** LoRA's own activations: the r-wide output of each A, in 16-bit, per targeted module. */
function loraActivationBytes(spec: ModelSpec, lora: LoraAdapters, options: TrainOptions): number {
  if (options.checkpointing === "full") return 0;
  const perToken = lora.modules.reduce((sum, module) => sum + module.modules * lora.rank, 0);
  return 2 * options.seq * options.microBatch * perToken * (spec.numLayers > 0 ? 1 : 0);
}

/** Largest micro-batch, longest sequence and fewest GPUs that fit the GPU's memory. */
function fitSearch(input: TrainInput, options: TrainOptions, gpu: Gpu): TrainFit {
  // What CUDA reports for the card (79.18 GiB for an H100 sold as 80 GB), not its marketing size.
  const capacity = deviceMemory(gpu).bytes;
  const fitsWith = (changes: Partial<TrainOptions>) => planTraining(input, { ...options, ...changes, gpu: null }).totalPerGpu <= capacity;
  const largest = (fits: (value: number) => boolean, ceiling: number): number => {
    if (!fits(1)) return 0;
    let low = 1;
    let high = 2;
    while (high <= ceiling && fits(high)) {
      low = high;
      high *= 2;
    }
    high = Math.min(high, ceiling + 1);
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (fits(middle)) low = middle;
      else high = middle;
    }
    return low;
  };
  const maxSeq = input.spec.maxContext ?? options.seq;
  const counts = [1, 2, 4, 8, 16, 32, 64];
  return {
    gpu,
    capacityBytes: capacity,
    fits: fitsWith({}),
    largestMicroBatch: largest((microBatch) => fitsWith({ microBatch }), 4096),
    longestSeq: largest((seq) => fitsWith({ seq }), maxSeq),
    // ZeRO 0 replicates every state, so more GPUs never help: count with ZeRO 3 instead.
    smallestGpuCount: counts.find((gpus) => fitsWith({ gpus, zero: options.zero === 0 && gpus > 1 ? 3 : options.zero })) ?? null,
    smallestGpuCountZero: options.zero === 0 ? 3 : options.zero,
    smallestGpuCountFsdp: options.zero === 0 && !options.fsdp ? (counts.find((gpus) => fitsWith(gpus > 1 ? { gpus, zero: 3, fsdp: true } : { gpus })) ?? null) : null,
  };
}

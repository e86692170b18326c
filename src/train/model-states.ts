import { UsageError } from "../errors.js";

export const PRECISIONS = ["mixed-bf16", "mixed-fp16", "bf16", "fp32"] as const;
export type Precision = (typeof PRECISIONS)[number];
export const OPTIMIZERS = ["adamw", "adamw-8bit", "paged-adamw-8bit", "adafactor", "sgd", "sgd-momentum", "lion"] as const;
export type Optimizer = (typeof OPTIMIZERS)[number];

/** What a state line holds, which decides where ZeRO and offloading put it. */
export type StateKind = "weights" | "master" | "gradients" | "optimizer" | "frozen" | "gathered";

/** One line of the model-state bill: a kind of state, its bytes per parameter and its total. */
export interface StateLine {
  label: string;
  kind: StateKind;
  parameters: number;
  bytesPerParameter: number;
  /** Bytes on one GPU, after ZeRO sharding. */
  bytes: number;
  /** Divided across data-parallel GPUs by the chosen ZeRO stage. */
  sharded: boolean;
  /** Offloaded to CPU memory: the bytes each GPU's process keeps there instead (then `bytes` is 0). */
  hostBytes?: number;
}

/** A parameter group for the optimizer: matrices get factored Adafactor states, vectors full ones. */
export interface ParameterShapes {
  parameters: number;
  /** Parameters in 2-D weights, and Σ (rows + columns) over them (Adafactor's factored moment). */
  matrixParameters: number;
  factoredRowsPlusColumns: number;
  /** Parameters in tensors too small for 8-bit optimizer states (bitsandbytes min_8bit_size 4,096). */
  smallTensorParameters: number;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/**
 * Per-parameter bytes of trainable parameters (ZeRO paper, Rajbhandari et al. 2020; formulas.md
 * "Training"): mixed precision keeps 16-bit weights and gradients and an fp32 master copy; AdamW
 * two fp32 moments (16 B per parameter in all); 8-bit AdamW two uint8 moments with an fp32 absmax
 * per 2,048-value block (bitsandbytes); Adafactor a factored second moment; SGD momentum and Lion
 * one moment each. Pure bf16 keeps its optimizer states in bf16.
 */
export function trainableStates(shapes: ParameterShapes, precision: Precision, optimizer: Optimizer, shards: { optimizer: number; gradients: number; weights: number }): StateLine[] {
  const n = shapes.parameters;
  const lines: StateLine[] = [];
  const line = (kind: StateKind, label: string, bytesPerParameter: number, shardCount: number, exactBytes?: number) =>
    lines.push({ label, kind, parameters: n, bytesPerParameter, bytes: Math.ceil((exactBytes ?? n * bytesPerParameter) / shardCount), sharded: shardCount > 1 });

  const pure16 = precision === "bf16";
  if (precision === "fp32") line("weights", "fp32 weights", 4, shards.weights);
  else line("weights", `${precision === "mixed-fp16" ? "fp16" : "bf16"} weights`, 2, shards.weights);
  if (precision === "mixed-bf16" || precision === "mixed-fp16") line("master", "fp32 master weights", 4, shards.optimizer);
  line("gradients", `${precision === "fp32" ? "fp32" : precision === "mixed-fp16" ? "fp16" : "bf16"} gradients`, precision === "fp32" ? 4 : 2, shards.gradients);

  const stateBytes = pure16 ? 2 : 4;
  switch (optimizer) {
    case "adamw":
      line("optimizer", `AdamW moments (2 × ${pure16 ? "bf16" : "fp32"})`, 2 * stateBytes, shards.optimizer);
      break;
    case "adamw-8bit":
    case "paged-adamw-8bit": {
      // Small tensors keep 32-bit states; the rest: two uint8 moments + fp32 absmax per 2,048.
      const large = n - shapes.smallTensorParameters;
      const bytes = large * 2 + 2 * ceilDiv(large, 2048) * 4 + shapes.smallTensorParameters * 8;
      line("optimizer", `8-bit AdamW moments (2 × uint8 + block scales)${optimizer === "paged-adamw-8bit" ? ", paged to CPU under pressure" : ""}`, n > 0 ? bytes / n : 0, shards.optimizer, bytes);
      break;
    }
    case "adafactor": {
      // No momentum (transformers default); second moment factored into row and column sums.
      const vectors = n - shapes.matrixParameters;
      const bytes = (shapes.factoredRowsPlusColumns + vectors) * 4;
      line("optimizer", "Adafactor factored second moment (rows + columns, fp32)", n > 0 ? bytes / n : 0, shards.optimizer, bytes);
      break;
    }
    case "sgd":
      break;
    case "sgd-momentum":
      line("optimizer", `SGD momentum (${pure16 ? "bf16" : "fp32"})`, stateBytes, shards.optimizer);
      break;
    case "lion":
      line("optimizer", `Lion momentum (${pure16 ? "bf16" : "fp32"})`, stateBytes, shards.optimizer);
      break;
  }
  return lines;
}

export type ZeroStage = 0 | 1 | 2 | 3;

/** ZeRO stage 1 shards optimizer states (and the fp32 master), 2 also gradients, 3 also weights. */
export function zeroShards(stage: ZeroStage, gpus: number): { optimizer: number; gradients: number; weights: number } {
  if (![0, 1, 2, 3].includes(stage)) throw new UsageError(`{zero} must be 0, 1, 2 or 3, got ${stage}`);
  return { optimizer: stage >= 1 ? gpus : 1, gradients: stage >= 2 ? gpus : 1, weights: stage >= 3 ? gpus : 1 };
}

export const OFFLOADS = ["none", "optimizer", "all"] as const;
/** DeepSpeed offload_optimizer ("optimizer"), and offload_param too ("all"); FSDP's CPUOffload is "all". */
export type Offload = (typeof OFFLOADS)[number];

/**
 * A full fine-tune's states where DeepSpeed puts them (runtime/zero/stage3.py; its own
 * estimate_zero3_model_states_mem_needs states the same arithmetic): ZeRO 3 reduces gradients
 * into fp32 partitions (grad_partitions_flat_buffer, grad_accum_dtype fp32 under mixed
 * precision) instead of 16-bit ones, 18 B per parameter over the GPUs with AdamW, and gathers
 * one module's 16-bit weights and gradients at a time (4 B × the largest module's parameters).
 * offload_optimizer moves the fp32 master, moments and fp32 gradients to CPU memory; offload_param
 * the 16-bit weights too. FSDP keeps its fp32 shards as the master, so it stays at 16 B.
 */
export function deepspeedPlacement(lines: StateLine[], options: { stage: ZeroStage; gpus: number; mixed: boolean; fsdp: boolean; offload: Offload; largestModuleParameters: number }): StateLine[] {
  let placed = lines;
  if (options.stage === 3 && options.mixed && !options.fsdp) {
    placed = placed.map((line) =>
      line.kind === "gradients"
        ? { ...line, label: "fp32 gradient partitions", bytesPerParameter: 4, bytes: Math.ceil((line.parameters * 4) / options.gpus), sharded: options.gpus > 1 }
        : line,
    );
    const gathered = options.largestModuleParameters;
    placed.push({ label: "largest module, gathered (16-bit w + g)", kind: "gathered", parameters: gathered, bytesPerParameter: 4, bytes: gathered * 4, sharded: false });
  }
  if (options.offload === "none") return placed;
  // offload_optimizer takes what the optimizer step reads and writes; DeepSpeed's ZeRO 3 reduces
  // the gradients into that partition too. offload_param takes everything but the gathered module.
  const stepSide = (line: StateLine) => line.kind === "master" || line.kind === "optimizer" || (line.kind === "gradients" && options.stage === 3 && options.mixed && !options.fsdp);
  return placed.map((line) => {
    const toHost = options.offload === "all" ? line.kind !== "gathered" : stepSide(line);
    return toHost ? { ...line, label: `on CPU: ${line.label}`, bytes: 0, hostBytes: line.bytes } : line;
  });
}

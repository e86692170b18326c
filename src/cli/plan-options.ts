import type { Argv } from "yargs";
import { KV_DTYPE_CHOICES, type KvDtypeChoice } from "../model/dtypes.js";
import type { PlanOptions, ServingRequest } from "../plan.js";
import { ENGINE_NAMES, type EngineName } from "../serve/engines.js";
import { WEIGHT_SCHEME_NAMES } from "../estimate/weight-schemes.js";
import { parseTokenCount } from "./parse-tokens.js";

/** The options `plan` and `batch` share: the request, the cache format, serving. */
export interface PlanArgs {
  context?: string;
  batch?: string;
  kvDtype: KvDtypeChoice;
  revision?: string;
  strict: boolean;
  offline: boolean;
  debug: boolean;
  dtype?: string;
  compare?: string;
  groupSize?: number;
  engine?: EngineName;
  gpu?: string;
  gpus?: number;
  gpuMemoryUtilization?: number;
}

export function withPlanOptions(yargs: Argv): Argv {
  return yargs
    .option("context", { alias: "c", type: "string", describe: "Tokens per sequence (32768, 32k); default: the model's maximum" })
    .option("batch", { alias: "b", type: "string", describe: "Concurrent sequences", default: "1" })
    .option("kv-dtype", { choices: KV_DTYPE_CHOICES, default: "auto" as const, describe: "KV cache element type; auto = the model's dtype" })
    .option("revision", { type: "string", describe: "Branch, tag or commit (default main)" })
    .option("strict", { type: "boolean", default: false, describe: "A context beyond the model's maximum is an error" })
    .option("offline", { type: "boolean", default: false, describe: "Never touch the network (same as HF_HUB_OFFLINE=1)" })
    .option("dtype", { type: "string", describe: `Serve the weights as: ${WEIGHT_SCHEME_NAMES.join(", ")}` })
    .option("compare", { type: "string", describe: "Several weight formats side by side, e.g. bf16,fp8,int4" })
    .option("group-size", { type: "number", describe: "GPTQ/AWQ int4 group size", default: 128 })
    .option("engine", { choices: ENGINE_NAMES, describe: "Serving engine whose allocator and overheads to assume (default vllm)" })
    .option("gpu", { type: "string", describe: "GPU to fit on: H100, A100-40, 4090, L4, M3 Max 128, …" })
    .option("gpus", { type: "number", describe: "GPUs per model: tensor parallel (llama.cpp: layer split)" })
    .option("gpu-memory-utilization", { type: "number", describe: "vLLM gpu_memory_utilization / SGLang mem_fraction_static (default: the engine's)" });
}

export function planOptionsFromArgs(args: PlanArgs, extra: { chart?: boolean } = {}): PlanOptions {
  const dtypes = [...(args.dtype ? [args.dtype] : []), ...(args.compare ? args.compare.split(",").map((name) => name.trim()).filter(Boolean) : [])];
  const wantsServing =
    dtypes.length > 0 || args.gpu !== undefined || args.gpus !== undefined || args.engine !== undefined || args.gpuMemoryUtilization !== undefined || extra.chart === true;
  const serving: ServingRequest = {
    ...(args.engine && { engine: args.engine }),
    ...(args.gpu !== undefined && { gpu: args.gpu }),
    ...(args.gpus !== undefined && { gpus: args.gpus }),
    ...(args.gpuMemoryUtilization !== undefined && { memoryFraction: args.gpuMemoryUtilization }),
    ...(dtypes.length > 0 && { dtypes }),
    ...(args.groupSize !== undefined && { groupSize: args.groupSize }),
  };
  return {
    ...(args.revision !== undefined && { revision: args.revision }),
    ...(args.context !== undefined && { context: parseTokenCount(args.context, "--context") as number }),
    batch: parseTokenCount(args.batch ?? "1", "--batch") as number,
    kvDtype: args.kvDtype,
    strict: args.strict,
    ...(wantsServing && { serving }),
  };
}

import type { Argv } from "yargs";
import { KV_DTYPE_CHOICES, type KvDtypeChoice } from "../model/dtypes.js";
import type { PlanOptions, ServingRequest } from "../plan.js";
import { ENGINE_NAMES } from "../serve/engine-release.js";
import { WEIGHT_SCHEME_NAMES } from "../estimate/weight-schemes.js";
import type { EngineKnobs } from "../serve/accounting.js";
import { parseByteCount, parseMemorySize, parseTokenCount } from "./parse-tokens.js";
import { OFFLINE_OPTION, REVISION_OPTION } from "./common-options.js";

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
  engine?: string;
  gpu?: string;
  gpuMemory?: string;
  gpus?: string;
  gpuMemoryUtilization?: number;
  maxNumSeqs?: string;
  maxNumBatchedTokens?: string;
  blockSize?: string;
  enforceEager?: boolean;
  kvCacheMemoryBytes?: string;
  enablePrefixCaching?: boolean;
  flashAttn?: "on" | "off";
}

export function withPlanOptions(yargs: Argv): Argv {
  return yargs
    .option("context", { alias: "c", type: "string", describe: "Tokens per sequence (32768, 32k); default: the model's maximum" })
    .option("batch", { alias: "b", type: "string", describe: "Concurrent sequences", default: "1" })
    .option("kv-dtype", { choices: KV_DTYPE_CHOICES, default: "auto" as const, describe: "KV cache element type; auto = the model's dtype" })
    .option("revision", REVISION_OPTION)
    .option("strict", { type: "boolean", default: false, describe: "A context beyond the model's maximum is an error" })
    .option("offline", OFFLINE_OPTION)
    .option("dtype", { type: "string", describe: `Serve the weights as: ${WEIGHT_SCHEME_NAMES.join(", ")}` })
    .option("compare", { type: "string", describe: "Several weight formats side by side, e.g. bf16,fp8,int4" })
    .option("group-size", { type: "number", describe: "GPTQ/AWQ int4 group size", default: 128 })
    .option("engine", { type: "string", describe: `Serving engine, optionally @version: ${ENGINE_NAMES.join(", ")} (e.g. vllm@0.11; default: vllm, newest profile)` })
    .option("gpu", { type: "string", describe: "GPU to fit on: H100, A100-40, 4090, L4, M3 Max 128, …" })
    .option("gpu-memory", { type: "string", describe: "The GPU's total as the engine sees it (torch.cuda.mem_get_info), e.g. 79.18GiB; default: vramplan's table" })
    .option("gpus", { type: "string", describe: "GPUs per model: tensor parallel (llama.cpp: layer split)" })
    .option("gpu-memory-utilization", { type: "number", describe: "vLLM gpu_memory_utilization / SGLang mem_fraction_static (default: the engine's)" })
    .option("max-num-seqs", { type: "string", describe: "vLLM max_num_seqs (default by GPU: 1024 on ≥70 GiB, else 256); llama.cpp: ignored (use --batch for slots)" })
    .option("max-num-batched-tokens", { type: "string", describe: "vLLM max_num_batched_tokens / SGLang chunked prefill / llama.cpp n_ubatch" })
    .option("block-size", { type: "string", describe: "vLLM KV block size in tokens (default 16; 64 for MLA)" })
    .option("enforce-eager", { type: "boolean", describe: "vLLM --enforce-eager: no CUDA graphs" })
    .option("enable-prefix-caching", { type: "boolean", describe: "vLLM --enable-prefix-caching: hybrid models keep two state blocks a request (mamba_cache_mode align)" })
    .option("kv-cache-memory-bytes", { type: "string", describe: "vLLM kv_cache_memory_bytes: the KV cache's size, memory profiling skipped (bytes, or 640MiB, 8GiB)" })
    .option("flash-attn", { choices: ["on", "off"] as const, describe: "llama.cpp -fa (default: the version's)" });
}

export function planOptionsFromArgs(args: PlanArgs, extra: { chart?: boolean } = {}): PlanOptions {
  const dtypes = [...(args.dtype ? [args.dtype] : []), ...(args.compare ? args.compare.split(",").map((name) => name.trim()).filter(Boolean) : [])];
  const knobs: EngineKnobs = {
    ...(args.maxNumSeqs !== undefined && { maxNumSeqs: parseTokenCount(args.maxNumSeqs, "--max-num-seqs", { unit: "sequences" }) as number }),
    ...(args.maxNumBatchedTokens !== undefined && { maxNumBatchedTokens: parseTokenCount(args.maxNumBatchedTokens, "--max-num-batched-tokens") as number }),
    ...(args.blockSize !== undefined && { blockSize: parseTokenCount(args.blockSize, "--block-size") as number }),
    ...(args.enforceEager !== undefined && { enforceEager: args.enforceEager }),
    ...(args.enablePrefixCaching !== undefined && { enablePrefixCaching: args.enablePrefixCaching }),
    ...(args.kvCacheMemoryBytes !== undefined && { kvCacheMemoryBytes: parseByteCount(args.kvCacheMemoryBytes, "--kv-cache-memory-bytes") }),
    ...(args.flashAttn !== undefined && { flashAttention: args.flashAttn === "on" }),
  };
  const wantsServing =
    dtypes.length > 0 ||
    args.gpu !== undefined ||
    args.gpus !== undefined ||
    args.engine !== undefined ||
    args.gpuMemoryUtilization !== undefined ||
    args.gpuMemory !== undefined ||
    Object.keys(knobs).length > 0 ||
    extra.chart === true;
  const serving: ServingRequest = {
    ...(args.engine !== undefined && { engine: args.engine }),
    ...(args.gpu !== undefined && { gpu: args.gpu }),
    ...(args.gpuMemory !== undefined && { gpuMemoryBytes: parseMemorySize(args.gpuMemory, "--gpu-memory") }),
    ...(Object.keys(knobs).length > 0 && { knobs }),
    ...(args.gpus !== undefined && { gpus: parseTokenCount(args.gpus, "--gpus", { unit: "GPUs" }) as number }),
    ...(args.gpuMemoryUtilization !== undefined && { memoryFraction: args.gpuMemoryUtilization }),
    ...(dtypes.length > 0 && { dtypes }),
    ...(args.groupSize !== undefined && { groupSize: args.groupSize }),
  };
  return {
    ...(args.revision !== undefined && { revision: args.revision }),
    ...(args.context !== undefined && { context: parseTokenCount(args.context, "--context") as number }),
    batch: parseTokenCount(args.batch ?? "1", "--batch", { unit: "sequences" }) as number,
    kvDtype: args.kvDtype,
    strict: args.strict,
    ...(wantsServing && { serving }),
  };
}

import type { Argv } from "yargs";
import { plan } from "../../plan.js";
import { KV_DTYPE_CHOICES, type KvDtypeChoice } from "../../model/dtypes.js";
import { ENGINE_NAMES, type EngineName } from "../../serve/engines.js";
import { WEIGHT_SCHEME_NAMES } from "../../serve/weight-schemes.js";
import { renderPlanTable } from "../../report/table.js";
import type { CliCommand, CliIo } from "../output.js";
import { parseTokenCount } from "../parse-tokens.js";
import { cliHubSettings } from "../settings.js";

export interface PlanArgs {
  model: string;
  context?: string;
  batch?: string;
  kvDtype: KvDtypeChoice;
  revision?: string;
  json: boolean;
  explain: boolean;
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
  chart?: string;
}

export const planCommand = {
    name: "plan",
    command: "plan <model>",
    describe: "Weights and KV cache of one model, exact to the byte",
    builder: (yargs: Argv) =>
      yargs
        .positional("model", { type: "string", describe: "Hugging Face model id, org/name[@revision]", demandOption: true })
        .option("context", { alias: "c", type: "string", describe: "Tokens per sequence (32768, 32k); default: the model's maximum" })
        .option("batch", { alias: "b", type: "string", describe: "Concurrent sequences", default: "1" })
        .option("kv-dtype", { choices: KV_DTYPE_CHOICES, default: "auto" as const, describe: "KV cache element type; auto = the model's dtype" })
        .option("revision", { type: "string", describe: "Branch, tag or commit (default main)" })
        .option("json", { type: "boolean", default: false, describe: "Print the plan object (docs/plan-json.md)" })
        .option("explain", { type: "boolean", default: false, describe: "Show every formula with its numbers" })
        .option("strict", { type: "boolean", default: false, describe: "A context beyond the model's maximum is an error" })
        .option("offline", { type: "boolean", default: false, describe: "Never touch the network (same as HF_HUB_OFFLINE=1)" })
        .option("dtype", { type: "string", describe: `Serve the weights as: ${WEIGHT_SCHEME_NAMES.join(", ")}` })
        .option("compare", { type: "string", describe: "Several weight formats side by side, e.g. bf16,fp8,int4" })
        .option("group-size", { type: "number", describe: "GPTQ/AWQ int4 group size", default: 128 })
        .option("engine", { choices: ENGINE_NAMES, describe: "Serving engine whose allocator and overheads to assume (default vllm)" })
        .option("gpu", { type: "string", describe: "GPU to fit on: H100, A100-40, 4090, L4, M3 Max 128, …" })
        .option("gpus", { type: "number", describe: "GPUs per model: tensor parallel (llama.cpp: layer split)" })
        .option("gpu-memory-utilization", { type: "number", describe: "vLLM gpu_memory_utilization / SGLang mem_fraction_static (default: the engine's)" })
        .option("chart", { type: "string", describe: "Write an SVG of memory against context length to this file" })
        .example("$0 plan Qwen/Qwen2.5-7B --context 32768", "weights and KV cache at 32k tokens")
        .example("$0 plan meta-llama/Llama-3.1-8B -c 8k -b 4 --explain", "four sequences of 8,192 tokens, with formulas")
        .example("$0 plan mistralai/Mistral-7B-v0.1 --json", "the plan object as JSON")
        .example("$0 plan Qwen/Qwen2.5-7B -c 32k --gpu L4 --compare bf16,fp8,int4", "does it fit an L4, and how many users at once")
        .example("$0 plan meta-llama/Llama-3.1-8B --dtype Q4_K_M --engine llama.cpp --gpu 4090", "a GGUF quantization on a 4090")
        .example("$0 plan Qwen/Qwen2.5-7B -c 32k --gpu h100 --chart memory.svg", "memory against context, as a picture"),
    run: async (args: PlanArgs, io: CliIo) => {
      const settings = cliHubSettings(io, args);
      const dtypes = [...(args.dtype ? [args.dtype] : []), ...(args.compare ? args.compare.split(",").map((name) => name.trim()).filter(Boolean) : [])];
      const wantsServing = dtypes.length > 0 || args.gpu !== undefined || args.gpus !== undefined || args.engine !== undefined || args.gpuMemoryUtilization !== undefined || args.chart !== undefined;
      const result = await plan(args.model, {
        ...(args.revision !== undefined && { revision: args.revision }),
        ...(args.context !== undefined && { context: parseTokenCount(args.context, "--context") as number }),
        batch: parseTokenCount(args.batch ?? "1", "--batch") as number,
        kvDtype: args.kvDtype,
        strict: args.strict,
        hub: settings,
        ...(wantsServing && {
          serving: {
            ...(args.engine && { engine: args.engine }),
            ...(args.gpu !== undefined && { gpu: args.gpu }),
            ...(args.gpus !== undefined && { gpus: args.gpus }),
            ...(args.gpuMemoryUtilization !== undefined && { memoryFraction: args.gpuMemoryUtilization }),
            ...(dtypes.length > 0 && { dtypes }),
            ...(args.groupSize !== undefined && { groupSize: args.groupSize }),
          },
        }),
      });
      if (args.chart) {
        const { writeMemoryChart } = await import("../../report/chart-file.js");
        await writeMemoryChart(args.chart, result);
      }
      io.stdout(args.json ? `${JSON.stringify(result, null, 2)}\n` : renderPlanTable(result, { explain: args.explain }));
    },
} satisfies CliCommand<PlanArgs>;

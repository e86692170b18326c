import type { Argv } from "yargs";
import { planRepo } from "../../plan-repo.js";
import { renderPlanTable } from "../../report/table.js";
import { checkOutputFile, writeOutputFile } from "../output-file.js";
import { cliLayout, type CliCommand, type CliIo } from "../output.js";
import { UsageError } from "../../errors.js";
import { parseMemorySize, parseTokenCount } from "../parse-tokens.js";
import { planOptionsFromArgs, withPlanOptions, type PlanArgs } from "../plan-options.js";
import { promptInputFromArgs, withPromptOptions, type PromptArgs } from "../prompt-input.js";
import { cliHubSettings } from "../settings.js";
import { EXPLAIN_OPTION } from "../common-options.js";

interface PlanCommandArgs extends PlanArgs, PromptArgs {
  maxNewTokens?: string;
  file?: string;
  ram?: string;
  model: string;
  json: boolean;
  explain: boolean;
  chart?: string;
}

export const planCommand = {
  name: "plan",
  command: "plan <model>",
  describe: "Weights and KV cache of one model, exact to the byte; serving fit with --gpu",
  builder: (yargs: Argv) =>
    withPromptOptions(withPlanOptions(yargs.positional("model", { type: "string", describe: "Hugging Face model id, org/name[@revision]", demandOption: true })))
      .option("max-new-tokens", { type: "string", describe: "With --messages / --prompt-file: tokens to generate; context = prompt + this" })
      .conflicts("context", ["messages", "prompt-file"])
      .option("file", { type: "string", describe: "GGUF repos: plan this file (or quantization, e.g. Q4_K_M) only" })
      .option("ram", { type: "string", describe: "GGUF repos: system memory for layers that stay off the GPU, e.g. 64GB or 64GiB" })
      .option("json", { type: "boolean", default: false, describe: "Print the plan object (docs/plan-json.md)" })
      .option("explain", EXPLAIN_OPTION)
      .option("chart", { type: "string", describe: "Write an SVG of memory against context length to this file" })
      .example("$0 plan Qwen/Qwen2.5-7B --context 32768", "weights and KV cache at 32k tokens")
      .example("$0 plan meta-llama/Llama-3.1-8B -c 8k -b 4 --explain", "four sequences of 8,192 tokens, with formulas")
      .example("$0 plan mistralai/Mistral-7B-v0.1 --json", "the plan object as JSON")
      .example("$0 plan Qwen/Qwen2.5-7B -c 32k --gpu L4 --compare bf16,fp8,int4", "does it fit an L4, and how many users at once")
      .example("$0 plan meta-llama/Llama-3.1-8B --dtype Q4_K_M --engine llama.cpp --gpu 4090", "a GGUF quantization on a 4090")
      .example("$0 plan Qwen/Qwen2.5-7B -c 32k --gpu h100 --chart memory.svg", "memory against context, as a picture")
      .example("$0 plan Qwen/Qwen2.5-7B-Instruct-AWQ --messages chat.json --max-new-tokens 1024", "the context a conversation needs")
      .example("$0 plan bartowski/Meta-Llama-3.1-8B-Instruct-GGUF -c 8k --gpu 4090", "every quantization file of a GGUF repo: fit, --n-gpu-layers"),
  run: async (args: PlanCommandArgs, io: CliIo) => {
    if (args.chart !== undefined) await checkOutputFile("--chart", args.chart, "memory.svg");
    const options = planOptionsFromArgs(args, { chart: args.chart !== undefined });
    const input = await promptInputFromArgs(args, io);
    if (!input && args.maxNewTokens !== undefined) throw new UsageError("--max-new-tokens goes with --messages or --prompt-file; with --context, count the answer in");
    const maxNewTokens = parseTokenCount(args.maxNewTokens ?? "0", "--max-new-tokens", { allowZero: true }) as number;
    const ramBytes = args.ram === undefined ? undefined : parseMemorySize(args.ram, "--ram");
    const planned = await planRepo(args.model, {
      ...options,
      ...(input && { prompt: { input, maxNewTokens } }),
      ...(args.file !== undefined && { ggufFile: args.file }),
      ...(ramBytes !== undefined && { ramBytes }),
      hub: cliHubSettings(io, args),
    });
    if (planned.kind === "gguf") {
      if (args.chart) throw new UsageError("--chart draws safetensors plans; for a GGUF repo the table compares its files");
      const { renderGgufPlan } = await import("../../report/gguf.js");
      io.stdout(args.json ? `${JSON.stringify(planned.plan, null, 2)}\n` : renderGgufPlan(planned.plan, { explain: args.explain, ...cliLayout(io) }));
      return;
    }
    if (planned.kind === "diffusers") {
      if (args.chart) throw new UsageError("--chart draws memory against context; a diffusers pipeline has no context: its table lists each component");
      const { renderPipelinePlan } = await import("../../report/pipeline.js");
      io.stdout(args.json ? `${JSON.stringify(planned.plan, null, 2)}\n` : renderPipelinePlan(planned.plan, { explain: args.explain, ...cliLayout(io) }));
      return;
    }
    if (args.ram !== undefined || args.file !== undefined) throw new UsageError("--file and --ram are for GGUF repos; this one is a safetensors checkpoint");
    const result = planned.plan;
    io.stdout(args.json ? `${JSON.stringify(result, null, 2)}\n` : renderPlanTable(result, { explain: args.explain, ...cliLayout(io) }));
    if (args.chart) {
      const { renderMemoryChart } = await import("../../report/chart-svg.js");
      await writeOutputFile(io, "--chart", args.chart, renderMemoryChart(result));
      // On stderr: stdout may be the --json object.
      io.stderr(`vramplan: wrote ${args.chart}: memory against context (SVG)\n`);
    }
  },
} satisfies CliCommand<PlanCommandArgs>;

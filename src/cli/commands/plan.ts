import type { Argv } from "yargs";
import { plan } from "../../plan.js";
import { KV_DTYPE_CHOICES, type KvDtypeChoice } from "../../model/dtypes.js";
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
        .example("$0 plan Qwen/Qwen2.5-7B --context 32768", "weights and KV cache at 32k tokens")
        .example("$0 plan meta-llama/Llama-3.1-8B -c 8k -b 4 --explain", "four sequences of 8,192 tokens, with formulas")
        .example("$0 plan mistralai/Mistral-7B-v0.1 --json", "the plan object as JSON"),
    run: async (args: PlanArgs, io: CliIo) => {
      const settings = cliHubSettings(io, args);
      const result = await plan(args.model, {
        ...(args.revision !== undefined && { revision: args.revision }),
        ...(args.context !== undefined && { context: parseTokenCount(args.context, "--context") as number }),
        batch: parseTokenCount(args.batch ?? "1", "--batch") as number,
        kvDtype: args.kvDtype,
        strict: args.strict,
        hub: settings,
      });
      io.stdout(args.json ? `${JSON.stringify(result, null, 2)}\n` : renderPlanTable(result, { explain: args.explain }));
    },
} satisfies CliCommand<PlanArgs>;

import { UsageError } from "../errors.js";
import type { RepoPlanOptions } from "../plan-repo.js";
import type { TrainRequest } from "../train.js";
import { trainRequestFromArgs, type TrainArgs } from "../cli/commands/train.js";
import { parseMemorySize } from "../cli/parse-tokens.js";
import { planOptionsFromArgs, type PlanArgs } from "../cli/plan-options.js";

/**
 * A query read through the CLI's own option definitions (one home for names, defaults, choices and
 * parsing): `?context=32k&kv-dtype=fp8` is `plan <model> --context=32k --kv-dtype=fp8`. Only the
 * options that plan from the Hub are allowed: none reads or writes a file on this machine.
 */
export type ParseCommand = (argv: readonly string[]) => Promise<Record<string, unknown>>;

const PLAN_PARAMETERS = new Set([
  "revision", "context", "batch", "kv-dtype", "strict", "dtype", "compare", "group-size", "engine", "gpu", "gpu-memory", "gpus",
  "gpu-memory-utilization", "max-num-seqs", "max-num-batched-tokens", "block-size", "enforce-eager", "kv-cache-memory-bytes", "enable-prefix-caching", "flash-attn", "file", "ram",
]);
const TRAIN_PARAMETERS = new Set([
  "revision", "method", "precision", "optimizer", "seq", "micro-batch", "grad-accum", "gpus", "zero", "fsdp", "offload", "flash-attention",
  "checkpointing", "loss", "lora-rank", "lora-targets", "gpu",
]);

async function argsOf(parse: ParseCommand, command: "plan" | "train", model: string, query: Record<string, string>, allowed: Set<string>, extra: Set<string>) {
  const argv = [command, model];
  for (const [name, value] of Object.entries(query)) {
    if (extra.has(name)) continue;
    if (!allowed.has(name)) throw new UsageError(`unknown parameter "${name}": ${command} takes ${[...allowed].join(", ")}`);
    // One token per option: a value can never be read as another option.
    argv.push(`--${name}=${value}`);
  }
  return parse(argv);
}

export async function queryPlanOptions(parse: ParseCommand, model: string, query: Record<string, string>, extra: Set<string>): Promise<RepoPlanOptions> {
  const args = (await argsOf(parse, "plan", model, query, PLAN_PARAMETERS, extra)) as unknown as PlanArgs & { file?: string; ram?: string };
  return {
    ...planOptionsFromArgs(args),
    ...(args.file !== undefined && { ggufFile: args.file }),
    ...(args.ram !== undefined && { ramBytes: parseMemorySize(args.ram, "ram") }),
  };
}

export async function queryTrainRequest(parse: ParseCommand, model: string, query: Record<string, string>, extra: Set<string>): Promise<TrainRequest> {
  return trainRequestFromArgs((await argsOf(parse, "train", model, query, TRAIN_PARAMETERS, extra)) as unknown as TrainArgs);
}

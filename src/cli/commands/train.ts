import type { Argv } from "yargs";
import { CHECKPOINTING, type Checkpointing } from "../../train/activations.js";
import { OFFLOADS, OPTIMIZERS, PRECISIONS, type Offload, type Optimizer, type Precision, type ZeroStage } from "../../train/model-states.js";
import { parseLoraTargets } from "../../train/lora.js";
import { TRAIN_METHODS, type TrainMethod } from "../../train/train-plan.js";
import { planTrain, type TrainRequest } from "../../train.js";
import { renderTrainTable } from "../../report/train.js";
import { cliLayout, type CliCommand, type CliIo } from "../output.js";
import { parseTokenCount } from "../parse-tokens.js";
import { cliHubSettings } from "../settings.js";
import { EXPLAIN_OPTION, OFFLINE_OPTION, REVISION_OPTION } from "../common-options.js";

export interface TrainArgs {
  model: string;
  method: TrainMethod;
  precision: Precision;
  optimizer: Optimizer;
  seq: string;
  microBatch: number;
  gradAccum: number;
  gpus: number;
  zero: number;
  fsdp: boolean;
  offload: Offload;
  flashAttention: boolean;
  checkpointing?: Checkpointing;
  loss: "naive" | "chunked";
  loraRank: number;
  loraTargets: string;
  gpu?: string;
  revision?: string;
  json: boolean;
  explain: boolean;
  offline: boolean;
  debug: boolean;
}

export const trainCommand = {
  name: "train",
  command: "train <model>",
  describe: "Memory of full fine-tuning, LoRA and QLoRA: model states, activations, logits",
  builder: (yargs: Argv) =>
    yargs
      .positional("model", { type: "string", describe: "Hugging Face model id, org/name[@revision]", demandOption: true })
      .option("method", { choices: TRAIN_METHODS, default: "full" as const, describe: "Full fine-tune, LoRA, or QLoRA (NF4 base)" })
      .option("precision", { choices: PRECISIONS, default: "mixed-bf16" as const, describe: "mixed = 16-bit weights and gradients plus an fp32 master copy" })
      .option("optimizer", { choices: OPTIMIZERS, default: "adamw" as const, describe: "States per trainable parameter: adamw 8 B (fp32 moments), adamw-8bit ~2 B, adafactor rows + columns only, sgd none, sgd-momentum and lion 4 B" })
      .option("seq", { type: "string", default: "4096", describe: "Sequence length in tokens (4096, 8k)" })
      .option("micro-batch", { type: "number", default: 1, describe: "Sequences per GPU per forward pass" })
      .option("grad-accum", { type: "number", default: 1, describe: "Gradient-accumulation steps (no activation cost)" })
      .option("gpus", { type: "number", default: 1, describe: "Data-parallel GPUs" })
      .option("zero", { choices: [0, 1, 2, 3], default: 0, describe: "DeepSpeed ZeRO stage: 1 shards optimizer states, 2 also gradients, 3 also weights" })
      .option("fsdp", { type: "boolean", default: false, describe: "FSDP full shard (= ZeRO 3; fp32 shards are the master copy, 16 B per parameter)" })
      .option("offload", { choices: OFFLOADS, default: "none" as const, describe: "States in CPU memory: optimizer = DeepSpeed offload_optimizer (fp32 master, moments, fp32 gradients); all = also offload_param (ZeRO 3) or FSDP CPUOffload" })
      .option("flash-attention", { type: "boolean", default: true, describe: "FlashAttention/SDPA: attention scores are never stored" })
      .option("checkpointing", { choices: CHECKPOINTING, describe: "Activation checkpointing (default: none; full for QLoRA, as PEFT enables it)" })
      .option("loss", { choices: ["naive", "chunked"] as const, default: "naive" as const, describe: "naive: fp32 logits as transformers computes them; chunked: fused/chunked cross-entropy" })
      .option("lora-rank", { type: "number", default: 16, describe: "LoRA rank r: each adapted d_out×d_in matrix adds r×(d_in+d_out) parameters" })
      .option("lora-targets", { type: "string", default: "all-linear", describe: "all-linear, attention, or module names (q_proj,k_proj,…)" })
      .option("gpu", { type: "string", describe: "GPU to fit on: largest micro-batch, longest sequence, fewest GPUs" })
      .option("revision", REVISION_OPTION)
      .option("json", { type: "boolean", default: false, describe: "Print the training plan as JSON" })
      .option("explain", EXPLAIN_OPTION)
      .option("offline", OFFLINE_OPTION)
      .example("$0 train meta-llama/Llama-3.1-8B --method full --json", "model states of a full fine-tune: 16 B per parameter")
      .example("$0 train meta-llama/Llama-3.1-8B --method lora --lora-rank 16 --lora-targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj", "LoRA on every projection")
      .example("$0 train Qwen/Qwen2.5-7B --method qlora --gpu 4090 --seq 2k", "QLoRA on a 24 GiB card"),
  run: async (args: TrainArgs, io: CliIo) => {
    const report = await planTrain(args.model, trainRequestFromArgs(args), cliHubSettings(io, args));
    io.stdout(args.json ? `${JSON.stringify(report, null, 2)}\n` : renderTrainTable(report, { explain: args.explain, ...cliLayout(io) }));
  },
} satisfies CliCommand<TrainArgs>;

/** The library's train request from this command's parsed options (also what `vramplan serve` reads its queries into). */
export function trainRequestFromArgs(args: TrainArgs): TrainRequest {
  const seq = parseTokenCount(args.seq, "--seq") as number;
  return {
    method: args.method,
    precision: args.precision,
    optimizer: args.optimizer,
    seq,
    microBatch: args.microBatch,
    gradAccum: args.gradAccum,
    gpus: args.gpus,
    zero: (args.fsdp ? 3 : args.zero) as ZeroStage,
    ...(args.fsdp && { fsdp: true }),
    ...(args.offload !== "none" && { offload: args.offload }),
    flashAttention: args.flashAttention,
    checkpointing: args.checkpointing ?? (args.method === "qlora" ? "full" : "none"),
    loss: args.loss,
    loraRank: args.loraRank,
    loraTargets: parseLoraTargets(args.loraTargets),
    ...(args.gpu !== undefined && { gpu: args.gpu }),
    ...(args.revision !== undefined && { revision: args.revision }),
  };
}

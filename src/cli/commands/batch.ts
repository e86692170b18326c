import type { Argv } from "yargs";
import { readModelIds } from "../../batch/read-ids.js";
import { runBatch } from "../../batch/run-batch.js";
import { EXIT_CODES, UsageError } from "../../errors.js";
import { resolveServing } from "../../plan.js";
import { BATCH_FORMATS, renderBatch, type BatchFormat } from "../../report/batch-formats.js";
import { writeFileAtomic } from "../../util/atomic-write.js";
import type { CliCommand, CliIo } from "../output.js";
import { planOptionsFromArgs, withPlanOptions, type PlanArgs } from "../plan-options.js";
import { progressBar } from "../progress.js";
import { readInputFile, readStdinOf, STDIN_ARG } from "../read-input.js";
import { cliHubSettings } from "../settings.js";

interface BatchArgs extends PlanArgs {
  file: string;
  format: BatchFormat;
  out?: string;
  concurrency: number;
}

export const batchCommand = {
  name: "batch",
  command: "batch <file>",
  describe: "Plan a list of models (one id per line, - for stdin) into CSV, JSON Lines, Markdown or a table",
  builder: (yargs: Argv) =>
    withPlanOptions(yargs.positional("file", { type: "string", describe: "File of model ids (org/name[@revision]), or - for stdin", demandOption: true }))
      .option("format", { choices: BATCH_FORMATS, default: "table" as const })
      .option("out", { type: "string", describe: "Write to this file instead of stdout (atomically)" })
      .option("concurrency", { type: "number", default: 8, describe: "Models fetched at once, over one connection pool" })
      .example("$0 batch models.txt -c 8k --format csv --out plans.csv", "a CSV of every model at 8k tokens")
      .example("cat ids.txt | $0 batch - --gpu H100 --format markdown", "which of them fit an H100"),
  run: async (args: BatchArgs, io: CliIo) => {
    if (!Number.isSafeInteger(args.concurrency) || args.concurrency < 1) throw new UsageError(`--concurrency must be a positive whole number, got ${args.concurrency}`);
    const text = args.file === STDIN_ARG ? await readStdinOf(io) : await readInputFile(args.file);
    const entries = readModelIds(text, args.revision);
    if (entries.length === 0) throw new UsageError(`${args.file === STDIN_ARG ? "stdin" : args.file} names no model: one org/name per line`);
    const options = planOptionsFromArgs(args);
    const serving = options.serving ? await resolveServing(options.serving) : undefined;
    const bar = io.isTTY ? progressBar(io.stderr) : undefined;
    const rows = await runBatch(entries, { plan: options, serving, hub: cliHubSettings(io, args), concurrency: args.concurrency, ...(bar && { onProgress: bar.update }) });
    bar?.finish();
    const output = renderBatch(rows, args.format);
    if (args.out) await writeFileAtomic(args.out, output);
    else io.stdout(output);
    const failed = rows.filter((row) => row.error).length;
    if (failed > 0) {
      io.stderr(`vramplan: ${failed} of ${rows.length} models failed (see their rows)\n`);
      process.exitCode = EXIT_CODES.partialFailure;
    }
  },
} satisfies CliCommand<BatchArgs>;


import { extname } from "node:path";
import type { Argv } from "yargs";
import { readModelIds } from "../../batch/read-ids.js";
import { runBatch } from "../../batch/run-batch.js";
import { EXIT_CODES, UsageError } from "../../errors.js";
import { resolveServing } from "../../plan.js";
import { BATCH_FORMATS, renderBatch, type BatchFormat } from "../../report/batch-formats.js";
import { checkOutputFile, writeOutputFile } from "../output-file.js";
import { cliLayout, type CliCommand, type CliIo } from "../output.js";
import { planOptionsFromArgs, withPlanOptions, type PlanArgs } from "../plan-options.js";
import { progressBar, progressLines } from "../progress.js";
import { readInputFile, readStdinOf, STDIN_ARG } from "../read-input.js";
import { cliHubSettings } from "../settings.js";

interface BatchArgs extends PlanArgs {
  file: string;
  format?: BatchFormat;
  out?: string;
  concurrency: number;
}

export const batchCommand = {
  name: "batch",
  command: "batch <file>",
  describe: "Plan a list of models (one id per line, - for stdin) into CSV, JSON Lines, Markdown or a table",
  builder: (yargs: Argv) =>
    withPlanOptions(yargs.positional("file", { type: "string", describe: "File of model ids (org/name[@revision]), or - for stdin", demandOption: true }))
      .option("format", { choices: BATCH_FORMATS, describe: "Output format (default: from --out's extension, .csv .jsonl .md, else table)" })
      .option("out", { type: "string", describe: "Write to this file instead of stdout (atomically); its directory must exist" })
      .option("concurrency", { type: "number", default: 8, describe: "Models fetched at once, over one connection pool" })
      .example("$0 batch models.txt -c 8k --format csv --out plans.csv", "a CSV of every model at 8k tokens")
      .example("cat ids.txt | $0 batch - --gpu H100 --format markdown", "which of them fit an H100"),
  run: async (args: BatchArgs, io: CliIo) => {
    if (!Number.isSafeInteger(args.concurrency) || args.concurrency < 1) throw new UsageError(`--concurrency must be a positive whole number, got ${args.concurrency}`);
    // Checked before any model is planned: a bad path should not cost a whole run.
    if (args.out !== undefined) await checkOutputFile("--out", args.out, "plans.csv");
    const format = args.format ?? formatFromExtension(args.out);
    const text = args.file === STDIN_ARG ? await readStdinOf(io) : await readInputFile(args.file);
    const entries = readModelIds(text, args.revision);
    if (entries.length === 0) throw new UsageError(`${args.file === STDIN_ARG ? "stdin" : args.file} names no model: one org/name per line`);
    const options = planOptionsFromArgs(args);
    const serving = options.serving ? await resolveServing(options.serving) : undefined;
    const progress = io.isTTY ? progressBar(io.stderr) : progressLines(io.stderr, io.now);
    const rows = await runBatch(entries, { plan: options, serving, hub: cliHubSettings(io, args), concurrency: args.concurrency, onProgress: progress.update });
    progress.finish();
    const output = renderBatch(rows, format, cliLayout(io));
    if (args.out) await writeOutputFile(io, "--out", args.out, output);
    else io.stdout(output);
    const failed = rows.filter((row) => row.error).length;
    if (failed > 0) {
      io.stderr(`vramplan: ${failed} of ${rows.length} models failed (see their rows)\n`);
      process.exitCode = EXIT_CODES.partialFailure;
    }
  },
} satisfies CliCommand<BatchArgs>;

const EXTENSION_FORMATS: Readonly<Record<string, BatchFormat>> = { ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".md": "markdown", ".markdown": "markdown" };

/** `--out plans.csv` without --format writes CSV, as the name says. */
function formatFromExtension(out: string | undefined): BatchFormat {
  return (out && EXTENSION_FORMATS[extname(out).toLowerCase()]) || "table";
}

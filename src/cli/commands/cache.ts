import { stat } from "node:fs/promises";
import type { Argv } from "yargs";
import { readModelIds, type BatchEntry } from "../../batch/read-ids.js";
import { runBatch } from "../../batch/run-batch.js";
import { EXIT_CODES, UsageError } from "../../errors.js";
import { listCache } from "../../hub/cache-inventory.js";
import { renderCacheList } from "../../report/cache-list.js";
import type { CliCommand, CliIo } from "../output.js";
import { progressBar } from "../progress.js";
import { readInputFile, readStdinOf, STDIN_ARG } from "../read-input.js";
import { cliHubSettings } from "../settings.js";

interface CacheArgs {
  action: "prefetch" | "ls" | "path";
  models?: string[];
  revision?: string;
  concurrency: number;
  json: boolean;
  debug: boolean;
}

export const cacheCommand = {
  name: "cache",
  command: "cache <action> [models..]",
  describe: "Fill the caches for offline use (prefetch), list what is cached (ls), or show where (path)",
  builder: (yargs: Argv) =>
    yargs
      .positional("action", { choices: ["prefetch", "ls", "path"] as const, describe: "prefetch | ls | path" })
      .positional("models", { type: "string", array: true, describe: "prefetch: model ids, files of ids, or - for stdin" })
      .option("revision", { type: "string", describe: "Branch, tag or commit for ids without @revision" })
      .option("concurrency", { type: "number", default: 8, describe: "prefetch: models fetched at once" })
      .option("json", { type: "boolean", default: false, describe: "ls / path: machine-readable output" })
      .example("$0 cache prefetch Qwen/Qwen2.5-7B meta-llama/Llama-3.1-8B", "fetch configs and tensor headers now, plan offline later")
      .example("$0 cache prefetch models.txt", "every id listed in a file")
      .example("$0 cache ls", "what a run with HF_HUB_OFFLINE=1 can plan"),
  run: async (args: CacheArgs, io: CliIo) => {
    const settings = cliHubSettings(io, args);
    switch (args.action) {
      case "path":
        // The same keys as `cache ls --json`.
        io.stdout(args.json ? JSON.stringify({ hfCacheDir: settings.hfCacheDir, cacheDir: settings.cacheDir }) + "\n" : `${settings.hfCacheDir}\n${settings.cacheDir}\n`);
        return;
      case "ls": {
        const inventory = await listCache(settings);
        io.stdout(args.json ? JSON.stringify(inventory, null, 2) + "\n" : renderCacheList(inventory));
        return;
      }
      case "prefetch": {
        if (settings.offline) throw new UsageError("cache prefetch needs the network: unset HF_HUB_OFFLINE");
        if (!Number.isSafeInteger(args.concurrency) || args.concurrency < 1) throw new UsageError(`--concurrency must be a positive whole number, got ${args.concurrency}`);
        const entries = await prefetchEntries(args.models ?? [], args.revision, io);
        const bar = io.isTTY ? progressBar(io.stderr) : undefined;
        const rows = await runBatch(entries, { hub: settings, concurrency: args.concurrency, ...(bar && { onProgress: bar.update }) });
        bar?.finish();
        // Say what happened to each distinct model: a copy from the built-in set was not fetched and
        // caches nothing, so it counts as a failure, not as cached.
        const distinct = rows.filter((row) => !row.duplicate);
        const fetched = distinct.filter((row) => !row.error && row.source === "hub");
        const alreadyCached = distinct.filter((row) => !row.error && (row.source === "hf-cache" || row.source === "vramplan-cache"));
        const failed = distinct.filter((row) => row.error || row.source === "builtin");
        for (const row of failed) {
          const why = row.error?.message ?? "the Hub could not be reached, so nothing was fetched or cached (vramplan's built-in copy is all it has)";
          io.stderr(`vramplan: ${row.input}: ${why}\n`);
        }
        const duplicates = rows.length - distinct.length;
        const parts = [`fetched ${fetched.length}`, ...(alreadyCached.length > 0 ? [`already cached ${alreadyCached.length} (the Hub was not reached to check them)`] : []), `failed ${failed.length}`];
        io.stdout(`${parts.join(", ")} of ${distinct.length} model${distinct.length === 1 ? "" : "s"}${duplicates > 0 ? ` (${duplicates} repeated id${duplicates === 1 ? "" : "s"} skipped)` : ""}: caches ${settings.hfCacheDir} and ${settings.cacheDir}\n`);
        if (failed.length > 0) process.exitCode = EXIT_CODES.partialFailure;
        return;
      }
    }
  },
} satisfies CliCommand<CacheArgs>;

/** Each argument is a model id, a file of ids, or - (stdin); an existing file wins over an id. */
async function prefetchEntries(sources: readonly string[], revision: string | undefined, io: CliIo): Promise<BatchEntry[]> {
  if (sources.length === 0) throw new UsageError("name the models to prefetch: ids, a file of ids, or - for stdin");
  const entries: BatchEntry[] = [];
  for (const source of sources) {
    if (source === STDIN_ARG) entries.push(...readModelIds(await readStdinOf(io), revision));
    else if (await isFile(source)) entries.push(...readModelIds(await readInputFile(source), revision));
    else entries.push(...readModelIds(source, revision));
  }
  if (entries.length === 0) throw new UsageError("the files given name no model: one org/name per line");
  return entries;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}


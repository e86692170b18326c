import { isVramplanError, type ErrorCode } from "../errors.js";
import { loadModel, type LoadedModel } from "../hub/load-model.js";
import type { HubSettings } from "../hub/settings.js";
import { planLoadedModel, type Plan, type PlanOptions } from "../plan.js";
import type { ServingOptions } from "../serve/serving.js";
import type { BatchEntry } from "./read-ids.js";

export interface BatchRow {
  line: number;
  input: string;
  plan: Plan | null;
  /** Where the model came from: the Hub, the HF cache, or vramplan's built-in set. */
  source: LoadedModel["configSource"] | null;
  /** The row names a model@revision an earlier row already named. */
  duplicate: boolean;
  error: { code: ErrorCode | "internal"; message: string } | null;
}

export interface BatchProgress {
  done: number;
  failed: number;
  total: number;
}

export interface BatchOptions {
  /** Without plan options the models are only loaded, into the caches (cache prefetch). */
  plan?: PlanOptions | undefined;
  serving?: ServingOptions | undefined;
  hub: HubSettings;
  /** Models loaded at once; every request of the run shares one connection pool. */
  concurrency: number;
  onProgress?: (progress: BatchProgress) => void;
}

/**
 * Plans every entry, `concurrency` at a time, rows in input order. The same model@revision
 * named twice is fetched once. A model that fails is a row with its error, never the end of the
 * run.
 */
export async function runBatch(entries: readonly BatchEntry[], options: BatchOptions): Promise<BatchRow[]> {
  const loads = new Map<string, Promise<LoadedModel>>();
  const progress: BatchProgress = { done: 0, failed: 0, total: entries.length };
  const rows: BatchRow[] = new Array(entries.length);
  let next = 0;

  const work = async (entry: BatchEntry): Promise<BatchRow> => {
    if (!entry.ref) return { line: entry.line, input: entry.input, plan: null, source: null, duplicate: false, error: { code: "usage", message: entry.error ?? "invalid model id" } };
    const key = `${entry.ref.id}@${entry.ref.revision}`;
    let load = loads.get(key);
    const duplicate = load !== undefined;
    if (!load) {
      load = loadModel(entry.ref, options.hub);
      loads.set(key, load);
    }
    try {
      const loaded = await load;
      const plan = options.plan ? planLoadedModel(loaded, options.plan, options.serving) : null;
      return { line: entry.line, input: entry.input, plan, source: loaded.configSource, duplicate, error: null };
    } catch (error) {
      options.hub.debug?.(error instanceof Error ? (error.stack ?? error.message) : String(error));
      return {
        line: entry.line,
        input: entry.input,
        plan: null,
        source: null,
        duplicate,
        error: isVramplanError(error) ? { code: error.code, message: error.message } : { code: "internal", message: error instanceof Error ? error.message : String(error) },
      };
    }
  };

  const worker = async () => {
    while (next < entries.length) {
      const index = next++;
      const row = await work(entries[index] as BatchEntry);
      rows[index] = row;
      progress.done += 1;
      if (row.error) progress.failed += 1;
      options.onProgress?.({ ...progress });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, entries.length)) }, worker));
  return rows;
}

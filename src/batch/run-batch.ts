import { isVramplanError, type ErrorCode } from "../errors.js";
import type { GgufRepoPlan } from "../gguf/gguf-plan.js";
import type { GgufRepo } from "../gguf/load-gguf-repo.js";
import type { LoadedModel } from "../hub/load-model.js";
import { loadCheckpoint } from "../load-checkpoint.js";
import type { HubSettings } from "../hub/settings.js";
import type { ModelRef } from "../model-id.js";
import { planLoadedModel, type Plan, type PlanOptions } from "../plan.js";
import { loadGguf, otherRepoKind, planGgufRepoOf, planPipelineOf } from "../plan-repo.js";
import type { LoadedPipeline } from "../diffusers/load-pipeline.js";
import type { PipelinePlan } from "../diffusers/pipeline-plan.js";
import { isGgufFirst, meansNoCheckpoint } from "../repo-kind.js";
import type { ServingOptions } from "../serve/serving.js";
import type { BatchEntry } from "./read-ids.js";

export interface BatchRow {
  line: number;
  input: string;
  /** A transformers checkpoint, a diffusers pipeline or a repo of GGUF files: one router, as `plan` has (plan-repo.ts). */
  kind: "safetensors" | "gguf" | "diffusers" | null;
  plan: Plan | null;
  gguf: GgufRepoPlan | null;
  pipeline: PipelinePlan | null;
  /** Where the model came from: the Hub, a cache, or vramplan's built-in set. */
  source: LoadedModel["configSource"] | "vramplan-cache" | null;
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
  /** Each row as soon as it and every row before it are done: rows stream out in input order. */
  onRow?: (row: BatchRow) => void;
}

/**
 * Plans every entry, `concurrency` at a time, rows in input order. The same model@revision
 * named twice is fetched once. A model that fails is a row with its error, never the end of the
 * run.
 */
type Loaded = { kind: "safetensors"; model: LoadedModel } | { kind: "gguf"; repo: GgufRepo } | { kind: "diffusers"; pipeline: LoadedPipeline };

/** The checkpoint, or when the repo has no config.json a pipeline or GGUF files: the same route as `plan`. */
async function load(ref: ModelRef, hub: HubSettings): Promise<Loaded> {
  if (isGgufFirst(ref.id)) return { kind: "gguf", repo: await loadGguf(ref, hub) };
  try {
    return { kind: "safetensors", model: await loadCheckpoint(ref, hub) };
  } catch (error) {
    if (!meansNoCheckpoint(error)) throw error;
    return otherRepoKind(ref, hub, {}, error);
  }
}

export async function runBatch(entries: readonly BatchEntry[], options: BatchOptions): Promise<BatchRow[]> {
  const loads = new Map<string, Promise<Loaded>>();
  const progress: BatchProgress = { done: 0, failed: 0, total: entries.length };
  const rows: BatchRow[] = new Array(entries.length);
  let next = 0;
  let emitted = 0;

  const work = async (entry: BatchEntry): Promise<BatchRow> => {
    const row = { line: entry.line, input: entry.input, kind: null, plan: null, gguf: null, pipeline: null, source: null, duplicate: false, error: null };
    if (!entry.ref) return { ...row, error: { code: "usage", message: entry.error ?? "invalid model id" } };
    const key = `${entry.ref.id}@${entry.ref.revision}`;
    let loading = loads.get(key);
    const duplicate = loading !== undefined;
    if (!loading) {
      loading = load(entry.ref, options.hub);
      loads.set(key, loading);
    }
    try {
      const loaded = await loading;
      if (loaded.kind === "diffusers") {
        const pipeline = options.plan ? await planPipelineOf(loaded.pipeline, options.plan) : null;
        return { ...row, kind: "diffusers", pipeline, source: loaded.pipeline.source, duplicate };
      }
      if (loaded.kind === "gguf") {
        const gguf = options.plan ? await planGgufRepoOf(loaded.repo, options.plan) : null;
        return { ...row, kind: "gguf", gguf, source: loaded.repo.source, duplicate };
      }
      const plan = options.plan ? planLoadedModel(loaded.model, options.plan, options.serving) : null;
      return { ...row, kind: "safetensors", plan, source: loaded.model.configSource, duplicate };
    } catch (error) {
      options.hub.debug?.(error instanceof Error ? (error.stack ?? error.message) : String(error));
      return {
        ...row,
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
      // Incremented outside the call: an absent onRow?.() would skip evaluating its argument.
      while (emitted < entries.length && rows[emitted] !== undefined) {
        const ready = rows[emitted] as BatchRow;
        emitted += 1;
        options.onRow?.(ready);
      }
      progress.done += 1;
      if (row.error) progress.failed += 1;
      options.onProgress?.({ ...progress });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency, entries.length)) }, worker));
  return rows;
}

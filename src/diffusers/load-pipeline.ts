import { readFile } from "node:fs/promises";
import { MalformedFileError, OfflineNotCachedError, UnsupportedModelError } from "../errors.js";
import { cachedSnapshotFile, readCachedCommit, writeCachedRef, writeSnapshotFile } from "../hub/hf-cache.js";
import { hubClient } from "../hub/hub-client.js";
import { UnreachableError } from "../hub/http.js";
import { toVramplanError, type HubErrorContext } from "../hub/hub-errors.js";
import { cachedCheckpointHeaders } from "../hub/local-safetensors.js";
import { readCachedManifest, writeCachedManifest } from "../hub/manifest-cache.js";
import { fetchRange, fetchWholeFile, headerFromPrefix, HubResponseError, PREFIX_BYTES, shardedHeaders, type RemoteContext } from "../hub/remote.js";
import type { HubSettings } from "../hub/settings.js";
import type { ManifestFile } from "../model/manifest.js";
import { isCommitHash, type ModelRef } from "../model-id.js";
import { MODEL_INDEX_FILE, parsePipelineIndex, type PipelineIndex } from "./pipeline-index.js";

/** The repo has no model_index.json: not a diffusers pipeline (the router tries the next kind). */
export class NotPipelineError extends UnsupportedModelError {
  override readonly name: string = "NotPipelineError";
}

/** Offline with no model_index.json cached: maybe not a pipeline at all (the router tries the next kind). */
export class PipelineNotCachedError extends OfflineNotCachedError {
  override readonly name: string = "PipelineNotCachedError";
}

export interface LoadedPipeline {
  id: string;
  revision: string;
  commit: string | undefined;
  source: "hub" | "hf-cache";
  index: PipelineIndex;
  /** Every component's safetensors headers, paths under its subfolder ("vae/diffusion_pytorch_model.safetensors"). */
  files: ManifestFile[];
  notes: string[];
}

const MAX_INDEX_BYTES = 1_000_000;

/**
 * A pipeline's model_index.json and each weighted component's safetensors headers, read with range
 * requests as a checkpoint's are (never the weights), cached like them: model_index.json in the HF
 * cache, the headers in vramplan's manifest cache under the commit.
 */
export async function loadPipeline(ref: ModelRef, settings: HubSettings): Promise<LoadedPipeline> {
  if (!settings.offline) {
    try {
      return await loadOnline(ref, settings);
    } catch (error) {
      if (!(error instanceof UnreachableError)) throw error;
      return loadOffline(ref, settings, error.reason);
    }
  }
  return loadOffline(ref, settings, "offline");
}

async function loadOnline(ref: ModelRef, settings: HubSettings): Promise<LoadedPipeline> {
  const remote: RemoteContext = { id: ref.id, endpoint: settings.endpoint, fetch: hubClient(settings) };
  const context: HubErrorContext = { id: ref.id, revision: ref.revision, endpoint: settings.endpoint, hasToken: Boolean(settings.token), what: MODEL_INDEX_FILE };
  let fetched;
  try {
    fetched = await fetchWholeFile(remote, ref.revision, MODEL_INDEX_FILE, MAX_INDEX_BYTES);
  } catch (error) {
    if (error instanceof HubResponseError && error.statusCode === 404 && error.errorCode === "EntryNotFound") throw new NotPipelineError(`${ref.id} has no ${MODEL_INDEX_FILE}`);
    throw toVramplanError(error, context);
  }
  const commit = fetched.commit ?? (isCommitHash(ref.revision) ? ref.revision : undefined);
  if (!commit) throw new MalformedFileError(`${settings.endpoint}/${ref.id}`, "the Hub's answer names no commit (X-Repo-Commit): is HF_ENDPOINT a Hugging Face Hub?");
  const index = parsePipelineIndex(new TextDecoder().decode(fetched.bytes), `${ref.id}/${MODEL_INDEX_FILE}`);
  await writeSnapshotFile(settings.hfCacheDir, ref.id, commit, MODEL_INDEX_FILE, fetched.etag, fetched.bytes);
  await writeCachedRef(settings.hfCacheDir, ref.id, ref.revision, commit);

  const cached = await readCachedManifest(settings.cacheDir, ref.id, commit);
  if (cached && "manifest" in cached) return { id: ref.id, revision: ref.revision, commit, source: "hub", index, files: cached.manifest.files, notes: [] };
  let files: ManifestFile[];
  try {
    files = (await Promise.all(index.components.map((component) => componentHeaders(remote, commit, component.weightFiles)))).flat();
  } catch (error) {
    throw toVramplanError(error, { ...context, what: "safetensors headers" });
  }
  await writeCachedManifest(settings.cacheDir, ref.id, commit, { files });
  return { id: ref.id, revision: ref.revision, commit, source: "hub", index, files, notes: [] };
}

/** One component's headers: its single safetensors file, else its index's shards, else none. */
async function componentHeaders(remote: RemoteContext, commit: string, [single, indexPath]: [string, string]): Promise<ManifestFile[]> {
  const [singlePrefix, indexPrefix] = await Promise.all([fetchRange(remote, commit, single, 0, PREFIX_BYTES - 1), fetchRange(remote, commit, indexPath, 0, PREFIX_BYTES - 1)]);
  if (singlePrefix) return [await headerFromPrefix(remote, commit, single, singlePrefix)];
  if (!indexPrefix) return [];
  return shardedHeaders(remote, commit, indexPath, indexPrefix);
}

async function loadOffline(ref: ModelRef, settings: HubSettings, reason: string): Promise<LoadedPipeline> {
  const commit = await readCachedCommit(settings.hfCacheDir, ref.id, ref.revision);
  const indexPath = commit && (await cachedSnapshotFile(settings.hfCacheDir, ref.id, commit, MODEL_INDEX_FILE));
  if (!commit || !indexPath) throw new PipelineNotCachedError(`${reason} and ${ref.id}@${ref.revision} is not in the Hugging Face cache (${settings.hfCacheDir}): run once online, then retry`);
  const index = parsePipelineIndex(await readFile(indexPath, "utf8"), indexPath);
  const notes = reason === "offline" ? [] : [`${reason}: planned from the cache (${ref.revision} was ${commit.slice(0, 7)} when cached)`];
  const cached = await readCachedManifest(settings.cacheDir, ref.id, commit);
  if (cached && "manifest" in cached) return { id: ref.id, revision: ref.revision, commit, source: "hf-cache", index, files: cached.manifest.files, notes };
  // A pipeline `huggingface-cli download` put in the HF cache: its components' files are on disk.
  const local = await Promise.all(index.components.map((component) => cachedCheckpointHeaders(settings.hfCacheDir, ref.id, commit, ...component.weightFiles)));
  if (local.every((files) => files === undefined)) {
    throw new OfflineNotCachedError(`${reason}: the cache holds ${ref.id}'s ${MODEL_INDEX_FILE} at ${commit.slice(0, 7)} but not its components' safetensors headers: plan once online to read them`);
  }
  const files = local.flatMap((component) => component ?? []);
  await writeCachedManifest(settings.cacheDir, ref.id, commit, { files });
  return { id: ref.id, revision: ref.revision, commit, source: "hf-cache", index, files, notes };
}

import { readFile } from "node:fs/promises";
import { MalformedFileError, OfflineNotCachedError } from "../errors.js";
import type { ModelRef } from "../model-id.js";
import { DEFAULT_REVISION, isCommitHash } from "../model-id.js";
import { loadBuiltinFile } from "./builtin.js";
import { cachedSnapshotFile, readCachedCommit, writeCachedRef, writeSnapshotFile } from "./hf-cache.js";
import { hubClient } from "./hub-client.js";
import { UnreachableError } from "./http.js";
import { toVramplanError } from "./hub-errors.js";
import { fetchWholeFile, HubResponseError, type RemoteContext } from "./remote.js";
import type { HubSettings } from "./settings.js";

/**
 * Small whole files of a repo other than config.json (tokenizer files, chat templates), through
 * the same sources as the model: the Hub (stored in the HF cache as huggingface_hub would), the
 * HF cache offline or when the Hub is unreachable, then the built-in set.
 */
export type RepoFileSource = "hub" | "hf-cache" | "builtin";

export interface RepoFiles {
  commit: string | undefined;
  source: RepoFileSource;
  /** Each asked-for path: its bytes, or null when the repo has no such file. */
  files: Map<string, Uint8Array | null>;
  notes: string[];
}

export interface RepoFileRequest {
  /** The first is fetched first: its answer names the commit the others are read at. */
  required: readonly string[];
  /** Read when present; their absence is not an error. */
  optional?: readonly string[];
  /** The commit, when loading the model already resolved it: no revision lookup then. */
  commit?: string | undefined;
  maxBytes: number;
}

export async function loadRepoFiles(ref: ModelRef, settings: HubSettings, request: RepoFileRequest): Promise<RepoFiles> {
  if (!settings.offline) {
    try {
      return await loadOnline(ref, settings, request);
    } catch (error) {
      if (!(error instanceof UnreachableError)) throw error;
      settings.debug?.(error.message);
      return loadOffline(ref, settings, request, `cannot reach ${settings.endpoint}`);
    }
  }
  return loadOffline(ref, settings, request, "offline");
}

async function loadOnline(ref: ModelRef, settings: HubSettings, request: RepoFileRequest): Promise<RepoFiles> {
  const remote: RemoteContext = { id: ref.id, endpoint: settings.endpoint, fetch: hubClient(settings) };
  const first = request.required[0];
  const optional = request.optional ?? [];
  const files = new Map<string, Uint8Array | null>();

  let commit = request.commit ?? (isCommitHash(ref.revision) ? ref.revision : undefined);
  if (!commit) {
    // The first file's answer names the commit; if that commit's files are cached, that is all.
    const fetched = await fetchFile(remote, ref, settings, ref.revision, first as string, request.maxBytes, false);
    commit = fetched.commit;
    if (!commit) throw new MalformedFileError(`${settings.endpoint}/${ref.id}`, "the Hub's answer names no commit (X-Repo-Commit): is HF_ENDPOINT a Hugging Face Hub?");
    files.set(first as string, fetched.bytes);
    await storeFile(settings, ref, commit, first as string, fetched.etag, fetched.bytes);
    await writeCachedRef(settings.hfCacheDir, ref.id, ref.revision, commit);
  }
  const pinned = commit;
  const wanted = [...request.required, ...optional].filter((path) => !files.has(path));
  await Promise.all(
    wanted.map(async (path) => {
      const cached = await cachedSnapshotFile(settings.hfCacheDir, ref.id, pinned, path);
      if (cached) {
        files.set(path, await readFile(cached));
        return;
      }
      const isOptional = !request.required.includes(path);
      const fetched = await fetchFile(remote, ref, settings, pinned, path, request.maxBytes, isOptional);
      files.set(path, fetched.bytes);
      if (fetched.bytes) await storeFile(settings, ref, pinned, path, fetched.etag, fetched.bytes);
    }),
  );
  return { commit: pinned, source: "hub", files, notes: [] };
}

async function fetchFile(
  remote: RemoteContext,
  ref: ModelRef,
  settings: HubSettings,
  revision: string,
  path: string,
  maxBytes: number,
  optional: boolean,
): Promise<{ bytes: Uint8Array | null; commit: string | undefined; etag: string | undefined }> {
  try {
    const fetched = await fetchWholeFile(remote, revision, path, maxBytes);
    return { bytes: fetched.bytes, commit: fetched.commit, etag: fetched.etag };
  } catch (error) {
    if (optional && error instanceof HubResponseError && error.statusCode === 404 && error.errorCode === "EntryNotFound") return { bytes: null, commit: undefined, etag: undefined };
    throw toVramplanError(error, { id: ref.id, revision: ref.revision, endpoint: settings.endpoint, hasToken: Boolean(settings.token), what: path });
  }
}

async function storeFile(settings: HubSettings, ref: ModelRef, commit: string, path: string, etag: string | undefined, bytes: Uint8Array | null): Promise<void> {
  if (bytes) await writeSnapshotFile(settings.hfCacheDir, ref.id, commit, path, etag, bytes);
}

async function loadOffline(ref: ModelRef, settings: HubSettings, request: RepoFileRequest, reason: string): Promise<RepoFiles> {
  const commit = request.commit ?? (await readCachedCommit(settings.hfCacheDir, ref.id, ref.revision));
  const all = [...request.required, ...(request.optional ?? [])];
  if (commit) {
    const paths = await Promise.all(all.map((path) => cachedSnapshotFile(settings.hfCacheDir, ref.id, commit, path)));
    if (request.required.every((path) => paths[all.indexOf(path)] !== undefined)) {
      const files = new Map<string, Uint8Array | null>();
      await Promise.all(all.map(async (path, index) => files.set(path, paths[index] ? await readFile(paths[index] as string) : null)));
      return { commit, source: "hf-cache", files, notes: [] };
    }
  }
  if (ref.revision === DEFAULT_REVISION) {
    const builtin = await Promise.all(all.map((path) => loadBuiltinFile(ref.id, path)));
    if (request.required.every((path) => builtin[all.indexOf(path)] !== undefined)) {
      const files = new Map<string, Uint8Array | null>(all.map((path, index) => [path, builtin[index] ?? null]));
      return { commit: undefined, source: "builtin", files, notes: [`${reason}: ${request.required.join(" and ")} from vramplan's built-in copy of ${ref.id}`] };
    }
  }
  const missing = request.required.join(" and ");
  throw new OfflineNotCachedError(
    `${reason} and ${missing} of ${ref.id}@${ref.revision} are not in the Hugging Face cache (${settings.hfCacheDir}): run once online, or \`huggingface-cli download ${ref.id} ${request.required.join(" ")}\`, then retry`,
  );
}

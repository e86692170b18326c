import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { builtinIdFor } from "../hub/builtin.js";
import { join } from "node:path";
import { OfflineNotCachedError, UnsupportedModelError, UsageError } from "../errors.js";
import { readCachedCommit, writeCachedRef } from "../hub/hf-cache.js";
import { hubClient } from "../hub/hub-client.js";
import { UnreachableError } from "../hub/http.js";
import { toVramplanError } from "../hub/hub-errors.js";
import { failureOf, type RemoteContext } from "../hub/remote.js";
import type { HubSettings } from "../hub/settings.js";
import { DEFAULT_REVISION, type ModelRef } from "../model-id.js";
import { parseGgufListing, readGgufCache, writeGgufCache, type GgufRepoListing } from "./gguf-cache.js";
import { findGgufSet, groupGgufFiles } from "./gguf-files.js";
import { readRemoteGgufHeader } from "./gguf-header.js";

/** A repo with .gguf files but no config.json-based checkpoint: the signal to plan it as GGUF. */
export class NotGgufRepoError extends UnsupportedModelError {
  override readonly name: string = "NotGgufRepoError";
}

export type GgufSource = "hub" | "vramplan-cache" | "builtin";

export interface GgufRepo {
  id: string;
  revision: string;
  commit: string | undefined;
  source: GgufSource;
  /** The sets to plan (all of them, or the one `file` names), each with its headers read. */
  listing: GgufRepoListing;
  notes: string[];
}

/** Header reads at once; each is a few sequential 2 MB range requests. */
const HEADER_CONCURRENCY = 4;
const BUILTIN_ROOT = fileURLToPath(new URL("../../fixtures/hub/", import.meta.url));

export async function loadGgufRepo(ref: ModelRef, settings: HubSettings, options: { file?: string | undefined } = {}): Promise<GgufRepo> {
  if (!settings.offline) {
    try {
      return await loadOnline(ref, settings, options.file);
    } catch (error) {
      if (!(error instanceof UnreachableError)) throw error;
      settings.debug?.(error.message);
      return loadOffline(ref, settings, options.file, `cannot reach ${settings.endpoint}`);
    }
  }
  return loadOffline(ref, settings, options.file, "offline");
}

function pick(listing: GgufRepoListing, id: string, file: string | undefined): GgufRepoListing {
  if (listing.sets.length === 0) throw new NotGgufRepoError(`${id} has no .gguf files`);
  if (!file) return listing;
  const set = findGgufSet(listing.sets, file);
  if (!set) throw new UsageError(`${id} has no GGUF file "${file}": choose one of ${listing.sets.map((candidate) => candidate.quant ?? candidate.name).join(", ")}`);
  return { ...listing, sets: [set] };
}

async function loadOnline(ref: ModelRef, settings: HubSettings, file: string | undefined): Promise<GgufRepo> {
  const fetch = hubClient(settings);
  const remote: RemoteContext = { id: ref.id, endpoint: settings.endpoint, fetch };
  const context = { id: ref.id, revision: ref.revision, endpoint: settings.endpoint, hasToken: Boolean(settings.token) };
  const infoUrl = `${settings.endpoint}/api/models/${ref.id}/revision/${encodeURIComponent(ref.revision)}`;
  let info: { sha?: unknown; siblings?: { rfilename?: unknown }[] };
  try {
    const response = await fetch(infoUrl);
    if (!response.ok) throw await failureOf(response, infoUrl);
    info = (await response.json()) as typeof info;
  } catch (error) {
    throw toVramplanError(error, context);
  }
  const commit = typeof info.sha === "string" && /^[0-9a-f]{40}$/.test(info.sha) ? info.sha : undefined;
  if (!commit) throw new UnsupportedModelError(`${ref.id}: the Hub's model info names no commit: is HF_ENDPOINT a Hugging Face Hub?`);
  const paths = (info.siblings ?? []).map((sibling) => sibling.rfilename).filter((name): name is string => typeof name === "string");
  const { parseGGUFQuantLabel } = await import("@huggingface/tasks");
  const grouped = groupGgufFiles(paths, parseGGUFQuantLabel);

  const cached = await readGgufCache(settings.cacheDir, ref.id, commit);
  const listing: GgufRepoListing = {
    projectors: grouped.projectors,
    sets: grouped.sets.map((set) => ({ ...set, headers: cached?.sets.find((entry) => entry.name === set.name)?.headers ?? null })),
  };
  const wanted = pick(listing, ref.id, file);
  const unread = wanted.sets.filter((set) => set.headers === null);
  let next = 0;
  const worker = async () => {
    while (next < unread.length) {
      const set = unread[next++] as (typeof unread)[number];
      try {
        set.headers = await Promise.all(set.files.map((path) => readRemoteGgufHeader(remote, commit, path)));
      } catch (error) {
        throw toVramplanError(error, { ...context, what: set.files[0] as string });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(HEADER_CONCURRENCY, unread.length) }, worker));
  if (unread.length > 0 || !cached) await writeGgufCache(settings.cacheDir, ref.id, commit, listing);
  await writeCachedRef(settings.hfCacheDir, ref.id, ref.revision, commit);
  return { id: ref.id, revision: ref.revision, commit, source: "hub", listing: wanted, notes: [] };
}

async function loadOffline(ref: ModelRef, settings: HubSettings, file: string | undefined, reason: string): Promise<GgufRepo> {
  const commit = await readCachedCommit(settings.hfCacheDir, ref.id, ref.revision);
  const cached = commit ? await readGgufCache(settings.cacheDir, ref.id, commit) : undefined;
  if (cached) {
    const wanted = pick(cached, ref.id, file);
    if (wanted.sets.every((set) => set.headers !== null)) {
      const notes = reason === "offline" ? [] : [`${reason}: planned from the cache`];
      return { id: ref.id, revision: ref.revision, commit, source: "vramplan-cache", listing: wanted, notes };
    }
  }
  const builtin = ref.revision === DEFAULT_REVISION ? await loadBuiltinGguf(ref.id) : undefined;
  if (builtin) {
    return { id: ref.id, revision: ref.revision, commit: undefined, source: "builtin", listing: pick(builtin, ref.id, file), notes: [`${reason}: planned from vramplan's built-in copy of ${ref.id}'s GGUF headers`] };
  }
  throw new OfflineNotCachedError(`${reason} and the GGUF headers of ${ref.id}@${ref.revision} are not cached: plan ${ref.id}${file ? ` (${file})` : ""} once online, then retry`);
}

export async function loadBuiltinGguf(id: string): Promise<GgufRepoListing | undefined> {
  const path = join(BUILTIN_ROOT, ...(await builtinIdFor(id)).split("/"), "gguf.json");
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  return parseGgufListing(text, `built-in ${id}/gguf.json`);
}

import { MalformedFileError } from "../errors.js";
import type { TensorManifest } from "../model/manifest.js";
import { manifestFileFromHeader } from "./safetensors-header.js";

/**
 * Everything that asks the Hub, through @huggingface/hub and the injected fetch (http.ts).
 * The package is loaded on first use, so offline runs never pay for it.
 */

export interface RemoteContext {
  id: string;
  endpoint: string;
  fetch: typeof fetch;
}

export interface ResolvedRevision {
  commit: string;
  files: string[];
  gated: false | "auto" | "manual";
}

const hubModule = () => import("@huggingface/hub");

/**
 * One request: the commit a revision points to, and the repo's file list. The Hub's model-info
 * endpoint (what @huggingface/hub's modelInfo calls), asked directly: a warm run needs nothing
 * else from the Hub, and this keeps that package unloaded for it.
 */
export async function resolveRevision(context: RemoteContext, revision: string): Promise<ResolvedRevision> {
  const url = `${context.endpoint}/api/models/${context.id}/revision/${encodeURIComponent(revision)}?expand=sha&expand=siblings&expand=gated`;
  const response = await context.fetch(url, { headers: { Accept: "application/json" } });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) throw new HubResponseError(response.status, url, body);
  const info = (body ?? {}) as { sha?: unknown; siblings?: { rfilename?: unknown }[]; gated?: unknown };
  if (typeof info.sha !== "string" || !/^[0-9a-f]{40}$/.test(info.sha)) {
    throw new MalformedFileError(`${context.endpoint}/api/models/${context.id}`, "model info has no commit sha: is HF_ENDPOINT a Hugging Face Hub?");
  }
  const files = (Array.isArray(info.siblings) ? info.siblings : []).map((sibling) => sibling?.rfilename).filter((name): name is string => typeof name === "string");
  const gated = info.gated === "auto" || info.gated === "manual" ? info.gated : false;
  return { commit: info.sha, files, gated };
}

/** A non-2xx answer, shaped like @huggingface/hub's HubApiError so one mapper handles both. */
export class HubResponseError extends Error {
  override readonly name = "HubResponseError";
  constructor(
    readonly statusCode: number,
    readonly url: string,
    readonly data: unknown,
  ) {
    super(`HTTP ${statusCode}`);
  }
}

/**
 * Downloads a file into the HF cache layout, pinned to `commit`. @huggingface/hub announces
 * downloads with console.debug, which writes to stdout; it is silenced here so --json output
 * stays clean.
 */
export async function downloadToHfCache(context: RemoteContext, commit: string, path: string, hfCacheDir: string): Promise<string> {
  const { downloadFileToCacheDir } = await hubModule();
  return withQuietConsole(() =>
    downloadFileToCacheDir({ repo: context.id, path, revision: commit, hubUrl: context.endpoint, fetch: context.fetch, cacheDir: hfCacheDir }),
  );
}

/** Reads every safetensors header of the checkpoint with range requests (all shards in parallel). */
export async function fetchRemoteManifest(context: RemoteContext, commit: string, path: string): Promise<TensorManifest> {
  const { parseSafetensorsMetadata } = await hubModule();
  const parsed = await parseSafetensorsMetadata({ repo: context.id, revision: commit, path, hubUrl: context.endpoint, fetch: context.fetch });
  if (!parsed.sharded) return { files: [manifestFileFromHeader(path, parsed.header)] };
  const prefix = path.slice(0, path.lastIndexOf("/") + 1);
  return {
    files: Object.entries(parsed.headers).map(([file, header]) => manifestFileFromHeader(prefix + file, header)),
  };
}

let quietDepth = 0;
let savedDebug: typeof console.debug | undefined;
let savedInfo: typeof console.info | undefined;

async function withQuietConsole<T>(run: () => Promise<T>): Promise<T> {
  if (quietDepth++ === 0) {
    savedDebug = console.debug;
    savedInfo = console.info;
    console.debug = () => undefined;
    console.info = () => undefined;
  }
  try {
    return await run();
  } finally {
    if (--quietDepth === 0) {
      console.debug = savedDebug ?? console.debug;
      console.info = savedInfo ?? console.info;
    }
  }
}

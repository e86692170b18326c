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

/** One request: the commit a revision points to, and the repo's file list. */
export async function resolveRevision(context: RemoteContext, revision: string): Promise<ResolvedRevision> {
  const { modelInfo } = await hubModule();
  const info = await modelInfo({
    name: context.id,
    revision,
    hubUrl: context.endpoint,
    fetch: context.fetch,
    additionalFields: ["sha", "filePaths"],
  });
  const commit: unknown = info.sha;
  if (typeof commit !== "string" || !/^[0-9a-f]{40}$/.test(commit)) {
    throw new MalformedFileError(`${context.endpoint}/api/models/${context.id}`, "model info has no commit sha: is HF_ENDPOINT a Hugging Face Hub?");
  }
  const files = (info.filePaths ?? []).filter((name): name is string => typeof name === "string");
  return { commit, files, gated: info.gated ?? false };
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

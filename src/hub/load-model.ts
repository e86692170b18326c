import { readFile, realpath, rm } from "node:fs/promises";
import { OfflineNotCachedError, UnsupportedModelError, isVramplanError } from "../errors.js";
import type { TensorManifest } from "../model/manifest.js";
import type { ModelRef } from "../model-id.js";
import { DEFAULT_REVISION } from "../model-id.js";
import type { RawConfig } from "../model/raw-config.js";
import { loadBuiltinModel } from "./builtin.js";
import { cachedSnapshotFile, readCachedCommit, writeCachedRef } from "./hf-cache.js";
import { createHubFetch, UnreachableError } from "./http.js";
import { toVramplanError, type HubErrorContext } from "./hub-errors.js";
import { readLocalSafetensorsHeader } from "./local-safetensors.js";
import { readCachedManifest, writeCachedManifest } from "./manifest-cache.js";
import { parseConfigText } from "./parse-config.js";
import { downloadToHfCache, fetchRemoteManifest, resolveRevision, type RemoteContext } from "./remote.js";
import type { HubSettings } from "./settings.js";

/** Where the config came from: the Hub, the Hugging Face cache, or vramplan's built-in set. */
export type ConfigSource = "hub" | "hf-cache" | "builtin";
/** Where the tensor manifest came from. */
export type ManifestSource = "hub" | "vramplan-cache" | "hf-cache" | "builtin";

export interface LoadedModel {
  id: string;
  revision: string;
  /** The commit the revision resolved to; undefined for the built-in copy. */
  commit: string | undefined;
  configSource: ConfigSource;
  config: RawConfig;
  manifest: TensorManifest | undefined;
  manifestSource: ManifestSource | undefined;
  /** One-line facts the user should see (fallbacks, missing headers). */
  notes: string[];
}

const CONFIG_FILE = "config.json";
const SINGLE_CHECKPOINT = "model.safetensors";
const SHARDED_INDEX = "model.safetensors.index.json";

/**
 * Fetches what a plan needs for one model: config.json (into the HF cache) and the tensor
 * manifest (into vramplan's cache), pinned to the commit the revision resolves to. Online it asks
 * the Hub; offline, or when the Hub cannot be reached, it reads the caches, then the built-in set.
 */
export async function loadModel(ref: ModelRef, settings: HubSettings): Promise<LoadedModel> {
  if (!settings.offline) {
    try {
      return await loadOnline(ref, settings);
    } catch (error) {
      if (!(error instanceof UnreachableError)) throw error;
      settings.debug?.(error.message);
      return loadOffline(ref, settings, `cannot reach ${settings.endpoint}`, { announce: true });
    }
  }
  return loadOffline(ref, settings, "offline");
}

async function loadOnline(ref: ModelRef, settings: HubSettings): Promise<LoadedModel> {
  const fetch = createHubFetch({
    endpoint: settings.endpoint,
    token: settings.token,
    ...(settings.timeoutMs !== undefined && { timeoutMs: settings.timeoutMs }),
    ...(settings.transport && { transport: settings.transport }),
    onRetry: (event) => settings.debug?.(`retrying ${event.url} in ${event.delayMs} ms (${event.reason}, attempt ${event.attempt})`),
  });
  const remote: RemoteContext = { id: ref.id, endpoint: settings.endpoint, fetch };
  const errorContext: HubErrorContext = { id: ref.id, revision: ref.revision, endpoint: settings.endpoint, hasToken: Boolean(settings.token) };
  const guard = async <T>(run: () => Promise<T>, what?: string): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw toVramplanError(error, what ? { ...errorContext, what } : errorContext);
    }
  };

  const resolved = await guard(() => resolveRevision(remote, ref.revision));
  errorContext.gated = resolved.gated;
  const { commit } = resolved;
  settings.debug?.(`${ref.id}@${ref.revision} is commit ${commit}`);
  if (!resolved.files.includes(CONFIG_FILE)) {
    throw new UnsupportedModelError(`${ref.id} has no config.json: vramplan plans transformers checkpoints (GGUF-only repos are not supported yet)`, CONFIG_FILE);
  }

  const configPath = await guard(() => downloadToHfCache(remote, commit, CONFIG_FILE, settings.hfCacheDir), CONFIG_FILE);
  await writeCachedRef(settings.hfCacheDir, ref.id, ref.revision, commit);
  const config = await readConfigFile(configPath, `${ref.id}/${CONFIG_FILE}`);

  const notes: string[] = [];
  const cached = await cachedManifest(ref.id, commit, settings, notes);
  if (cached) return { ...base(ref, commit, "hub", config, notes), ...cached };

  const checkpoint = resolved.files.includes(SINGLE_CHECKPOINT) ? SINGLE_CHECKPOINT : resolved.files.includes(SHARDED_INDEX) ? SHARDED_INDEX : undefined;
  if (!checkpoint) {
    notes.push(`${ref.id} has no ${SINGLE_CHECKPOINT} or ${SHARDED_INDEX}: weights are derived from config.json`);
    return { ...base(ref, commit, "hub", config, notes), manifest: undefined, manifestSource: undefined };
  }
  const manifest = await guard(() => fetchRemoteManifest(remote, commit, checkpoint), checkpoint);
  await writeCachedManifest(settings.cacheDir, ref.id, commit, manifest);
  return { ...base(ref, commit, "hub", config, notes), manifest, manifestSource: "hub" };
}

async function loadOffline(ref: ModelRef, settings: HubSettings, reason: string, options: { announce?: boolean } = {}): Promise<LoadedModel> {
  const commit = await readCachedCommit(settings.hfCacheDir, ref.id, ref.revision);
  const configPath = commit && (await cachedSnapshotFile(settings.hfCacheDir, ref.id, commit, CONFIG_FILE));
  if (commit && configPath) {
    const config = await readConfigFile(configPath, configPath);
    // Asked for offline, the user knows; fallen back to it, they should be told.
    const notes = options.announce ? [`${reason}: planned from the cache (${ref.revision} was ${commit.slice(0, 7)} when cached)`] : [];
    const cached = await cachedManifest(ref.id, commit, settings, notes);
    if (cached) return { ...base(ref, commit, "hf-cache", config, notes), ...cached };
    notes.push(`no safetensors headers cached for ${ref.id} at ${commit.slice(0, 7)}: weights are derived from config.json`);
    return { ...base(ref, commit, "hf-cache", config, notes), manifest: undefined, manifestSource: undefined };
  }

  const builtin = ref.revision === DEFAULT_REVISION ? await loadBuiltinModel(ref.id) : undefined;
  if (builtin) {
    const notes = [`${reason}: planned from vramplan's built-in copy of ${ref.id} (no cache has it)`];
    return { ...base(ref, undefined, "builtin", builtin.config, notes), manifest: builtin.manifest, manifestSource: builtin.manifest ? "builtin" : undefined };
  }
  throw new OfflineNotCachedError(
    `${reason} and ${ref.id}@${ref.revision} is not in the Hugging Face cache (${settings.hfCacheDir}): run once online, or \`huggingface-cli download ${ref.id} config.json\`, then retry`,
  );
}

function base(ref: ModelRef, commit: string | undefined, configSource: ConfigSource, config: RawConfig, notes: string[]) {
  return { id: ref.id, revision: ref.revision, commit, configSource, config, notes };
}

/** The manifest from vramplan's cache, else from safetensors files already in the HF cache. */
async function cachedManifest(
  id: string,
  commit: string,
  settings: HubSettings,
  notes: string[],
): Promise<{ manifest: TensorManifest; manifestSource: ManifestSource } | undefined> {
  const own = await readCachedManifest(settings.cacheDir, id, commit);
  if (own && "manifest" in own) return { manifest: own.manifest, manifestSource: "vramplan-cache" };
  if (own && "corrupt" in own) notes.push(`discarded a corrupt cache entry (${own.corrupt})`);

  const local = await localManifest(id, commit, settings.hfCacheDir);
  if (!local) return undefined;
  await writeCachedManifest(settings.cacheDir, id, commit, local);
  return { manifest: local, manifestSource: "hf-cache" };
}

/** Headers read from safetensors files `huggingface-cli download` already put on disk. */
async function localManifest(id: string, commit: string, hfCacheDir: string): Promise<TensorManifest | undefined> {
  const single = await cachedSnapshotFile(hfCacheDir, id, commit, SINGLE_CHECKPOINT);
  if (single) return { files: [await readLocalSafetensorsHeader(single, SINGLE_CHECKPOINT)] };

  const indexPath = await cachedSnapshotFile(hfCacheDir, id, commit, SHARDED_INDEX);
  if (!indexPath) return undefined;
  let shards: string[];
  try {
    const index = JSON.parse(await readFile(indexPath, "utf8")) as { weight_map?: Record<string, unknown> };
    shards = [...new Set(Object.values(index.weight_map ?? {}).filter((v): v is string => typeof v === "string"))];
  } catch {
    return undefined;
  }
  if (shards.length === 0 || shards.some((shard) => shard.includes("..") || shard.startsWith("/"))) return undefined;
  const paths = await Promise.all(shards.map((shard) => cachedSnapshotFile(hfCacheDir, id, commit, shard)));
  if (paths.some((path) => path === undefined)) return undefined;
  return { files: await Promise.all(shards.map((shard, i) => readLocalSafetensorsHeader(paths[i] as string, shard))) };
}

/** Reads a cached config.json; a corrupt one is removed so the next online run fetches it again. */
async function readConfigFile(path: string, displayName: string): Promise<RawConfig> {
  const text = await readFile(path, "utf8");
  try {
    return parseConfigText(text, displayName);
  } catch (error) {
    if (isVramplanError(error)) {
      // Remove the blob too: a snapshot link re-created to the same corrupt blob would not help.
      const blob = await realpath(path).catch(() => path);
      await rm(path, { force: true });
      if (blob !== path) await rm(blob, { force: true });
    }
    throw error;
  }
}

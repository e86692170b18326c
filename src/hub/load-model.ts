import { readFile } from "node:fs/promises";
import { MalformedFileError, OfflineNotCachedError } from "../errors.js";
import type { TensorManifest } from "../model/manifest.js";
import type { SentenceTransformerPlan } from "../model/sentence-transformers.js";
import type { ModelRef } from "../model-id.js";
import { DEFAULT_REVISION, isCommitHash } from "../model-id.js";
import type { RawConfig } from "../model/raw-config.js";
import { loadBuiltinModel } from "./builtin.js";
import { cachedSnapshotFile, readCachedCommit, writeCachedRef, writeSnapshotFile } from "./hf-cache.js";
import { hubClient } from "./hub-client.js";
import { UnreachableError } from "./http.js";
import { toVramplanError, type HubErrorContext } from "./hub-errors.js";
import { cachedCheckpointHeaders } from "./local-safetensors.js";
import { readCachedManifest, writeCachedManifest } from "./manifest-cache.js";
import { MAX_CONFIG_BYTES, parseConfigText } from "./parse-config.js";
import { fetchRange, fetchWholeFile, headerFromPrefix, PREFIX_BYTES, shardedHeaders, type FetchedFile, type RemoteContext } from "./remote.js";
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
  /** An encoder's sentence-transformers modules (pooling, Dense layers), when the repo has modules.json. */
  sentenceTransformers?: SentenceTransformerPlan;
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
      return loadOffline(ref, settings, error.reason, { announce: true }).catch((fallback: unknown) => {
        // No copy to fall back to: a Hub that answered, slowly or with errors, is a network
        // failure (exit 5); one that could not be reached at all is "not cached" (exit 6).
        throw fallback instanceof OfflineNotCachedError && !error.refused ? error : fallback;
      });
    }
  }
  return loadOffline(ref, settings, "offline");
}

/**
 * Online: one round trip for most models. config.json (whose answer names the commit the revision
 * points to) and the first bytes of model.safetensors and model.safetensors.index.json are asked
 * for at once; a sharded checkpoint's shard headers follow together in a second round trip. When
 * the caches already hold the tensor manifest of the commit the revision last pointed to, only
 * config.json is asked for.
 */
async function loadOnline(ref: ModelRef, settings: HubSettings): Promise<LoadedModel> {
  const remote: RemoteContext = { id: ref.id, endpoint: settings.endpoint, fetch: hubClient(settings) };
  const errorContext: HubErrorContext = { id: ref.id, revision: ref.revision, endpoint: settings.endpoint, hasToken: Boolean(settings.token) };
  const guard = async <T>(run: () => Promise<T>, what?: string): Promise<T> => {
    try {
      return await run();
    } catch (error) {
      throw toVramplanError(error, what ? { ...errorContext, what } : errorContext);
    }
  };

  const notes: string[] = [];
  const lastCommit = await readCachedCommit(settings.hfCacheDir, ref.id, ref.revision);
  const warm = lastCommit ? await cachedManifest(ref.id, lastCommit, settings, notes) : undefined;
  // Speculative reads at the revision; their answers are checked against the config's commit.
  const speculative = warm ? undefined : checkpointPrefixes(remote, ref.revision);

  const fetched = await guard(() => fetchWholeFile(remote, ref.revision, CONFIG_FILE, MAX_CONFIG_BYTES), CONFIG_FILE);
  const commit = fetched.commit ?? (isCommitHash(ref.revision) ? ref.revision : undefined);
  if (!commit) throw new MalformedFileError(`${settings.endpoint}/${ref.id}`, "the Hub's answer names no commit (X-Repo-Commit): is HF_ENDPOINT a Hugging Face Hub?");
  settings.debug?.(`${ref.id}@${ref.revision} is commit ${commit}`);
  // Checked before it is cached: the cache only ever holds configs that parse.
  const config = parseConfigText(new TextDecoder().decode(fetched.bytes), `${ref.id}/${CONFIG_FILE}`, "the repo's config.json is broken as the Hub serves it (nothing was cached): its owner has to fix it; pick another revision with @revision meanwhile");
  await writeSnapshotFile(settings.hfCacheDir, ref.id, commit, CONFIG_FILE, fetched.etag, fetched.bytes);
  await writeCachedRef(settings.hfCacheDir, ref.id, ref.revision, commit);

  const cached = commit === lastCommit ? warm : await cachedManifest(ref.id, commit, settings, notes);
  if (cached) return { ...base(ref, commit, "hub", config, notes), ...cached };

  // Read at the revision before we knew its commit: valid only if it still points there.
  const prefixes = speculative && (await sameCommit(speculative, commit)) ? speculative : checkpointPrefixes(remote, commit);
  const manifest = await guard(() => remoteManifest(remote, commit, prefixes), SINGLE_CHECKPOINT);
  if (!manifest) {
    // Why only: what follows from it (weights derived from config.json) is the plan's warning.
    notes.push(`${ref.id} has no ${SINGLE_CHECKPOINT} or ${SHARDED_INDEX} on the Hub`);
    return { ...base(ref, commit, "hub", config, notes), manifest: undefined, manifestSource: undefined };
  }
  await writeCachedManifest(settings.cacheDir, ref.id, commit, manifest);
  return { ...base(ref, commit, "hub", config, notes), manifest, manifestSource: "hub" };
}

interface CheckpointPrefixes {
  single: Promise<FetchedFile | null>;
  index: Promise<FetchedFile | null>;
}

function checkpointPrefixes(remote: RemoteContext, revision: string): CheckpointPrefixes {
  const single = fetchRange(remote, revision, SINGLE_CHECKPOINT, 0, PREFIX_BYTES - 1);
  const index = fetchRange(remote, revision, SHARDED_INDEX, 0, PREFIX_BYTES - 1);
  // Marked as handled now: they may fail before anyone awaits them (the repo does not exist, the
  // config request failed first), and whoever awaits them later still sees the error.
  single.catch(() => undefined);
  index.catch(() => undefined);
  return { single, index };
}

async function sameCommit(prefixes: CheckpointPrefixes, commit: string): Promise<boolean> {
  const answers = await Promise.allSettled([prefixes.single, prefixes.index]);
  return answers.every((answer) => answer.status === "rejected" || answer.value === null || answer.value.commit === undefined || answer.value.commit === commit);
}

/** The manifest from the checkpoint's headers, or null when the repo has no safetensors files. */
async function remoteManifest(remote: RemoteContext, commit: string, prefixes: CheckpointPrefixes): Promise<TensorManifest | null> {
  const [single, index] = await Promise.all([prefixes.single, prefixes.index.catch((error: unknown) => error)]);
  if (single) return { files: [await headerFromPrefix(remote, commit, SINGLE_CHECKPOINT, single)] };
  if (index instanceof Error) throw index;
  if (!index) return null;
  const files = await shardedHeaders(remote, commit, SHARDED_INDEX, index as FetchedFile);
  return { files };
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
    notes.push(`the cache holds config.json of ${ref.id} at ${commit.slice(0, 7)} but no safetensors headers: plan once online to read them`);
    return { ...base(ref, commit, "hf-cache", config, notes), manifest: undefined, manifestSource: undefined };
  }

  const builtin = ref.revision === DEFAULT_REVISION ? await loadBuiltinModel(ref.id) : undefined;
  if (builtin) {
    const notes = [`${reason}: planned from vramplan's built-in copy of ${ref.id} (no cache has it)`];
    return { ...base(ref, undefined, "builtin", builtin.config, notes), manifest: builtin.manifest, manifestSource: builtin.manifest ? "builtin" : undefined };
  }
  throw new OfflineNotCachedError(
    `${reason} and ${ref.id}@${ref.revision} is not in the Hugging Face cache (${settings.hfCacheDir}): run once online, or \`huggingface-cli download ${ref.id} config.json\` (for a diffusers pipeline: \`huggingface-cli download ${ref.id}\`), then retry`,
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
  const files = await cachedCheckpointHeaders(hfCacheDir, id, commit, SINGLE_CHECKPOINT, SHARDED_INDEX);
  return files && { files };
}

/**
 * Reads a cached config.json. One that does not parse is reported and left where it is: vramplan
 * never writes a config it has not parsed, so a broken one was broken or written by someone else
 * after, and is theirs to fix. The next online run replaces it with the Hub's copy.
 */
async function readConfigFile(path: string, displayName: string): Promise<RawConfig> {
  const text = await readFile(path, "utf8");
  return parseConfigText(text, displayName, "the cached file is left as it is: fix or delete it, or plan once online to replace it with the Hub's copy");
}

import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { manifestPath, readCachedManifest } from "./manifest-cache.js";
import type { HubSettings } from "./settings.js";

/** One cached model revision, as both caches know it. */
export interface CachedRevision {
  id: string;
  commit: string;
  /** Branches and tags that resolve to this commit in the HF cache (`refs/`). */
  refs: string[];
  /** Files of the snapshot in the HF cache (config.json, the shard index, weights if downloaded). */
  files: string[];
  /** Bytes of those files on disk. */
  hfCacheBytes: number;
  /** What vramplan's own manifest says: tensor count and the sum of their stored bytes. */
  manifest: { tensors: number; weightBytes: number; path: string } | { corrupt: string } | null;
}

export interface CacheInventory {
  hfCacheDir: string;
  cacheDir: string;
  revisions: CachedRevision[];
  /** Repos the HF cache scanner could not read (half-deleted folders, foreign files). */
  warnings: string[];
}

/**
 * Lists what is cached for offline use: the HF cache through @huggingface/hub's own scanner (the
 * layout huggingface-cli fills), joined with vramplan's manifests by model and commit. Loaded only
 * here: no plan pays for importing the Hub client.
 */
export async function listCache(settings: Pick<HubSettings, "hfCacheDir" | "cacheDir">): Promise<CacheInventory> {
  const byKey = new Map<string, CachedRevision>();
  const warnings: string[] = [];
  const entry = (id: string, commit: string): CachedRevision => {
    const key = `${id}@${commit}`;
    let revision = byKey.get(key);
    if (!revision) {
      revision = { id, commit, refs: [], files: [], hfCacheBytes: 0, manifest: null };
      byKey.set(key, revision);
    }
    return revision;
  };

  const { scanCacheDir } = await import("@huggingface/hub");
  try {
    const scanned = await scanCacheDir(settings.hfCacheDir);
    for (const repo of scanned.repos) {
      if (repo.id.type !== "model") continue;
      for (const cached of repo.revisions) {
        const revision = entry(repo.id.name, cached.commitOid);
        revision.refs = [...cached.refs].sort();
        revision.files = cached.files.map((file) => relativeToSnapshot(file.path, cached.path)).sort();
        revision.hfCacheBytes = cached.size;
      }
    }
    warnings.push(...scanned.warnings.map((warning) => warning.message));
  } catch (error) {
    // No HF cache yet is an empty cache, not an error.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }

  for (const { id, commit } of await listManifestKeys(settings.cacheDir)) entry(id, commit);
  await Promise.all(
    [...byKey.values()].map(async (revision) => {
      const cached = await readCachedManifest(settings.cacheDir, revision.id, revision.commit);
      if (!cached) return;
      if ("corrupt" in cached) {
        revision.manifest = { corrupt: cached.corrupt };
        return;
      }
      const tensors = cached.manifest.files.flatMap((file) => file.tensors);
      revision.manifest = {
        tensors: tensors.length,
        weightBytes: tensors.reduce((sum, tensor) => sum + tensor.bytes, 0),
        path: manifestPath(settings.cacheDir, revision.id, revision.commit),
      };
    }),
  );

  const revisions = [...byKey.values()].sort((a, b) => a.id.localeCompare(b.id) || a.commit.localeCompare(b.commit));
  return { hfCacheDir: settings.hfCacheDir, cacheDir: settings.cacheDir, revisions, warnings };
}

function relativeToSnapshot(path: string, snapshot: string): string {
  return path.startsWith(snapshot) ? path.slice(snapshot.length).replace(/^[\\/]+/, "") : path;
}

/** (model, commit) pairs with a manifest file, from the folder names manifestPath() writes. */
async function listManifestKeys(cacheDir: string): Promise<{ id: string; commit: string }[]> {
  const root = join(cacheDir, "manifests");
  let folders: string[];
  try {
    folders = await readdir(root);
  } catch {
    return [];
  }
  const keys: { id: string; commit: string }[] = [];
  for (const folder of folders) {
    if (!folder.startsWith("models--")) continue;
    const id = folder.slice("models--".length).replace("--", "/");
    let files: string[];
    try {
      files = await readdir(join(root, folder));
    } catch {
      continue;
    }
    // An interrupted write leaves only a `<commit>.json.<pid>….tmp` sibling; finished manifests count.
    for (const file of files) if (/^[0-9a-f]{40}\.json$/.test(file)) keys.push({ id, commit: file.slice(0, -".json".length) });
  }
  return keys;
}

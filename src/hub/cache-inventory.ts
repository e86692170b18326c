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
  /** Folders the HF cache scanner could not read (half-deleted downloads, stray refs, foreign files), in words. */
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
    warnings.push(...scanned.warnings.map((warning) => describeScanWarning(warning, settings.hfCacheDir)));
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

/**
 * The scanner's errors in words, one line each, paths relative to the cache: it skips a whole repo
 * folder for one bad entry, so each says which folder and what is wrong with it.
 */
export function describeScanWarning(warning: unknown, hfCacheDir: string): string {
  const message = warning instanceof Error ? warning.message : String(warning);
  const relative = (path: string) => (path.startsWith(hfCacheDir) ? path.slice(hfCacheDir.length).replace(/^[\\/]+/, "") : path);
  const folderOf = (path: string) => relative(path).split(/[\\/]/)[0] ?? path;
  const missingCommits = /^Reference\(s\) refer to missing commit hashes: (.*) \((.*)\)$/s.exec(message);
  if (missingCommits) {
    let refs: Record<string, string[]> = {};
    try {
      refs = JSON.parse(missingCommits[1] as string) as Record<string, string[]>;
    } catch {
      // Described generically below.
    }
    const pointers = Object.entries(refs).map(([commit, names]) => `refs/${names.join(", refs/")} → ${JSON.stringify(commit)}`);
    return `${folderOf(missingCommits[2] as string)}: skipped, its ${pointers.join("; ") || "refs"} name${pointers.length === 1 ? "s" : ""} no snapshot in the cache`;
  }
  const missingFile = /^ENOENT: no such file or directory, (?:stat|lstat|open|realpath) '(.*)'$/s.exec(message);
  if (missingFile) return `${folderOf(missingFile[1] as string)}: skipped, ${relative(missingFile[1] as string)} is missing (a link to a deleted or unfinished download)`;
  const notRepo = /^Repo path is not a valid HuggingFace cache directory: (.*)$/s.exec(message);
  if (notRepo) return `${notRepo[1]}: skipped, not a Hugging Face cache folder`;
  const noSnapshots = /^Snapshots dir doesn't exist in cached repo (.*)$/s.exec(message);
  if (noSnapshots) return `${folderOf(noSnapshots[1] as string)}: skipped, it has no snapshots/ folder`;
  const fileSnapshot = /^Snapshots folder corrupted\. Found a file: (.*)$/s.exec(message);
  if (fileSnapshot) return `${folderOf(fileSnapshot[1] as string)}: skipped, ${relative(fileSnapshot[1] as string)} is a file where a snapshot folder belongs`;
  return `skipped a folder the scanner could not read: ${JSON.stringify(message).slice(1, -1)}`;
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

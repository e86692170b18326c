import { access, readFile, readdir } from "node:fs/promises";
import { join } from "node:path";
import { isCommitHash } from "../model-id.js";
import { writeFileAtomic } from "../util/atomic-write.js";

/*
 * The Hugging Face hub cache layout, as huggingface_hub and @huggingface/hub write it:
 *   models--org--name/refs/<revision>            the commit a branch or tag pointed to
 *   models--org--name/snapshots/<commit>/<path>  symlinks into blobs/
 * Written here by hand rather than through @huggingface/hub because the offline path needs only
 * these few lookups, and loading that package costs more than the whole offline plan.
 */

export function repoFolder(hfCacheDir: string, id: string): string {
  return join(hfCacheDir, `models--${id.replaceAll("/", "--")}`);
}

export function snapshotFolder(hfCacheDir: string, id: string, commit: string): string {
  return join(repoFolder(hfCacheDir, id), "snapshots", commit);
}

/** The commit a revision resolves to in the cache, or undefined when the cache does not know it. */
export async function readCachedCommit(hfCacheDir: string, id: string, revision: string): Promise<string | undefined> {
  if (isCommitHash(revision)) {
    return (await exists(snapshotFolder(hfCacheDir, id, revision))) ? revision : undefined;
  }
  try {
    const commit = (await readFile(join(repoFolder(hfCacheDir, id), "refs", revision), "utf8")).trim();
    return isCommitHash(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Records which commit a revision resolved to, so huggingface_hub (and our offline mode) can find
 * the snapshot later. @huggingface/hub's downloadFileToCacheDir does not write it.
 */
export async function writeCachedRef(hfCacheDir: string, id: string, revision: string, commit: string): Promise<void> {
  if (isCommitHash(revision)) return;
  await writeFileAtomic(join(repoFolder(hfCacheDir, id), "refs", revision), commit);
}

/** Path of a file in a cached snapshot, or undefined if it is not there (or its blob is gone). */
export async function cachedSnapshotFile(hfCacheDir: string, id: string, commit: string, path: string): Promise<string | undefined> {
  const filePath = join(snapshotFolder(hfCacheDir, id, commit), path);
  return (await exists(filePath)) ? filePath : undefined;
}

export async function listSnapshotFiles(hfCacheDir: string, id: string, commit: string): Promise<string[]> {
  try {
    return await readdir(snapshotFolder(hfCacheDir, id, commit));
  } catch {
    return [];
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

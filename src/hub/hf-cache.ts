import { access, lstat, mkdir, readFile, readdir, rm, symlink, copyFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
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

/**
 * Stores a downloaded file the way huggingface_hub does: the bytes as blobs/<etag> (written
 * atomically), and snapshots/<commit>/<path> as a relative symlink to it (a copy where symlinks
 * are not allowed). An existing blob is kept: blobs are content-addressed.
 */
export async function writeSnapshotFile(hfCacheDir: string, id: string, commit: string, path: string, etag: string | undefined, bytes: Uint8Array): Promise<string> {
  const repo = repoFolder(hfCacheDir, id);
  // Loaded here, not at start-up: offline runs never hash.
  const blobName = etag && /^[0-9a-zA-Z._-]+$/.test(etag) ? etag : (await import("node:crypto")).createHash("sha256").update(bytes).digest("hex");
  const blob = join(repo, "blobs", blobName);
  if (!(await exists(blob))) await writeFileAtomic(blob, bytes);
  const pointer = join(snapshotFolder(hfCacheDir, id, commit), path);
  await mkdir(dirname(pointer), { recursive: true });
  await rm(pointer, { force: true });
  try {
    await symlink(relative(dirname(pointer), blob), pointer);
  } catch {
    await copyFile(blob, pointer);
  }
  return pointer;
}

/** Removes a cached file and its blob (a corrupt config must not be served again). */
export async function removeSnapshotFile(pointer: string): Promise<void> {
  try {
    const stats = await lstat(pointer);
    if (stats.isSymbolicLink()) {
      const { readlink } = await import("node:fs/promises");
      const target = join(dirname(pointer), await readlink(pointer));
      await rm(target, { force: true });
    }
  } catch {
    // Already gone.
  }
  await rm(pointer, { force: true });
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

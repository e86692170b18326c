import { access, copyFile, mkdir, readFile, readdir, readlink, rename, rm, stat, symlink } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { isCommitHash } from "../model-id.js";
import { temporarySuffix, writeFileAtomic } from "../util/atomic-write.js";

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
  // The temporary lives in blobs/, beside huggingface_hub's own `.incomplete` files: a scanner of
  // refs/ (huggingface_hub scan_cache_dir) would take one left by a killed run for a broken ref.
  const repo = repoFolder(hfCacheDir, id);
  await writeFileAtomic(join(repo, "refs", revision), commit, { temporaryDir: join(repo, "blobs") });
}

/** Path of a file in a cached snapshot, or undefined if it is not there (or its blob is gone). */
export async function cachedSnapshotFile(hfCacheDir: string, id: string, commit: string, path: string): Promise<string | undefined> {
  const filePath = join(snapshotFolder(hfCacheDir, id, commit), path);
  return (await exists(filePath)) ? filePath : undefined;
}

/**
 * Stores a downloaded file the way huggingface_hub does: the bytes as blobs/<etag> (written
 * atomically), and snapshots/<commit>/<path> as a relative symlink to it (a copy where symlinks
 * are not allowed). The file was just fetched, so what the cache held under these names may be
 * replaced: a blob whose bytes differ (corrupted on disk, edited by hand) is rewritten. The link
 * is swapped in by a rename, so a process reading the snapshot meanwhile sees the old link or the
 * new one, never none.
 */
export async function writeSnapshotFile(hfCacheDir: string, id: string, commit: string, path: string, etag: string | undefined, bytes: Uint8Array): Promise<string> {
  const repo = repoFolder(hfCacheDir, id);
  // Loaded here, not at start-up: offline runs never hash.
  const blobName = etag && /^[0-9a-zA-Z._-]+$/.test(etag) && !/^\.+$/.test(etag) ? etag : (await import("node:crypto")).createHash("sha256").update(bytes).digest("hex");
  const blob = join(repo, "blobs", blobName);
  if (!(await holds(blob, bytes))) await writeFileAtomic(blob, bytes);
  const pointer = join(snapshotFolder(hfCacheDir, id, commit), path);
  const target = relative(dirname(pointer), blob);
  if (await linksTo(pointer, target)) return pointer;
  await mkdir(dirname(pointer), { recursive: true });
  // Made next to the blob, where huggingface_hub keeps its own `.incomplete` files and where cache
  // scanners do not list snapshot files; the link text is relative to where it will end up.
  const temporary = `${blob}.${temporarySuffix()}.incomplete`;
  try {
    try {
      await symlink(target, temporary);
    } catch {
      await copyFile(blob, temporary);
    }
    await rename(temporary, pointer);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return pointer;
}

/** Whether `path` is a file holding exactly these bytes. */
async function holds(path: string, bytes: Uint8Array): Promise<boolean> {
  try {
    if ((await stat(path)).size !== bytes.byteLength) return false;
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(await readFile(path));
  } catch {
    return false;
  }
}

async function linksTo(pointer: string, target: string): Promise<boolean> {
  try {
    return (await readlink(pointer)) === target;
  } catch {
    return false;
  }
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

import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { isVramplanError } from "../errors.js";
import { parseManifest, serializeManifest, type TensorManifest } from "../model/manifest.js";
import { writeFileAtomic } from "../util/atomic-write.js";

/** vramplan's own cache: one tensor manifest per model and commit, written atomically. */
export function manifestPath(cacheDir: string, id: string, commit: string): string {
  return join(cacheDir, "manifests", `models--${id.replaceAll("/", "--")}`, `${commit}.json`);
}

export type CachedManifest = { manifest: TensorManifest } | { corrupt: string } | undefined;

/**
 * Reads a cached manifest. A corrupt entry (a crash of an older version, a disk error) is removed
 * and reported, so the caller refetches it online or says so offline.
 */
export async function readCachedManifest(cacheDir: string, id: string, commit: string): Promise<CachedManifest> {
  const path = manifestPath(cacheDir, id, commit);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    return { manifest: parseManifest(text, path) };
  } catch (error) {
    if (!isVramplanError(error)) throw error;
    await rm(path, { force: true });
    return { corrupt: error.message };
  }
}

export async function writeCachedManifest(cacheDir: string, id: string, commit: string, manifest: TensorManifest): Promise<void> {
  await writeFileAtomic(manifestPath(cacheDir, id, commit), serializeManifest(manifest));
}

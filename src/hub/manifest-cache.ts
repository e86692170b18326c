import { join } from "node:path";
import { parseManifest, serializeManifest, type TensorManifest } from "../model/manifest.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { readCacheFile } from "../util/cache-file.js";

/** vramplan's own cache: one tensor manifest per model and commit, written atomically. */
export function manifestPath(cacheDir: string, id: string, commit: string): string {
  return join(cacheDir, "manifests", `models--${id.replaceAll("/", "--")}`, `${commit}.json`);
}

export type CachedManifest = { manifest: TensorManifest } | { corrupt: string } | undefined;

/** A cached manifest; a corrupt one is removed and reported (util/cache-file.ts). */
export async function readCachedManifest(cacheDir: string, id: string, commit: string): Promise<CachedManifest> {
  const read = await readCacheFile(manifestPath(cacheDir, id, commit), parseManifest);
  return read && ("value" in read ? { manifest: read.value } : read);
}

export async function writeCachedManifest(cacheDir: string, id: string, commit: string, manifest: TensorManifest): Promise<void> {
  await writeFileAtomic(manifestPath(cacheDir, id, commit), serializeManifest(manifest));
}

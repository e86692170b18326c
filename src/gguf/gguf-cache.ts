import { join } from "node:path";
import { MalformedFileError } from "../errors.js";
import { parseJsonFile } from "../util/json-position.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import { readCacheFile } from "../util/cache-file.js";
import type { GgufSet } from "./gguf-files.js";
import type { GgufFileHeader } from "./gguf-header.js";

/** A repo's GGUF sets at one commit, with the headers read so far (null: not read yet). */
export interface GgufRepoListing {
  sets: (GgufSet & { headers: GgufFileHeader[] | null })[];
  projectors: string[];
}

export const GGUF_CACHE_FORMAT = "vramplan.gguf/1";

export function ggufCachePath(cacheDir: string, id: string, commit: string): string {
  return join(cacheDir, "gguf", `models--${id.replaceAll("/", "--")}`, `${commit}.json`);
}

export function serializeGgufListing(listing: GgufRepoListing): string {
  return JSON.stringify({ format: GGUF_CACHE_FORMAT, ...listing });
}

export function parseGgufListing(text: string, source: string): GgufRepoListing {
  const raw = parseJsonFile(text, source);
  const stored = raw as Partial<GgufRepoListing & { format: string }> | null;
  if (!stored || stored.format !== GGUF_CACHE_FORMAT || !Array.isArray(stored.sets) || !Array.isArray(stored.projectors)) {
    throw new MalformedFileError(source, `not a ${GGUF_CACHE_FORMAT} listing`);
  }
  for (const set of stored.sets) {
    if (typeof set?.name !== "string" || !Array.isArray(set.files)) throw new MalformedFileError(source, "a set has no name or file list");
    for (const header of set.headers ?? []) {
      if (!Array.isArray(header?.tensors) || typeof header.metadata !== "object") throw new MalformedFileError(source, `${set.name}: a header has no tensor table`);
    }
  }
  return { sets: stored.sets, projectors: stored.projectors };
}

/** The cached listing, or undefined; a corrupt one is removed, so it is read again (util/cache-file.ts). */
export async function readGgufCache(cacheDir: string, id: string, commit: string): Promise<GgufRepoListing | undefined> {
  const read = await readCacheFile(ggufCachePath(cacheDir, id, commit), parseGgufListing);
  return read && "value" in read ? read.value : undefined;
}

export async function writeGgufCache(cacheDir: string, id: string, commit: string, listing: GgufRepoListing): Promise<void> {
  await writeFileAtomic(ggufCachePath(cacheDir, id, commit), serializeGgufListing(listing));
}

import { readFile, rm } from "node:fs/promises";
import { isVramplanError } from "../errors.js";

export type CacheRead<T> = { value: T } | { corrupt: string } | undefined;

/**
 * Reads one of vramplan's cache entries: undefined when there is none; a corrupt one (a crash of
 * an older version, a disk error) is removed and reported, so the caller refetches it online or
 * says so offline. `parse` throws a VramplanError for anything off.
 */
export async function readCacheFile<T>(path: string, parse: (text: string, source: string) => T): Promise<CacheRead<T>> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    return { value: parse(text, path) };
  } catch (error) {
    if (!isVramplanError(error)) throw error;
    await rm(path, { force: true });
    return { corrupt: error.message };
  }
}

import { open, readFile } from "node:fs/promises";
import type { ManifestFile } from "../model/manifest.js";
import { cachedSnapshotFile } from "./hf-cache.js";
import { isSafeShardName, MAX_SHARDS } from "./remote.js";
import { checkCheckpoint, HEADER_LENGTH_BYTES, manifestFileFromHeader, parseHeaderJson, readHeaderLength } from "./safetensors-header.js";

/** Reads one safetensors header from disk: the length prefix and the JSON, never the weights. */
export async function readLocalSafetensorsHeader(filePath: string, displayPath: string): Promise<ManifestFile> {
  const handle = await open(filePath, "r");
  try {
    const { size } = await handle.stat();
    const prefix = new Uint8Array(HEADER_LENGTH_BYTES);
    await handle.read(prefix, 0, HEADER_LENGTH_BYTES, 0);
    const length = readHeaderLength(size >= HEADER_LENGTH_BYTES ? prefix : prefix.subarray(0, size), displayPath);
    const headerBytes = new Uint8Array(Math.min(length, Math.max(0, size - HEADER_LENGTH_BYTES)));
    await handle.read(headerBytes, 0, headerBytes.byteLength, HEADER_LENGTH_BYTES);
    const header = parseHeaderJson(headerBytes, length, displayPath);
    return manifestFileFromHeader(displayPath, header, size - HEADER_LENGTH_BYTES - length);
  } finally {
    await handle.close();
  }
}

/**
 * Headers of a checkpoint `huggingface-cli download` already put in the HF cache: its single file,
 * else every shard its index names (relative to the index's folder); undefined when the cache does
 * not hold them all.
 */
export async function cachedCheckpointHeaders(hfCacheDir: string, id: string, commit: string, single: string, indexName: string): Promise<ManifestFile[] | undefined> {
  const singlePath = await cachedSnapshotFile(hfCacheDir, id, commit, single);
  if (singlePath) return [await readLocalSafetensorsHeader(singlePath, single)];

  const indexPath = await cachedSnapshotFile(hfCacheDir, id, commit, indexName);
  if (!indexPath) return undefined;
  let shards: string[];
  try {
    const index = JSON.parse(await readFile(indexPath, "utf8")) as { weight_map?: Record<string, unknown> };
    shards = [...new Set(Object.values(index.weight_map ?? {}).filter((v): v is string => typeof v === "string"))];
  } catch {
    return undefined;
  }
  if (shards.length === 0 || shards.length > MAX_SHARDS || !shards.every(isSafeShardName)) return undefined;
  const directory = indexName.slice(0, indexName.lastIndexOf("/") + 1);
  const names = shards.map((shard) => directory + shard);
  const paths = await Promise.all(names.map((name) => cachedSnapshotFile(hfCacheDir, id, commit, name)));
  if (paths.some((path) => path === undefined)) return undefined;
  const files = await Promise.all(names.map((name, i) => readLocalSafetensorsHeader(paths[i] as string, name)));
  checkCheckpoint(`${id}/${indexName}`, files);
  return files;
}

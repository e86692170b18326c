import { open } from "node:fs/promises";
import type { ManifestFile } from "../model/manifest.js";
import { HEADER_LENGTH_BYTES, manifestFileFromHeader, parseHeaderJson, readHeaderLength } from "./safetensors-header.js";

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

import { MalformedFileError } from "../errors.js";
import type { ManifestFile, TensorEntry } from "../model/manifest.js";

/** The 8-byte little-endian length that opens every safetensors file. */
export const HEADER_LENGTH_BYTES = 8;
/**
 * The largest header vramplan reads. DeepSeek-V3's largest shard header is well under 1 MB; a
 * length beyond this is a corrupt or hostile file, not a model.
 */
export const MAX_HEADER_BYTES = 100_000_000;

interface RawTensorInfo {
  dtype?: unknown;
  shape?: unknown;
  data_offsets?: unknown;
}

/**
 * Turns a parsed safetensors header into manifest entries, checking each one: a known-looking
 * dtype, a shape of non-negative integers, offsets that are ordered and (when the file size is
 * known) inside the file. Bytes are the offset span, the format's own ground truth.
 */
export function manifestFileFromHeader(path: string, header: unknown, dataBytes?: number): ManifestFile {
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new MalformedFileError(path, "safetensors header is not a JSON object");
  }
  const tensors: TensorEntry[] = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === "__metadata__") continue;
    const info = value as RawTensorInfo | null;
    const offsets = info?.data_offsets;
    const shape = info?.shape;
    if (
      typeof info?.dtype !== "string" ||
      !Array.isArray(shape) ||
      !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0) ||
      !Array.isArray(offsets) ||
      offsets.length !== 2 ||
      !offsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0) ||
      offsets[1] < offsets[0]
    ) {
      throw new MalformedFileError(path, `tensor "${name}" has a malformed header entry`);
    }
    if (dataBytes !== undefined && offsets[1] > dataBytes) {
      throw new MalformedFileError(path, `tensor "${name}" ends at byte ${offsets[1]}, past the end of the file (${dataBytes} data bytes): the file is truncated`);
    }
    tensors.push({ name, dtype: info.dtype, shape: shape as number[], bytes: offsets[1] - offsets[0] });
  }
  return { path, tensors };
}

/** Reads and checks the header length prefix. */
export function readHeaderLength(prefix: Uint8Array, path: string): number {
  if (prefix.byteLength < HEADER_LENGTH_BYTES) {
    throw new MalformedFileError(path, "file is shorter than a safetensors header: it is truncated or not safetensors");
  }
  const length = new DataView(prefix.buffer, prefix.byteOffset, HEADER_LENGTH_BYTES).getBigUint64(0, true);
  if (length === 0n || length > BigInt(MAX_HEADER_BYTES)) {
    throw new MalformedFileError(path, `safetensors header claims ${length} bytes (limit ${MAX_HEADER_BYTES}): the file is corrupt or not safetensors`);
  }
  return Number(length);
}

export function parseHeaderJson(bytes: Uint8Array, expectedLength: number, path: string): unknown {
  if (bytes.byteLength < expectedLength) {
    throw new MalformedFileError(path, `safetensors header is truncated (${bytes.byteLength} of ${expectedLength} bytes)`);
  }
  try {
    return JSON.parse(new TextDecoder().decode(bytes.subarray(0, expectedLength)));
  } catch {
    throw new MalformedFileError(path, "safetensors header is not valid JSON: the file is corrupt");
  }
}

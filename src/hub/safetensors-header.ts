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

/** Bits per element of the dtypes safetensors defines; others (new formats) are not size-checked. */
const DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8, U8: 8, I8: 8, F8_E5M2: 8, F8_E4M3: 8, F8_E8M0: 8, I16: 16, U16: 16, F16: 16, BF16: 16,
  I32: 32, U32: 32, F32: 32, F64: 64, I64: 64, U64: 64, C64: 64, F4: 4, F6_E2M3: 6, F6_E3M2: 6,
};

/**
 * Turns a parsed safetensors header into manifest entries, checking it as the safetensors library
 * does before trusting a byte of it: a known-looking dtype, a shape of non-negative integers whose
 * product stays exact, each tensor's byte span equal to its shape × dtype, and spans that tile the
 * data buffer from byte 0 with no overlap and no hole (to its end, when the file size is known).
 * Bytes are the offset span, the format's own ground truth.
 */
export function manifestFileFromHeader(path: string, header: unknown, dataBytes?: number): ManifestFile {
  if (typeof header !== "object" || header === null || Array.isArray(header)) {
    throw new MalformedFileError(path, "safetensors header is not a JSON object");
  }
  const tensors: TensorEntry[] = [];
  const spans: { name: string; start: number; end: number }[] = [];
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
    const elements = (shape as number[]).reduce((product, dim) => product * dim, 1);
    if (!Number.isSafeInteger(elements)) throw new MalformedFileError(path, `tensor "${name}" has shape [${shape.join(", ")}], more elements than can be counted exactly`);
    const bytes = offsets[1] - offsets[0];
    const bits = DTYPE_BITS[info.dtype];
    if (bits !== undefined && Math.ceil((elements * bits) / 8) !== bytes) {
      throw new MalformedFileError(path, `tensor "${name}" spans ${bytes} bytes, but its shape [${shape.join(", ")}] in ${info.dtype} needs ${Math.ceil((elements * bits) / 8)}: the header is corrupt`);
    }
    if (dataBytes !== undefined && offsets[1] > dataBytes) {
      throw new MalformedFileError(path, `tensor "${name}" ends at byte ${offsets[1]}, past the end of the file (${dataBytes} data bytes): the file is truncated`);
    }
    spans.push({ name, start: offsets[0], end: offsets[1] });
    tensors.push({ name, dtype: info.dtype, shape: shape as number[], bytes });
  }
  checkTiling(path, spans, dataBytes);
  return { path, tensors };
}

/** Byte spans must cover the data buffer exactly once, in some order: what the safetensors library enforces. */
function checkTiling(path: string, spans: { name: string; start: number; end: number }[], dataBytes: number | undefined): void {
  spans.sort((a, b) => a.start - b.start || a.end - b.end);
  let position = 0;
  for (const span of spans) {
    if (span.start < position) throw new MalformedFileError(path, `tensor "${span.name}" overlaps the tensor before it (bytes ${span.start}–${span.end}): the header is corrupt or hostile`);
    if (span.start > position) throw new MalformedFileError(path, `bytes ${position}–${span.start} before tensor "${span.name}" belong to no tensor: the header is corrupt`);
    position = span.end;
  }
  if (dataBytes !== undefined && position !== dataBytes && position < dataBytes) {
    throw new MalformedFileError(path, `its tensors end at byte ${position} of ${dataBytes}: the rest belongs to no tensor, so the header is corrupt`);
  }
}

/**
 * A checkpoint's files against each other: no tensor in two files (an index naming the same shard
 * contents 24 times would bill the weights 24 times), and a byte total that stays exact.
 */
export function checkCheckpoint(display: string, files: readonly ManifestFile[]): void {
  const seen = new Map<string, string>();
  let total = 0;
  for (const file of files) {
    for (const tensor of file.tensors) {
      const other = seen.get(tensor.name);
      if (other !== undefined) throw new MalformedFileError(display, `tensor "${tensor.name}" is in both ${other} and ${file.path}: the checkpoint is corrupt`);
      seen.set(tensor.name, file.path);
      total += tensor.bytes;
    }
  }
  if (!Number.isSafeInteger(total)) throw new MalformedFileError(display, "its tensors add up to more than 2^53 bytes, past what vramplan counts exactly");
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

import { MalformedFileError } from "../errors.js";
import type { ManifestFile } from "../model/manifest.js";
import { checkCheckpoint, HEADER_LENGTH_BYTES, MAX_HEADER_BYTES, manifestFileFromHeader, parseHeaderJson, readHeaderLength } from "./safetensors-header.js";

/**
 * What vramplan asks the Hub, in as few round trips as the answers allow: `resolve` URLs read
 * with plain GETs and range requests, the way huggingface_hub's own downloads read them.
 * A file's first bytes are read speculatively: one request usually holds a whole safetensors
 * header or a whole index, so a single-file checkpoint costs one round trip with its config.
 */

export interface RemoteContext {
  id: string;
  endpoint: string;
  fetch: typeof fetch;
}

/** Bytes read up front from a safetensors file or index: headers are rarely larger. */
export const PREFIX_BYTES = 256 * 1024;
/**
 * A header entry as the safetensors writers serialise it, beyond the tensor's name:
 * `"…":{"dtype":"F8_E4M3","shape":[…],"data_offsets":[…,…]},` is about 110 characters with four
 * seven-digit dimensions and twelve-digit offsets; the rest is margin.
 */
const HEADER_ENTRY_OVERHEAD = 160;
/** `__metadata__` ({"format":"pt"} and the like) and the 8-byte length. */
const HEADER_FIXED_ALLOWANCE = 4096;
/** The largest index vramplan reads (DeepSeek-V3's is ~9 MB). */
export const MAX_INDEX_BYTES = 64_000_000;
/** Shards one checkpoint may have (huggingface.js MAX_SHARD_COUNT; the largest public ones have a few hundred). */
export const MAX_SHARDS = 10_000;
/** Header bytes one checkpoint may have in all (DeepSeek-V3's 163 shards hold ~20 MB). */
export const MAX_CHECKPOINT_HEADER_BYTES = 512_000_000;

/** What is left of a checkpoint's header allowance, shared by the reads of its shards. */
export interface HeaderBudget {
  remaining: number;
}

/** A non-2xx answer, shaped like @huggingface/hub's HubApiError so one mapper handles both. */
export class HubResponseError extends Error {
  override readonly name = "HubResponseError";
  constructor(
    readonly statusCode: number,
    readonly url: string,
    readonly data: unknown,
    readonly errorCode: string | null,
  ) {
    super(`HTTP ${statusCode}`);
  }
}

export interface FetchedFile {
  /** The commit the revision resolved to (X-Repo-Commit). */
  commit: string | undefined;
  /** The blob id the HF cache names the file by (X-Linked-Etag or ETag, unquoted). */
  etag: string | undefined;
  bytes: Uint8Array;
  /** The file's full size when the answer was a range. */
  totalSize: number | undefined;
}

export function resolveUrl(context: RemoteContext, revision: string, path: string): string {
  return `${context.endpoint}/${context.id}/resolve/${encodeURIComponent(revision)}/${path.split("/").map(encodeURIComponent).join("/")}`;
}

export async function failureOf(response: Response, url: string): Promise<HubResponseError> {
  const data: unknown = await response.json().catch(() => undefined);
  return new HubResponseError(response.status, url, data, response.headers.get("x-error-code"));
}

function fileMeta(response: Response): Pick<FetchedFile, "commit" | "etag"> {
  const commit = response.headers.get("x-repo-commit") ?? undefined;
  const etag = (response.headers.get("x-linked-etag") ?? response.headers.get("etag") ?? "").replace(/^W\//, "").replaceAll('"', "") || undefined;
  return { commit: commit && /^[0-9a-f]{40}$/.test(commit) ? commit : undefined, etag };
}

/** A whole small file (config.json), bounded in size. */
export async function fetchWholeFile(context: RemoteContext, revision: string, path: string, maxBytes: number): Promise<FetchedFile> {
  const url = resolveUrl(context, revision, path);
  const response = await context.fetch(url);
  if (!response.ok) throw await failureOf(response, url);
  const bytes = await readUpTo(response, maxBytes + 1);
  if (bytes.byteLength > maxBytes) throw new MalformedFileError(`${context.id}/${path}`, `larger than ${maxBytes} bytes: not a config file`);
  return { ...fileMeta(response), bytes, totalSize: bytes.byteLength };
}

/** The first bytes of a file (`Range: bytes=start-end`); null when the file does not exist. */
export async function fetchRange(context: RemoteContext, revision: string, path: string, start: number, end: number): Promise<FetchedFile | null> {
  const url = resolveUrl(context, revision, path);
  const response = await context.fetch(url, { headers: { Range: `bytes=${start}-${end}` } });
  if (response.status === 404 && response.headers.get("x-error-code") === "EntryNotFound") {
    discard(response);
    return null;
  }
  if (response.status === 416) {
    discard(response);
    return { ...fileMeta(response), bytes: new Uint8Array(0), totalSize: Number(response.headers.get("content-range")?.split("/")[1] ?? Number.NaN) || 0 };
  }
  if (!response.ok) throw await failureOf(response, url);
  const total = Number(response.headers.get("content-range")?.split("/")[1]);
  // A server that ignores Range sends the whole file from byte 0: keep only what was asked.
  const ignoredRange = response.status === 200;
  const wanted = end - start + 1;
  const body = await readUpTo(response, ignoredRange ? end + 1 : wanted);
  const bytes = ignoredRange ? body.subarray(start, end + 1) : body;
  return { ...fileMeta(response), bytes, totalSize: Number.isFinite(total) ? total : ignoredRange ? undefined : undefined };
}

/**
 * One safetensors header from the file's first bytes (and one more range request when the
 * header is longer than they hold), checked like a local one: length limit, JSON, offsets inside
 * the file.
 */
export async function headerFromPrefix(context: RemoteContext, revision: string, path: string, prefix: FetchedFile, budget?: HeaderBudget): Promise<ManifestFile> {
  const display = `${context.id}/${path}`;
  const length = readHeaderLength(prefix.bytes.subarray(0, HEADER_LENGTH_BYTES), display);
  if (length > MAX_HEADER_BYTES) throw new MalformedFileError(display, `safetensors header of ${length} bytes is over the limit`);
  if (budget) {
    budget.remaining -= length;
    if (budget.remaining < 0) throw new MalformedFileError(display, `the checkpoint's headers add up to more than ${MAX_CHECKPOINT_HEADER_BYTES} bytes: not a model vramplan reads`);
  }
  let headerBytes = prefix.bytes.subarray(HEADER_LENGTH_BYTES, HEADER_LENGTH_BYTES + length);
  if (headerBytes.byteLength < length && (prefix.totalSize === undefined || prefix.bytes.byteLength < prefix.totalSize)) {
    const rest = await fetchRange(context, revision, path, HEADER_LENGTH_BYTES + headerBytes.byteLength, HEADER_LENGTH_BYTES + length - 1);
    if (rest) headerBytes = concat(headerBytes, rest.bytes);
  }
  const header = parseHeaderJson(headerBytes, length, display);
  const dataBytes = prefix.totalSize === undefined ? undefined : prefix.totalSize - HEADER_LENGTH_BYTES - length;
  return manifestFileFromHeader(path, header, dataBytes);
}

export interface ShardRead {
  path: string;
  /** How many of its first bytes to ask for: enough for the header the index implies. */
  readBytes: number;
}

/**
 * The shards of a sharded checkpoint's index, read whole from its prefix (and rest), each with
 * the size of its first read. The index names every tensor of every shard, so the header's size
 * is known to within the width of its numbers: a 191-shard checkpoint then costs one small range
 * request per shard, not 256 KiB each, and a header longer than foreseen costs one more.
 */
export async function shardsFromIndex(context: RemoteContext, revision: string, path: string, prefix: FetchedFile): Promise<ShardRead[]> {
  const display = `${context.id}/${path}`;
  let bytes = prefix.bytes;
  if (prefix.totalSize !== undefined && bytes.byteLength < prefix.totalSize) {
    if (prefix.totalSize > MAX_INDEX_BYTES) throw new MalformedFileError(display, `index of ${prefix.totalSize} bytes is over the ${MAX_INDEX_BYTES}-byte limit`);
    const rest = await fetchRange(context, revision, path, bytes.byteLength, prefix.totalSize - 1);
    if (rest) bytes = concat(bytes, rest.bytes);
  }
  let index: { weight_map?: unknown };
  try {
    index = JSON.parse(new TextDecoder().decode(bytes)) as { weight_map?: unknown };
  } catch {
    throw new MalformedFileError(display, "not valid JSON: the index is truncated or corrupt");
  }
  const weightMap = index.weight_map;
  if (typeof weightMap !== "object" || weightMap === null) throw new MalformedFileError(display, "has no weight_map");
  const foreseen = new Map<unknown, number>();
  for (const [tensor, shard] of Object.entries(weightMap as Record<string, unknown>)) {
    foreseen.set(shard, (foreseen.get(shard) ?? HEADER_FIXED_ALLOWANCE) + tensor.length + HEADER_ENTRY_OVERHEAD);
  }
  const shards = [...foreseen.keys()];
  if (shards.length > MAX_SHARDS) throw new MalformedFileError(display, `names ${shards.length} shard files, more than the ${MAX_SHARDS} vramplan reads`);
  if (shards.length === 0 || !shards.every((shard): shard is string => typeof shard === "string" && isSafeShardName(shard))) {
    throw new MalformedFileError(display, "weight_map names a shard file that is not a plain relative path");
  }
  const directory = path.slice(0, path.lastIndexOf("/") + 1);
  return shards.map((shard) => ({ path: directory + (shard as string), readBytes: Math.min(PREFIX_BYTES, foreseen.get(shard) as number) }));
}

/**
 * Shard names come from a repo file, and end up in URLs: only plain relative names, with no
 * dot segments even when percent-decoded (huggingface.js assertSafeShardFilename guards the same).
 */
export function isSafeShardName(name: string): boolean {
  let decoded = name;
  for (let i = 0; i < 3; i++) {
    try {
      decoded = decodeURIComponent(decoded);
    } catch {
      return false;
    }
  }
  return [name, decoded].every(
    (candidate) =>
      candidate.length > 0 &&
      !/[\u0000-\u001f\u007f\\]/.test(candidate) &&
      !candidate.startsWith("/") &&
      !(candidate.split("/")[0] ?? "").includes(":") &&
      candidate.split("/").every((segment) => segment !== "." && segment !== ".."),
  );
}

/** Reads at most `limit` bytes of a body, then lets the connection go. */
async function readUpTo(response: Response, limit: number): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      total += value.byteLength;
    }
  } finally {
    if (total >= limit) reader.cancel().catch(() => undefined);
    else reader.releaseLock();
  }
  const bytes = concat(...chunks);
  return bytes.byteLength > limit ? bytes.subarray(0, limit) : bytes;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

function discard(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}

/**
 * Every shard header of a sharded checkpoint, from its index's first bytes: one range read per
 * shard, all at once (the HTTP client bounds how many are in flight), the headers' total size
 * budgeted, and the shards checked against each other.
 */
export async function shardedHeaders(context: RemoteContext, revision: string, indexPath: string, indexPrefix: FetchedFile): Promise<ManifestFile[]> {
  const shards = await shardsFromIndex(context, revision, indexPath, indexPrefix);
  const budget: HeaderBudget = { remaining: MAX_CHECKPOINT_HEADER_BYTES };
  const files = await Promise.all(
    shards.map(async (shard) => {
      const prefix = await fetchRange(context, revision, shard.path, 0, shard.readBytes - 1);
      if (!prefix) throw new MalformedFileError(`${context.id}/${indexPath}`, `names ${shard.path}, which the repo does not have`);
      return headerFromPrefix(context, revision, shard.path, prefix, budget);
    }),
  );
  checkCheckpoint(`${context.id}/${indexPath}`, files);
  return files;
}

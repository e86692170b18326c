import { MalformedFileError } from "../errors.js";
import { failureOf, type RemoteContext, resolveUrl } from "../hub/remote.js";

/** A metadata value as vramplan keeps it: long arrays (the tokenizer's) only as their length. */
export type GgufMetadataValue = string | number | boolean | (string | number | boolean)[] | { arrayLength: number };

export interface GgufTensorInfo {
  name: string;
  /** ggml type id. */
  type: number;
  /** ggml order: the row length first. */
  shape: number[];
}

/** What vramplan reads of one .gguf file: its metadata and tensor table, never the weights. */
export interface GgufFileHeader {
  path: string;
  /** The file's size from the server's Content-Range, when it said. */
  size: number | null;
  dataOffset: number;
  metadata: Record<string, GgufMetadataValue>;
  tensors: GgufTensorInfo[];
}

/** Arrays longer than this (vocabularies, merges, scores) are kept as their length only. */
const MAX_KEPT_ARRAY = 1024;

function compactValue(value: unknown): GgufMetadataValue {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) {
    if (value.length > MAX_KEPT_ARRAY) return { arrayLength: value.length };
    return value.map((item) => (typeof item === "bigint" ? Number(item) : item)) as (string | number | boolean)[];
  }
  return value as string | number | boolean;
}

/**
 * Reads one file's header with range requests through @huggingface/gguf (2 MB at a time, only as
 * far as the tensor table ends). `fetch` is the Hub client: token, retries, redirects.
 */
export async function readRemoteGgufHeader(remote: RemoteContext, commit: string, path: string): Promise<GgufFileHeader> {
  const url = resolveUrl(remote, commit, path);
  let size: number | null = null;
  // @huggingface/gguf reads any answer as file bytes; a 404 or 500 must stay an HTTP error.
  const checked = (async (input: string | URL | Request, init?: RequestInit) => {
    const response = await remote.fetch(input, init);
    if (!response.ok) throw await failureOf(response, url);
    const total = Number(/\/(\d+)\s*$/.exec(response.headers.get("content-range") ?? "")?.[1]);
    if (Number.isSafeInteger(total)) size = total;
    return response;
  }) as typeof fetch;
  const { gguf } = await import("@huggingface/gguf");
  let parsed: Awaited<ReturnType<typeof gguf>>;
  try {
    parsed = await gguf(url, { fetch: checked });
  } catch (error) {
    if (error instanceof Error && error.name === "HubResponseError") throw error;
    throw new MalformedFileError(`${remote.id}/${path}`, `not a readable GGUF header (${(error as Error).message})`, { cause: error });
  }
  const metadata: Record<string, GgufMetadataValue> = {};
  for (const [key, value] of Object.entries(parsed.metadata)) metadata[key] = compactValue(value);
  const header: GgufFileHeader = {
    path,
    size,
    dataOffset: Number(parsed.tensorDataOffset),
    metadata,
    tensors: parsed.tensorInfos.map((info) => ({ name: info.name, type: info.dtype, shape: info.shape.map(Number) })),
  };
  return header;
}

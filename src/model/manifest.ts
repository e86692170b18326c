import { MalformedFileError } from "../errors.js";
import { parseJsonFile } from "../util/json-position.js";

/**
 * The compact tensor manifest: every tensor's name, dtype, shape and exact stored bytes (the span
 * of its `data_offsets`), per safetensors file. It is what vramplan keeps in its own cache per
 * commit and what the built-in set ships, so a second run needs no network.
 */
export interface TensorEntry {
  name: string;
  dtype: string;
  shape: readonly number[];
  bytes: number;
}

export interface ManifestFile {
  path: string;
  tensors: TensorEntry[];
}

export interface TensorManifest {
  files: ManifestFile[];
}

export const MANIFEST_FORMAT = "vramplan.manifest/1";

type StoredTensor = [string, string, number[], number];
interface StoredManifest {
  format: typeof MANIFEST_FORMAT;
  files: { path: string; tensors: StoredTensor[] }[];
}

export function serializeManifest(manifest: TensorManifest): string {
  const stored: StoredManifest = {
    format: MANIFEST_FORMAT,
    files: manifest.files.map((file) => ({
      path: file.path,
      tensors: file.tensors.map((t): StoredTensor => [t.name, t.dtype, [...t.shape], t.bytes]),
    })),
  };
  return JSON.stringify(stored);
}

/** Parses and checks a stored manifest; anything off is a MalformedFileError naming `source`. */
export function parseManifest(text: string, source: string): TensorManifest {
  const raw = parseJsonFile(text, source);
  const stored = raw as Partial<StoredManifest> | null;
  if (!stored || stored.format !== MANIFEST_FORMAT || !Array.isArray(stored.files)) {
    throw new MalformedFileError(source, `not a ${MANIFEST_FORMAT} manifest`);
  }
  return {
    files: stored.files.map((file) => {
      if (typeof file?.path !== "string" || !Array.isArray(file.tensors)) {
        throw new MalformedFileError(source, "a file entry has no path or tensor list");
      }
      return {
        path: file.path,
        tensors: file.tensors.map((entry) => {
          const [name, dtype, shape, bytes] = Array.isArray(entry) ? entry : [];
          if (
            typeof name !== "string" ||
            typeof dtype !== "string" ||
            !Array.isArray(shape) ||
            !shape.every((dim) => Number.isSafeInteger(dim) && dim >= 0) ||
            !Number.isSafeInteger(bytes) ||
            (bytes as number) < 0
          ) {
            throw new MalformedFileError(source, `tensor entry ${JSON.stringify(entry)?.slice(0, 80)} is malformed`);
          }
          return { name, dtype, shape, bytes: bytes as number };
        }),
      };
    }),
  };
}

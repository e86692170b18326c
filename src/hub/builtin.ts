import { readFile, readdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { parseManifest, type TensorManifest } from "../model/manifest.js";
import type { RawConfig } from "../model/raw-config.js";
import { parseConfigText } from "./parse-config.js";

/**
 * The built-in offline set: config.json and a tensor manifest per popular model, shipped in
 * fixtures/hub/ (the same files the tests' mock Hub serves). Used when the Hub cannot be reached
 * and neither cache has the model.
 */
const BUILTIN_ROOT = fileURLToPath(new URL("../../fixtures/hub/", import.meta.url));

export interface BuiltinModel {
  config: RawConfig;
  /** Absent for models shipped as config only (too many tensors to ship, e.g. DeepSeek-V3). */
  manifest: TensorManifest | undefined;
}

export async function loadBuiltinModel(id: string): Promise<BuiltinModel | undefined> {
  const dir = join(BUILTIN_ROOT, ...(await builtinIdFor(id)).split("/"));
  let configText: string;
  try {
    configText = await readFile(join(dir, "config.json"), "utf8");
  } catch {
    return undefined;
  }
  const manifestText = await readFile(join(dir, "manifest.json"), "utf8").catch(() => undefined);
  return {
    config: parseConfigText(configText, `built-in ${id}/config.json`),
    manifest: manifestText === undefined ? undefined : parseManifest(manifestText, `built-in ${id}/manifest.json`),
  };
}

/** The built-in set's spelling of an id: the Hub finds repos whatever the case, so does this. */
export async function builtinIdFor(id: string): Promise<string> {
  const lower = id.toLowerCase();
  return (await listBuiltinIds()).find((candidate) => candidate.toLowerCase() === lower) ?? id;
}

let builtinIds: Promise<string[]> | undefined;
function listBuiltinIds(): Promise<string[]> {
  builtinIds ??= (async () => {
    const ids: string[] = [];
    for (const org of await readdir(BUILTIN_ROOT, { withFileTypes: true })) {
      if (!org.isDirectory()) continue;
      for (const name of await readdir(join(BUILTIN_ROOT, org.name), { withFileTypes: true })) if (name.isDirectory()) ids.push(`${org.name}/${name.name}`);
    }
    return ids;
  })();
  return builtinIds;
}

/**
 * Another file of a built-in model (tokenizer.json, tokenizer_config.json), or undefined. Large
 * ones are shipped gzipped (`tokenizer.json.gz`) and inflated here.
 */
export async function loadBuiltinFile(id: string, path: string): Promise<Uint8Array | undefined> {
  if (path.includes("..") || path.startsWith("/")) return undefined;
  const file = join(BUILTIN_ROOT, ...(await builtinIdFor(id)).split("/"), ...path.split("/"));
  try {
    return new Uint8Array(await readFile(file));
  } catch {
    // Not shipped as is; perhaps compressed.
  }
  try {
    const { gunzipSync } = await import("node:zlib");
    return new Uint8Array(gunzipSync(await readFile(`${file}.gz`)));
  } catch {
    return undefined;
  }
}

/** The built-in checkpoints (config.json and, for most, a manifest). */
export async function listBuiltinModels(): Promise<string[]> {
  const ids: string[] = [];
  for (const id of await listBuiltinIds()) {
    // Checkpoints only: a GGUF repo (gguf.json, no config.json) is planned by src/gguf/.
    if ((await readdir(join(BUILTIN_ROOT, ...id.split("/")))).includes("config.json")) ids.push(id);
  }
  return ids.sort();
}

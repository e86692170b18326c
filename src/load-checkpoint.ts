import { loadModel, type LoadedModel } from "./hub/load-model.js";
import { loadRepoFiles } from "./hub/load-repo-files.js";
import { MAX_CONFIG_BYTES, parseConfigText } from "./hub/parse-config.js";
import type { HubSettings } from "./hub/settings.js";
import type { ModelRef } from "./model-id.js";
import { deriveModelSpec } from "./model/derive.js";
import type { RawConfig } from "./model/raw-config.js";
import { moduleConfigPaths, readModules, sentenceTransformerPlan } from "./model/sentence-transformers.js";

const MODULES_FILE = "modules.json";

/**
 * A transformers checkpoint as `plan`, `batch` and `cache prefetch` load it: config.json and the
 * safetensors headers, and for an encoder the sentence-transformers modules beside them
 * (modules.json, then the Pooling and Dense folders' config.json), at the same commit and from
 * the same source. Those files only add facts: when they cannot be read the plan says so and is
 * made without them.
 */
export async function loadCheckpoint(ref: ModelRef, settings: HubSettings): Promise<LoadedModel> {
  const loaded = await loadModel(ref, settings);
  if (loaded.configSource === "builtin" || loaded.commit === undefined || !isEncoder(loaded.config)) return loaded;
  // Planned from the cache (offline, or the Hub unreachable): its modules come from there too.
  const source: HubSettings = loaded.configSource === "hub" ? settings : { ...settings, offline: true };
  try {
    const request = { required: [], commit: loaded.commit, maxBytes: MAX_CONFIG_BYTES };
    const first = await loadRepoFiles(ref, source, { ...request, optional: [MODULES_FILE] });
    const modulesBytes = first.files.get(MODULES_FILE);
    if (!modulesBytes) return loaded;
    const modules = readModules(JSON.parse(new TextDecoder().decode(modulesBytes)), `${ref.id}/${MODULES_FILE}`);
    const paths = moduleConfigPaths(modules);
    const configs = new Map<string, RawConfig | null>();
    if (paths.length > 0) {
      const folders = await loadRepoFiles(ref, source, { ...request, optional: paths });
      for (const path of paths) {
        const bytes = folders.files.get(path);
        configs.set(path, bytes ? parseConfigText(new TextDecoder().decode(bytes), `${ref.id}/${path}`) : null);
      }
    }
    return { ...loaded, sentenceTransformers: sentenceTransformerPlan(modules, configs) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { ...loaded, notes: [...loaded.notes, `${MODULES_FILE} could not be read (${reason}): its pooling and Dense layers are left out`] };
  }
}

function isEncoder(config: RawConfig): boolean {
  try {
    return deriveModelSpec(config).encoderOnly;
  } catch {
    // The plan derives it again and reports what is wrong with it.
    return false;
  }
}

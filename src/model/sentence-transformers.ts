import type { RawConfig } from "./raw-config.js";

/**
 * A sentence-transformers repo (modules.json): the Transformer module at the repo's root, then
 * Pooling, optional Dense layers and Normalize, each in its own folder with a config.json
 * (sentence_transformers/models/Pooling.py, Dense.py). What they add to the model: the pooling
 * that turns token states into one vector, Dense layers' weights (not in the root
 * model.safetensors), and the output width an index of the embeddings stores.
 */
export interface SentenceTransformerModule {
  path: string;
  /** The class, without its package: "Transformer", "Pooling", "Dense", "Normalize"… */
  type: string;
}

export interface DenseLayer {
  path: string;
  inFeatures: number;
  outFeatures: number;
  bias: boolean;
  parameters: number;
  /** Its weights in fp32: Dense is a torch Linear, saved at float32 unless the model was cast. */
  bytes: number;
}

export interface SentenceTransformerPlan {
  modules: SentenceTransformerModule[];
  /** Pooling modes switched on in 1_Pooling/config.json ("mean", "cls", …); their outputs concatenate. */
  pooling: string[];
  dense: DenseLayer[];
  denseParameters: number;
  denseBytes: number;
  normalized: boolean;
  /** The embedding's width: the last Dense's out_features, else the pooled width. */
  dimensions: number | null;
  /** Modules whose weights vramplan does not count (their type, where they are). */
  notCounted: string[];
}

/** modules.json has at most a handful of entries; more is not a sentence-transformers file. */
const MAX_MODULES = 64;
const POOLING_MODES: ReadonlyArray<readonly [string, string]> = [
  ["pooling_mode_cls_token", "cls"],
  ["pooling_mode_mean_tokens", "mean"],
  ["pooling_mode_max_tokens", "max"],
  ["pooling_mode_mean_sqrt_len_tokens", "mean_sqrt_len"],
  ["pooling_mode_weightedmean_tokens", "weighted_mean"],
  ["pooling_mode_lasttoken", "last_token"],
];

/** The module folders modules.json names, each a plain relative path ("" for the root). */
export function readModules(parsed: unknown, source: string): SentenceTransformerModule[] {
  if (!Array.isArray(parsed) || parsed.length > MAX_MODULES) throw new Error(`${source} is not a list of at most ${MAX_MODULES} modules`);
  return parsed.map((entry: unknown, index) => {
    const record = entry as Record<string, unknown> | null;
    const path = record?.["path"];
    const type = record?.["type"];
    if (typeof path !== "string" || typeof type !== "string") throw new Error(`${source}: module ${index} has no path and type`);
    // A module's path becomes a repo path: a plain folder name, or "" for the repo's root.
    if (path !== "" && (!/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(path) || path.includes(".."))) throw new Error(`${source}: module ${index} names "${path}", not a plain folder name`);
    return { path, type: type.split(".").pop() ?? type };
  });
}

/** The config.json each module keeps in its folder, for the modules whose shape it gives. */
export function moduleConfigPaths(modules: readonly SentenceTransformerModule[]): string[] {
  return modules.filter((module) => module.path !== "" && (module.type === "Pooling" || module.type === "Dense")).map((module) => `${module.path}/config.json`);
}

const positive = (value: unknown): number | null => (typeof value === "number" && Number.isSafeInteger(value) && value > 0 && value <= 1_048_576 ? value : null);

/** Pooling, Dense and Normalize from the modules and their folders' configs (by config path; null when absent). */
export function sentenceTransformerPlan(modules: readonly SentenceTransformerModule[], configs: ReadonlyMap<string, RawConfig | null>): SentenceTransformerPlan {
  const readConfig = (path: string) => configs.get(`${path}/config.json`) ?? null;
  const plan: SentenceTransformerPlan = { modules: [...modules], pooling: [], dense: [], denseParameters: 0, denseBytes: 0, normalized: false, dimensions: null, notCounted: [] };
  for (const module of modules) {
    if (module.type === "Transformer" || module.type === "Normalize") {
      if (module.type === "Normalize") plan.normalized = true;
      continue;
    }
    const config = module.type === "Pooling" || module.type === "Dense" ? readConfig(module.path) : null;
    if (module.type === "Pooling" && config) {
      plan.pooling = POOLING_MODES.filter(([field]) => config[field] === true).map(([, mode]) => mode);
      const width = positive(config["word_embedding_dimension"]);
      if (width !== null) plan.dimensions = width * Math.max(1, plan.pooling.length);
    } else if (module.type === "Dense" && config) {
      const inFeatures = positive(config["in_features"]);
      const outFeatures = positive(config["out_features"]);
      if (inFeatures === null || outFeatures === null) {
        plan.notCounted.push(`${module.path} (Dense without in_features and out_features)`);
        continue;
      }
      const bias = config["bias"] !== false;
      const parameters = inFeatures * outFeatures + (bias ? outFeatures : 0);
      plan.dense.push({ path: module.path, inFeatures, outFeatures, bias, parameters, bytes: 4 * parameters });
      plan.denseParameters += parameters;
      plan.denseBytes += 4 * parameters;
      plan.dimensions = outFeatures;
    } else {
      plan.notCounted.push(`${module.path || "(root)"} (${module.type}${config === null && (module.type === "Pooling" || module.type === "Dense") ? ", no config.json" : ""})`);
    }
  }
  return plan;
}

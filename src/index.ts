/**
 * vramplan's public API. Everything a library user needs is named here; nothing from the CLI is.
 *
 *   import { plan, hubSettingsFromEnv } from "vramplan";
 *   const result = await plan("Qwen/Qwen2.5-7B", { context: 32768, hub: hubSettingsFromEnv(process.env) });
 */
export { plan, planLoadedModel, type Plan, type PlanOptions, type PlanWarning } from "./plan.js";
export { planRepo, type RepoPlan, type RepoPlanOptions } from "./plan-repo.js";
export type { GgufRepoPlan, GgufFilePlan } from "./gguf/gguf-plan.js";
export { hubSettingsFromEnv, DEFAULT_ENDPOINT, type HubSettings } from "./hub/settings.js";
export { loadModel, type LoadedModel, type ConfigSource, type ManifestSource } from "./hub/load-model.js";
export { parseModelRef, type ModelRef } from "./model-id.js";
export { deriveModelSpec } from "./model/derive.js";
export type { ModelSpec, LayerCache, LayerSpec, MoeSpec, MlaShape, LayerLayout, GuessedField } from "./model/spec.js";
export type { RawConfig } from "./model/raw-config.js";
export type { TensorManifest, ManifestFile, TensorEntry } from "./model/manifest.js";
export { configParameters, type ConfigParameters } from "./estimate/config-parameters.js";
export { estimateWeights, type WeightsEstimate, type DtypeShare } from "./estimate/weights.js";
export { estimateKvCache, type KvCacheEstimate, type KvLayerGroup } from "./estimate/kv-cache.js";
export { KV_DTYPE_CHOICES, COMPUTE_DTYPE_BYTES, type ComputeDtype, type KvDtypeChoice } from "./model/dtypes.js";
export { renderPlanTable } from "./report/table.js";
export { explainLines } from "./report/explain.js";
export {
  VramplanError,
  UsageError,
  HubHttpError,
  NetworkError,
  OfflineNotCachedError,
  MalformedFileError,
  UnsupportedModelError,
  ContextTooLongError,
  EXIT_CODES,
  isVramplanError,
  type ErrorCode,
} from "./errors.js";

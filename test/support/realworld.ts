import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { loadBuiltinModel } from "../../src/hub/builtin.js";
import type { LoadedModel } from "../../src/hub/load-model.js";
import { planLoadedModel, resolveServing, type Plan, type PlanOptions, type ServingRequest } from "../../src/plan.js";
import type { RawConfig } from "../../src/model/raw-config.js";

/** A model for a replayed log: a built-in checkpoint, or a config.json in test/fixtures/realworld. */
export async function loadReplayModel(id: string, source: { builtin: string } | { fixture: string }): Promise<LoadedModel> {
  if ("builtin" in source) {
    const builtin = await loadBuiltinModel(source.builtin);
    if (!builtin) throw new Error(`no built-in ${source.builtin}`);
    return { id, revision: "main", commit: undefined, configSource: "builtin", config: builtin.config, manifest: builtin.manifest, manifestSource: builtin.manifest ? "builtin" : undefined, notes: [] };
  }
  const path = fileURLToPath(new URL(`../fixtures/realworld/${source.fixture}/config.json`, import.meta.url));
  const config = JSON.parse(readFileSync(path, "utf8")) as RawConfig;
  return { id, revision: "main", commit: undefined, configSource: "builtin", config, manifest: undefined, manifestSource: undefined, notes: [] };
}

export async function replayPlan(model: LoadedModel, options: PlanOptions, serving: ServingRequest): Promise<Plan> {
  return planLoadedModel(model, options, await resolveServing(serving));
}

/** ../shared/realworld/observations.json when the checkout has it beside it; null otherwise. */
export function sharedObservations(): { id: string; reported: Record<string, unknown> }[] | null {
  try {
    const path = fileURLToPath(new URL("../../../shared/realworld/observations.json", import.meta.url));
    return JSON.parse(readFileSync(path, "utf8")) as { id: string; reported: Record<string, unknown> }[];
  } catch {
    return null;
  }
}

export const GIB = 2 ** 30;
export const MIB = 2 ** 20;

import { UsageError } from "../errors.js";
import { linearModules, type LinearModule } from "../model/modules.js";
import type { ModelSpec } from "../model/spec.js";

export interface LoraModuleCount {
  name: string;
  /** Modules of this name across the model (experts counted one by one). */
  modules: number;
  inFeatures: number;
  outFeatures: number;
  parameters: number;
}

export interface LoraAdapters {
  rank: number;
  targets: string[];
  modules: LoraModuleCount[];
  parameters: number;
  /** Modules a target named that PEFT cannot wrap here (fused expert parameters, SSM mixers). */
  skipped: string[];
}

// Families that store experts as fused 3-D parameters, which PEFT's LoRA cannot target as Linear.
const FUSED_EXPERTS = new Set(["gpt_oss", "llama4_text"]);

/**
 * LoRA adapter parameters: PEFT's `update_layer` gives each targeted Linear (d_in → d_out) an
 * A (r × d_in) and a B (d_out × r): r·(d_in + d_out) parameters (formulas.md "LoRA"). Targets match
 * module names by suffix, as PEFT does; `all-linear` is every Linear but the output layer,
 * `attention` the attention projections.
 */
export function loraAdapters(spec: ModelSpec, rank: number, targets: readonly string[]): LoraAdapters {
  if (!Number.isSafeInteger(rank) || rank < 1) throw new UsageError(`{loraRank} must be a positive whole number, got ${rank}`);
  if (targets.length === 0) throw new UsageError("{loraTargets} is empty: name modules (q_proj,v_proj), all-linear or attention");
  const all = linearModules(spec);
  const skipped = new Set<string>();
  const chosen = all.filter((module) => {
    const wanted = targets.some((target) => matches(module, target));
    if (!wanted) return false;
    if (module.role === "ssm" || (module.role === "expert" && FUSED_EXPERTS.has(spec.family))) {
      skipped.add(module.name);
      return false;
    }
    return true;
  });
  const unmatched = targets.filter((target) => target !== "all-linear" && target !== "attention" && !all.some((module) => matches(module, target)));
  if (unmatched.length > 0) {
    const names = [...new Set(all.map((module) => module.name))].join(", ");
    throw new UsageError(`{loraTargets} ${unmatched.join(", ")} match no module of this ${spec.family} model: its linear modules are ${names}`);
  }
  const byName = new Map<string, LoraModuleCount>();
  let parameters = 0;
  for (const module of chosen) {
    const count = rank * (module.inFeatures + module.outFeatures) * module.copies;
    parameters += count;
    const entry = byName.get(module.name) ?? { name: module.name, modules: 0, inFeatures: module.inFeatures, outFeatures: module.outFeatures, parameters: 0 };
    entry.modules += module.copies;
    entry.parameters += count;
    byName.set(module.name, entry);
  }
  return { rank, targets: [...targets], modules: [...byName.values()], parameters, skipped: [...skipped] };
}

function matches(module: LinearModule, target: string): boolean {
  if (target === "all-linear") return true;
  if (target === "attention") return module.role === "attention";
  return module.name === target || module.name.endsWith(`.${target}`);
}

export function parseLoraTargets(value: string): string[] {
  return value.split(",").map((target) => target.trim()).filter(Boolean);
}

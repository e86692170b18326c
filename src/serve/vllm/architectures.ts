import { releaseAtLeast, type EngineChoice } from "../engine-release.js";

/**
 * Architectures vLLM has dropped: from `removedIn` on its model registry refuses them at start-up
 * (registry.py: "Model architectures [...] are not supported for now"); before, `runsOn` says how.
 */
const REMOVED: Readonly<Record<string, { removedIn: string; runsOn: string }>> = {
  // SambaY (differential attention, YOCO KV sharing) was a V0-only model (SupportsV0Only) and went
  // with the V0 engine's models in 0.10.2.
  Phi4FlashForCausalLM: { removedIn: "0.10.2", runsOn: "the V0 engine only (SupportsV0Only): start it with VLLM_USE_V1=0" },
};

export interface ArchitectureSupport {
  refusal: string | null;
  note: string | null;
}

export function vllmArchitectureSupport(architecture: string | undefined, engine: EngineChoice): ArchitectureSupport {
  const removed = architecture ? REMOVED[architecture] : undefined;
  if (!architecture || !removed) return { refusal: null, note: null };
  if (releaseAtLeast(engine, removed.removedIn)) {
    return {
      refusal: `Model architectures ['${architecture}'] are not supported for now (vLLM removed ${architecture} in ${removed.removedIn}): plan with vllm@0.10.1 or an older release, or with transformers`,
      note: null,
    };
  }
  return { refusal: null, note: `${architecture} runs on ${removed.runsOn}; vLLM removed it in ${removed.removedIn}` };
}

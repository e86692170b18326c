import { describe, expect, it } from "vitest";
import { loadReplayModel, replayPlan } from "../support/realworld.js";

describe("architectures vLLM has dropped", () => {
  it("Phi-4-mini-flash-reasoning: refused from 0.10.2 on with the registry's message; before, planned with the V0-only note", async () => {
    // vLLM's phi4flash.py declares SupportsV0Only and was deleted with the V0 models in 0.10.2
    // (the architecture list of vLLM 0.11's registry no longer names Phi4FlashForCausalLM).
    const loaded = await loadReplayModel("microsoft/Phi-4-mini-flash-reasoning", { fixture: "microsoft--Phi-4-mini-flash-reasoning" });
    const latest = await replayPlan(loaded, { context: 32768 }, { engine: "vllm", gpu: "H100" });
    expect(latest.serving!.schemes[0]!.refusal).toMatch(/^Model architectures \['Phi4FlashForCausalLM'\] are not supported for now \(vLLM removed Phi4FlashForCausalLM in 0\.10\.2\)/);
    expect(latest.serving!.schemes[0]!.fits).toBe(false);
    const patch = await replayPlan(loaded, { context: 32768 }, { engine: "vllm@0.10.2", gpu: "H100" });
    expect(patch.serving!.schemes[0]!.refusal).toMatch(/are not supported for now/);
    const older = await replayPlan(loaded, { context: 32768 }, { engine: "vllm@0.10.1", gpu: "H100" });
    expect(older.serving!.schemes[0]!.refusal).toBeNull();
    expect(older.serving!.notes.concat(older.serving!.schemes[0]!.notes).some((note) => /V0 engine only .*VLLM_USE_V1=0/.test(note))).toBe(true);
  });

  it("other architectures are not affected", async () => {
    const loaded = await loadReplayModel("Qwen/Qwen2.5-7B", { builtin: "Qwen/Qwen2.5-7B" });
    const plan = await replayPlan(loaded, { context: 32768 }, { engine: "vllm", gpu: "H100" });
    expect(plan.serving!.schemes[0]!.refusal).toBeNull();
    expect(plan.serving!.schemes[0]!.notes.some((note) => /removed it in/.test(note))).toBe(false);
  });
});

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { planLoadedModel } from "../../src/plan.js";
import { UnsupportedModelError } from "../../src/errors.js";

const fixture = (dir: string) => JSON.parse(readFileSync(new URL(`../fixtures/realworld/${dir}/config.json`, import.meta.url), "utf8")) as Record<string, unknown>;
const plan = (config: Record<string, unknown>) =>
  planLoadedModel({ id: "some/model", revision: "main", commit: undefined, configSource: "builtin", config, manifest: undefined, manifestSource: undefined, notes: [] }, { context: 4096 });

describe("absurd shape fields in the newer families are refused by name, not blamed on the KV cache", () => {
  const kimi = fixture("moonshotai--Kimi-K2.5");
  const vision = kimi["vision_config"] as Record<string, unknown>;
  const withVision = (patch: Record<string, unknown>) => plan({ ...kimi, vision_config: { ...vision, ...patch } });

  it("a vision tower's width, depth or position table past any model's", () => {
    expect(() => withVision({ vt_hidden_size: 1e12 })).toThrow(/vt_hidden_size = 1000000000000, more than any model has/);
    expect(() => withVision({ vt_num_hidden_layers: 9e15 })).toThrow(/vt_num_hidden_layers = 9000000000000000, more than any model has/);
    expect(() => withVision({ init_pos_emb_height: 2 ** 40 })).toThrow(/init_pos_emb_height = 1099511627776, more than any model has/);
  });

  it("widths that multiply past 2^53 bytes of weights: the config is called corrupt, not the context too long", () => {
    const flash = fixture("microsoft--Phi-4-mini-flash-reasoning");
    const attempt = () => plan({ ...flash, mamba_expand: 1e9 });
    expect(attempt).toThrow(UnsupportedModelError);
    expect(attempt).toThrow(/^config\.json describes weights of more than 2\^53 bytes .*: the config is corrupt; fix its size fields$/);
  });

  it("SambaY's mb_per_layer must be a whole number of layers; 0 means no Mamba layer", () => {
    const flash = fixture("microsoft--Phi-4-mini-flash-reasoning");
    expect(() => plan({ ...flash, mb_per_layer: -3 })).toThrow(/mb_per_layer = -3, which is not a whole number of layers/);
    expect(() => plan({ ...flash, mb_per_layer: "2" })).toThrow(/mb_per_layer = "2"/);
    // No Mamba layer: layers 0–15 attend in their window, 16 and 17 globally, the rest read 17's KV; no state.
    expect(plan({ ...flash, mb_per_layer: 0 }).kvCache.stateBytes).toBe(0);
  });
});

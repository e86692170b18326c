import { afterAll, afterEach, describe, expect, it } from "vitest";
import { plan } from "../../src/plan.js";
import { MockHub } from "../support/mock-hub.js";
import { startMswHub } from "../support/msw-hub.js";
import { deepSeekScaleModel } from "../support/synthetic-models.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

const hub = new MockHub();
const server = startMswHub(hub);
let settings: TempSettings;
afterAll(() => server.close());
afterEach(async () => settings?.cleanup());

describe("a multi-token-prediction module in the checkpoint (DeepSeek-V3's layer 61)", () => {
  it("adds its parameters to the total and its experts to the routed ones, but nothing to the active count", async () => {
    const config = hub.models.get("deepseek-ai/DeepSeek-V3")?.config as object;
    hub.setModel("synthetic/deepseek-v3", deepSeekScaleModel(config, 24));
    hub.setModel("synthetic/deepseek-v3-mtp", deepSeekScaleModel(config, 24, { mtp: true }));
    settings = await tempSettings();
    const plain = await plan("synthetic/deepseek-v3", { hub: settings, context: 4096 });
    const withMtp = await plan("synthetic/deepseek-v3-mtp", { hub: settings, context: 4096 });

    // Two independent counts of what one token passes through agree: the headers' (all parameters
    // less 248 of 256 routed experts) and config.json's rules (what --explain shows).
    expect(plain.model.activeParameters).toBe(plain.weights.fromConfig?.active);
    expect(withMtp.model.activeParameters).toBe(plain.model.activeParameters);

    const mtp = withMtp.weights.components.find((component) => component.name === "multi-token prediction");
    expect(withMtp.model.parameters - plain.model.parameters).toBe(mtp?.parameters);
    // Its 256 routed experts of 3 × 7,168 × 2,048 parameters each (gate, up, down) count as routed.
    expect((withMtp.weights.routedExperts?.parameters ?? 0) - (plain.weights.routedExperts?.parameters ?? 0)).toBe(256 * 3 * 7168 * 2048);
    console.info(`DeepSeek-V3 layout: ${plain.model.parameters} parameters, ${plain.model.activeParameters} active; the MTP module adds ${mtp?.parameters}`);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpHub, type RunningHub } from "../support/http-hub.js";
import { MockHub } from "../support/mock-hub.js";
import { startPlanner } from "../support/planner-server.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

/*
 * The planner over HTTP against a loopback Hub: each class of Hub failure with its status, and a
 * slow repo that does not hold up the others.
 */
const TOKEN = "hf_HubServerSecret0123456789";
const SLOW_MS = 600;
const hub = new MockHub({
  models: { "acme/gated": { config: { model_type: "llama" }, gated: "manual" } },
  fault: async (_request, url) => {
    if (url.pathname.includes("/acme/broken-hub/")) return new Response("upstream failed", { status: 500, headers: { "Retry-After": "0" } });
    if (url.pathname.includes("/acme/hanging/")) return new Promise<Response>(() => undefined);
    if (url.pathname.includes("/meta-llama/Llama-3.1-8B/")) {
      await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
      return undefined;
    }
    return undefined;
  },
});
let running: RunningHub;
let settings: TempSettings;
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  running = await startHttpHub(hub);
  settings = await tempSettings({ endpoint: running.endpoint, transport: undefined, token: TOKEN, timeoutMs: 3000 });
  ({ base, close } = await startPlanner({ hub: settings }));
});
afterAll(async () => {
  await close();
  await running.close();
  await settings.cleanup();
});

async function get(path: string) {
  const response = await fetch(`${base}${path}`);
  const text = await response.text();
  return { status: response.status, text, error: (JSON.parse(text) as { error?: { code: string; message: string } }).error };
}

describe("the planner's API against a Hub", () => {
  it("answers each Hub failure with its code and status, never with the token", async () => {
    const cases: [string, number, string][] = [
      ["acme/no-such-model", 404, "notFound"],
      ["acme/gated", 403, "accessDenied"],
      ["acme/broken-hub", 502, "network"],
      ["acme/hanging", 504, "network"],
    ];
    for (const [model, status, code] of cases) {
      const answer = await get(`/v1/plan?model=${model}`);
      expect([answer.status, answer.error?.code], model).toEqual([status, code]);
      expect(answer.error?.message, model).toMatch(code === "network" ? /127\.0\.0\.1/ : new RegExp(model));
      expect(answer.text).not.toContain("HubServerSecret");
    }
  });

  it("a slow repo does not hold up a plan of another, nor the health check", async () => {
    const finished: string[] = [];
    const slow = get("/v1/plan?model=meta-llama/Llama-3.1-8B&context=8k").then((answer) => {
      finished.push("slow");
      return answer;
    });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const health = await get("/healthz");
    finished.push("healthz");
    const fast = await get("/v1/plan?model=Qwen/Qwen2.5-0.5B&context=8k");
    finished.push("fast");
    expect([health.status, fast.status]).toEqual([200, 200]);
    const slowAnswer = await slow;
    expect(slowAnswer.status).toBe(200);
    expect(finished).toEqual(["healthz", "fast", "slow"]);
  });
});

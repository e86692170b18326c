import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPlanner } from "../support/planner-server.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

/* The planner over HTTP, offline on the built-in set: every endpoint, its errors, a streamed batch. */
const TOKEN = "hf_ServerSecretToken0123456789";
let settings: TempSettings;
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  settings = await tempSettings({ offline: true, token: TOKEN });
  ({ base, close } = await startPlanner({ hub: settings, maxConcurrent: 2 }));
});
afterAll(async () => {
  await close();
  await settings.cleanup();
});

async function get(path: string): Promise<{ status: number; body: Record<string, unknown>; text: string }> {
  const response = await fetch(`${base}${path}`);
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as Record<string, unknown>, text };
}

describe("the planner's HTTP API", () => {
  it("GET /v1/plan is plan --json: Qwen2.5-7B at 32k, exact weights and KV, with the serving verdict", async () => {
    const { status, body } = await get("/v1/plan?model=Qwen/Qwen2.5-7B&context=32k&gpu=4090");
    expect(status).toBe(200);
    const plan = body["plan"] as { weights: { bytes: number }; kvCache: { bytes: number }; serving: { schemes: { fits: boolean }[] } };
    expect(body["kind"]).toBe("safetensors");
    // Qwen2.5-7B: the index's total_size; KV 28 layers × 2 × 4 heads × 128 × 2 B × 32,768.
    expect(plan.weights.bytes).toBe(15_231_233_024);
    expect(plan.kvCache.bytes).toBe(28 * 2 * 4 * 128 * 2 * 32_768);
    expect(plan.serving.schemes[0]?.fits).toBe(true);
  });

  it("a GGUF repo answers with its kind; train, dtype and gpus answer too", async () => {
    expect((await get("/v1/plan?model=bartowski/Meta-Llama-3.1-8B-Instruct-GGUF&context=8k")).body["kind"]).toBe("gguf");
    const train = await get("/v1/train?model=Qwen/Qwen2.5-7B&method=lora&seq=2k");
    expect([train.status, (train.body["parameters"] as { frozen: number }).frozen]).toEqual([200, 7_615_616_512]);
    const dtype = await get("/v1/dtype?value=0.1&as=fp8");
    // 0.1 in float8_e4m3fn rounds to 0.1015625 (0 0011 101).
    expect((dtype.body["conversions"] as { nearest: { value: number } }[])[0]?.nearest.value).toBe(0.1015625);
    const gpus = (await get("/v1/gpus")).body["gpus"] as { name: string; memoryGiB: number; engineSeesBytes: number }[];
    // The H100 80 GB as CUDA reports it in vLLM's logs: 79.18 GiB.
    expect(gpus.find((gpu) => gpu.name === "H100" && gpu.memoryGiB === 80)?.engineSeesBytes).toBe(Math.round(79.18 * 2 ** 30));
  });

  it("errors are JSON with the CLI's stable code and a fitting status; no option can name a file", async () => {
    const cases: [string, number, string, RegExp][] = [
      ["/v1/plan?model=Qwen/Qwen2.5-7B&context=abc", 400, "usage", /^context must be a whole number of tokens/],
      ["/v1/plan?model=Qwen/Qwen2.5-7B&chart=/tmp/x.svg", 400, "usage", /^unknown parameter "chart"/],
      ["/v1/plan?model=Qwen/Qwen2.5-7B&messages=/etc/passwd", 400, "usage", /^unknown parameter "messages"/],
      ["/v1/plan?context=8k", 400, "usage", /^name the model/],
      ["/v1/plan?model=acme/not-cached", 503, "offlineNotCached", /acme\/not-cached/],
      ["/v1/plan?model=Qwen/Qwen2.5-7B&kv-dtype=fp5", 400, "usage", /kv-dtype/],
      ["/v1/nothing", 404, "notFound", /no such endpoint/],
    ];
    for (const [path, status, code, message] of cases) {
      const answer = await get(path);
      expect([answer.status, (answer.body["error"] as { code: string }).code], path).toEqual([status, code]);
      expect((answer.body["error"] as { message: string }).message, path).toMatch(message);
      expect(answer.text).not.toContain("ServerSecretToken");
    }
  });

  it("POST /v1/batch streams JSON Lines in input order, a bad id as its own row", async () => {
    const response = await fetch(`${base}/v1/batch?context=8k`, { method: "POST", body: "Qwen/Qwen2.5-7B\nbad id!\nopenai-community/gpt2\nbartowski/Meta-Llama-3.1-8B-Instruct-GGUF\n" });
    expect(response.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
    const rows = (await response.text()).trim().split("\n").map((line) => JSON.parse(line) as { model: string; status: string; kind?: string });
    expect(rows.map((row) => [row.model, row.status, row.kind ?? null])).toEqual([
      ["Qwen/Qwen2.5-7B", "ok", "safetensors"],
      ["bad id!", "error", null],
      ["openai-community/gpt2", "ok", "safetensors"],
      ["bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", "ok", "gguf"],
    ]);
    const tooBig = await fetch(`${base}/v1/batch`, { method: "POST", body: "x".repeat(1_100_000) });
    expect(tooBig.status).toBe(400);
  });

  it("ten plans at once, two at a time: all answered, all the same", async () => {
    const answers = await Promise.all(Array.from({ length: 10 }, () => get("/v1/plan?model=meta-llama/Llama-3.1-8B&context=8k")));
    expect(answers.map((answer) => answer.status)).toEqual(Array.from({ length: 10 }, () => 200));
    // meta-llama/Llama-3.1-8B: the index's total_size.
    expect(new Set(answers.map((answer) => (answer.body["plan"] as { weights: { bytes: number } }).weights.bytes))).toEqual(new Set([16_060_522_496]));
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES, isVramplanError } from "../../src/errors.js";
import { plan, planRepo } from "../../src/index.js";
import { planTrain } from "../../src/train.js";
import { startHttpHub, type RunningHub } from "../support/http-hub.js";
import { MockHub } from "../support/mock-hub.js";
import { runCliCaptured } from "../support/run-cli.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

/* A GGUF repo goes through every command and the library, as a checkpoint does (one router: plan-repo.ts). */
const GGUF = "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF";
const hub = new MockHub();
let server: RunningHub;
let settings: TempSettings;
beforeAll(async () => {
  server = await startHttpHub(hub);
});
afterAll(async () => server.close());
afterEach(async () => settings?.cleanup());

async function env(extra: Record<string, string> = {}) {
  settings = await tempSettings();
  return { HF_HUB_CACHE: settings.hfCacheDir, VRAMPLAN_CACHE: settings.cacheDir, COLUMNS: "250", ...extra };
}

describe("a GGUF repo everywhere", () => {
  it("batch: a row like any other, with its kind, the file it speaks for, and exact bytes", async () => {
    const offline = await env({ HF_HUB_OFFLINE: "1" });
    const csv = (await runCliCaptured(["batch", "-", "-c", "8k", "--format", "csv"], offline, { stdin: `${GGUF}\nQwen/Qwen2.5-7B\n` })).stdout.trim().split("\n");
    const header = (csv[0] ?? "").split(",");
    const cell = (row: number, column: string) => (csv[row] ?? "").split(",")[header.indexOf(column)];
    expect([cell(1, "status"), cell(1, "kind"), cell(1, "gguf_file"), cell(1, "dtype")]).toEqual(["ok", "gguf", "Meta-Llama-3.1-8B-Instruct-Q4_K_M", "Q4_K_M"]);
    // KV: 32 layers × K and V × 8 heads × 128 × 2 B (f16) × 8,192 tokens = 1,073,741,824 B.
    expect(cell(1, "kv_cache_bytes")).toBe("1073741824");
    expect(Number(cell(1, "total_bytes"))).toBe(Number(cell(1, "weights_bytes")) + 1_073_741_824);
    expect([cell(2, "kind"), cell(2, "weights_bytes")]).toEqual(["safetensors", "15231233024"]);

    const table = (await runCliCaptured(["batch", "-", "-c", "8k", "--gpu", "4090"], offline, { stdin: `${GGUF}\n` })).stdout;
    // On a 24 GB card the largest file that fits is the row's: Q8_0.
    expect(table).toMatch(/bartowski\/Meta-Llama-3\.1-8B-Instruct-GGUF\s+GGUF Q8_0\s+8,030,261,312\s+7\.95\s+1\.00\s+8\.95\s+yes/);
    const jsonl = JSON.parse((await runCliCaptured(["batch", "-", "-c", "8k", "--format", "jsonl"], offline, { stdin: `${GGUF}\n` })).stdout);
    expect([jsonl.status, jsonl.kind, jsonl.plan.schema]).toEqual(["ok", "gguf", "vramplan.gguf-plan/1"]);
  });

  it("cache prefetch reads its GGUF headers into the cache, and a plan then needs no network", async () => {
    const online = await env({ HF_ENDPOINT: server.endpoint });
    const prefetch = await runCliCaptured(["cache", "prefetch", GGUF], online);
    expect([prefetch.code, prefetch.stdout]).toEqual([0, expect.stringMatching(/^fetched 1, failed 0 of 1 model: /)]);
    hub.log.length = 0;
    const planned = await runCliCaptured(["plan", GGUF, "-c", "8k", "--json"], { ...online, HF_HUB_OFFLINE: "1" });
    expect(planned.code).toBe(0);
    expect(JSON.parse(planned.stdout).model.source).toBe("vramplan-cache");
    expect(hub.log).toEqual([]);
  });

  it("the library: planRepo() plans it; plan() says to use planRepo(), not to download a config.json", async () => {
    settings = await tempSettings({ offline: true });
    const routed = await planRepo(GGUF, { context: 8192, hub: settings });
    expect(routed.kind).toBe("gguf");
    const error = await plan(GGUF, { hub: settings }).catch((caught: unknown) => caught);
    expect(isVramplanError(error)).toBe(true);
    expect((error as Error).message).toMatch(/is a repo of GGUF files, not a transformers checkpoint: planRepo\(\) plans it/);
    expect((error as Error).message).not.toMatch(/config\.json/);
  });

  it("train: LoRA from the GGUF metadata's shapes (Llama-3.1-8B's 8,030,261,248 parameters); QLoRA refused with the reason", async () => {
    settings = await tempSettings({ offline: true });
    const base = { precision: "mixed-bf16", optimizer: "adamw", seq: 4096, microBatch: 1, gradAccum: 1, gpus: 1, zero: 0, flashAttention: true, checkpointing: "none", loss: "naive", loraRank: 16 } as const;
    const lora = await planTrain(GGUF, { ...base, loraTargets: ["all-linear"], method: "lora" }, settings);
    // meta-llama/Llama-3.1-8B: total_size 16,060,522,496 B in bf16 = 8,030,261,248 parameters.
    expect(lora.parameters.frozen).toBe(8_030_261_248);
    expect(lora.sources.join("\n")).toMatch(/holds GGUF files: planned with the original model's shapes/);
    const cli = await runCliCaptured(["train", GGUF, "--method", "qlora"], await env({ HF_HUB_OFFLINE: "1" }));
    expect(cli.code).toBe(EXIT_CODES.unsupported);
    expect(cli.stderr).toMatch(/QLoRA quantizes a 16-bit transformers checkpoint with bitsandbytes/);
  });
});

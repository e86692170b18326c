import { createHash } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readModelIds } from "../../src/batch/read-ids.js";
import { runBatch, type BatchRow } from "../../src/batch/run-batch.js";
import type { HubSettings } from "../../src/hub/settings.js";
import { parseManifest } from "../../src/model/manifest.js";
import { startHttpHub, type RunningHub } from "../support/http-hub.js";
import { commitFor, json, MockHub, type MockModel } from "../support/mock-hub.js";
import { DEFAULT_MAX_IN_FLIGHT } from "../../src/hub/http.js";
import { llamaScaleModel } from "../support/synthetic-models.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

/*
 * A Hub that misbehaves the way real networks and repos do, served over real HTTP so the real
 * transport (undici, its timeouts, keep-alive) is the one under test. Transient faults are drawn
 * per request from a seeded hash of the request and how often it was asked, so a run is
 * reproducible whatever order the requests arrive in. Persistent faults break chosen models.
 */
const SEED = "vramplan-faults-1";
const TIMEOUT_MS = 250;
const BASES = ["Qwen/Qwen2.5-0.5B", "meta-llama/Llama-3.2-1B", "openai-community/gpt2", "mistralai/Mistral-7B-v0.1", "meta-llama/Llama-3.1-8B"];
const MODEL_COUNT = 30;
const ids = Array.from({ length: MODEL_COUNT }, (_, index) => `faulty/model-${index}`);
const MALFORMED_CONFIG = new Set(["faulty/model-2", "faulty/model-11", "faulty/model-23"]);
const TRUNCATED_HEADER = new Set(["faulty/model-5", "faulty/model-18"]); // one single-file, one sharded
const ABSURD_HEADER = "faulty/model-7";

const hub = new MockHub({ fixturesRoot: false });
const baseHub = new MockHub();
const tally = { requests: 0, status5xx: 0, status429: 0, delayed: 0 };
const seen = new Map<string, number>();

function draw(key: string): number {
  const n = (seen.get(key) ?? 0) + 1;
  seen.set(key, n);
  return createHash("sha256").update(`${SEED}|${key}|${n}`).digest().readUInt32BE(0) / 2 ** 32;
}

async function faults(request: Request, url: URL): Promise<Response | undefined> {
  tally.requests += 1;
  const roll = draw(`${request.method} ${url.pathname} ${request.headers.get("range") ?? ""}`);
  if (roll < 0.1) {
    tally.status5xx += 1;
    return json({ error: "upstream error" }, [500, 502, 503, 504][Math.floor(roll * 40)] ?? 503);
  }
  if (roll < 0.15) {
    tally.status429 += 1;
    return json({ error: "rate limited" }, 429, { "Retry-After": "1" });
  }
  if (roll < 0.18) {
    tally.delayed += 1;
    await new Promise((resolve) => setTimeout(resolve, 3 * TIMEOUT_MS));
  }
  const id = /^\/(faulty\/model-\d+)\//.exec(url.pathname)?.[1] ?? "";
  const isShard = url.pathname.endsWith(".safetensors") && request.method === "GET";
  if (isShard && id === ABSURD_HEADER) {
    const prefix = new Uint8Array(16);
    new DataView(prefix.buffer).setBigUint64(0, 200_000_000n, true); // a 200 MB header
    return new Response(prefix, { status: 206, headers: { "Content-Range": "bytes 0-15/4000000000", "X-Repo-Commit": commitFor(id) } });
  }
  if (isShard && TRUNCATED_HEADER.has(id)) {
    // The file on the server ends halfway through its header.
    const real = await hub.serve(request);
    if (real.status !== 206) return real;
    const bytes = new Uint8Array(await real.arrayBuffer());
    const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const cut = bytes.subarray(0, 8 + Math.floor(headerLength / 2));
    return new Response(cut, { status: 206, headers: { "Content-Range": `bytes 0-${cut.byteLength - 1}/${cut.byteLength}`, "X-Repo-Commit": commitFor(id) } });
  }
  return undefined;
}

function expectedWeightBytes(id: string): number {
  return (hub.models.get(id)?.files ?? []).flatMap((file) => file.tensors).reduce((sum, tensor) => sum + tensor.bytes, 0);
}

let server: RunningHub;
let settings: TempSettings;
beforeAll(async () => {
  ids.forEach((id, index) => {
    const base = baseHub.models.get(BASES[index % BASES.length] as string) as MockModel;
    hub.setModel(id, MALFORMED_CONFIG.has(id) ? { ...base, config: '{"model_type": "llama", "hidden_size": 40' } : { ...base });
  });
  hub.options.fault = faults;
  server = await startHttpHub(hub);
  // The real transport (undici), not the in-process one tests usually inject.
  settings = await tempSettings({ endpoint: server.endpoint, transport: undefined, timeoutMs: TIMEOUT_MS });
});
afterAll(async () => {
  await server?.close();
  await settings?.cleanup();
});

async function filesUnder(root: string): Promise<string[]> {
  try {
    return (await readdir(root, { recursive: true, withFileTypes: true })).filter((entry) => !entry.isDirectory()).map((entry) => join(entry.parentPath, entry.name));
  } catch {
    return [];
  }
}

describe("batch against a faulty Hub", () => {
  let rows: BatchRow[];

  it("ends every id as a correct plan or a clear error row, and caches only valid entries", { timeout: 90_000 }, async () => {
    const started = Date.now();
    rows = await runBatch(readModelIds(ids.join("\n")), { plan: { context: 4096 }, hub: { ...settings } as HubSettings, concurrency: 8 });
    const seconds = (Date.now() - started) / 1000;

    const outcome = new Map<string, BatchRow>(rows.map((row) => [row.input, row]));
    for (const id of MALFORMED_CONFIG) expect(outcome.get(id)?.error).toMatchObject({ code: "malformed", message: expect.stringContaining(`${id}/config.json`) });
    for (const id of TRUNCATED_HEADER) expect(outcome.get(id)?.error).toMatchObject({ code: "malformed", message: expect.stringMatching(/truncated/) });
    expect(outcome.get(ABSURD_HEADER)?.error).toMatchObject({ code: "malformed", message: expect.stringContaining("header claims 200000000 bytes") });
    for (const row of rows) {
      if (row.error) {
        expect(row.error.message).not.toContain("\n");
        // Only broken models, or requests that failed every retry, may end as errors.
        if (!MALFORMED_CONFIG.has(row.input) && !TRUNCATED_HEADER.has(row.input) && row.input !== ABSURD_HEADER) expect(row.error.code).toBe("network");
      } else {
        expect(row.plan?.model.commit).toBe(commitFor(row.input));
        expect(row.plan?.weights.bytes).toBe(expectedWeightBytes(row.input));
      }
    }
    const healthy = rows.filter((row) => row.plan).length;
    // Deterministic for the seed: with 18% of answers faulty and 4 attempts per request, almost all succeed.
    expect(healthy).toBeGreaterThanOrEqual(MODEL_COUNT - 6 - 2);

    const hfFiles = await filesUnder(settings.hfCacheDir);
    const ownFiles = await filesUnder(settings.cacheDir);
    expect([...hfFiles, ...ownFiles].filter((path) => path.endsWith(".tmp"))).toEqual([]);
    for (const path of hfFiles.filter((file) => file.endsWith("config.json"))) {
      const id = /models--(.+?)\/snapshots/.exec(path)?.[1]?.replace("--", "/") ?? "";
      expect(MALFORMED_CONFIG.has(id)).toBe(false);
      expect(JSON.parse(await readFile(path, "utf8"))).toEqual(hub.models.get(id)?.config);
    }
    for (const path of ownFiles) {
      const id = /models--(.+?)\//.exec(path)?.[1]?.replace("--", "/") ?? "";
      expect(TRUNCATED_HEADER.has(id) || id === ABSURD_HEADER).toBe(false);
      const manifest = parseManifest(await readFile(path, "utf8"), path);
      expect(manifest.files.flatMap((file) => file.tensors).reduce((sum, tensor) => sum + tensor.bytes, 0)).toBe(expectedWeightBytes(id));
    }
    console.info(
      `fault injection: ${tally.requests} requests (${tally.status5xx} 5xx, ${tally.status429} 429, ${tally.delayed} past the timeout), ` +
        `${healthy}/${MODEL_COUNT} planned, ${MODEL_COUNT - healthy} error rows, ${seconds.toFixed(1)} s`,
    );
  });

  it("a second run with the faults off (and the models repaired) completes every id", { timeout: 60_000 }, async () => {
    hub.options.fault = undefined;
    for (const id of MALFORMED_CONFIG) hub.setModel(id, { ...(hub.models.get(id) as MockModel), config: baseHub.models.get(BASES[ids.indexOf(id) % BASES.length] as string)?.config as object });
    TRUNCATED_HEADER.clear();
    const again = await runBatch(readModelIds(ids.join("\n")), { plan: { context: 4096 }, hub: { ...settings } as HubSettings, concurrency: 8 });
    expect(again.map((row) => row.error)).toEqual(ids.map(() => null));
    for (const row of again) expect(row.plan?.weights.bytes).toBe(expectedWeightBytes(row.input));
  });
});

describe("a Hub that hangs or keeps failing: the cache or the built-in set answers, within one timeout", () => {
  async function hubThat(fault: (request: Request, url: URL) => Promise<Response | undefined>) {
    const misbehaving = new MockHub();
    misbehaving.options.fault = fault;
    const running = await startHttpHub(misbehaving);
    const local = await tempSettings({ endpoint: running.endpoint, transport: undefined, timeoutMs: TIMEOUT_MS });
    return { running, local };
  }

  it("accepts the connection and never answers: the built-in copy, with a note saying why", { timeout: 20_000 }, async () => {
    const { running, local } = await hubThat(() => new Promise<Response | undefined>(() => undefined));
    try {
      const { loadModel } = await import("../../src/hub/load-model.js");
      const { parseModelRef } = await import("../../src/model-id.js");
      const started = Date.now();
      const loaded = await loadModel(parseModelRef("Qwen/Qwen2.5-0.5B"), local);
      // One timeout (twice the idle bound for the whole request) and no retries.
      expect(Date.now() - started).toBeLessThan(6 * TIMEOUT_MS + 2000);
      expect(loaded.configSource).toBe("builtin");
      expect(loaded.notes.join("\n")).toMatch(/did not answer within .* s: planned from vramplan's built-in copy/);
    } finally {
      await running.close();
      await local.cleanup();
    }
  });

  it("answers 503 every time: the built-in copy for a model it has, a network error (exit 5) for one it has not", { timeout: 30_000 }, async () => {
    const { running, local } = await hubThat(async () => json({ error: "unavailable" }, 503));
    try {
      const { loadModel } = await import("../../src/hub/load-model.js");
      const { parseModelRef } = await import("../../src/model-id.js");
      const loaded = await loadModel(parseModelRef("Qwen/Qwen2.5-0.5B"), local);
      expect(loaded.configSource).toBe("builtin");
      expect(loaded.notes.join("\n")).toMatch(/answered HTTP 503 4 times: planned from vramplan's built-in copy/);
      const error = await loadModel(parseModelRef("acme/not-built-in"), local).catch((caught: unknown) => caught);
      expect((error as { code?: string }).code).toBe("network");
      expect((error as Error).message).toMatch(/answered HTTP 503 to 4 attempts/);
    } finally {
      await running.close();
      await local.cleanup();
    }
  });
});

describe("a Hub that is down for a whole batch", () => {
  it("once known down, the rest of the run does not wait on it: 40 ids end within a few timeouts", { timeout: 30_000 }, async () => {
    const hanging = new MockHub();
    let requests = 0;
    hanging.options.fault = () => {
      requests += 1;
      return new Promise<Response | undefined>(() => undefined);
    };
    const running = await startHttpHub(hanging);
    const local = await tempSettings({ endpoint: running.endpoint, transport: undefined, timeoutMs: TIMEOUT_MS });
    try {
      const junk = Array.from({ length: 38 }, (_, index) => `acme/missing-${index}`);
      const started = Date.now();
      const rows = await runBatch(readModelIds(["Qwen/Qwen2.5-0.5B", ...junk, "meta-llama/Llama-3.2-1B"].join("\n")), { plan: { context: 1024 }, hub: local as HubSettings, concurrency: 8 });
      const seconds = (Date.now() - started) / 1000;
      // Without the short-circuit: 40 ids × one 0.5 s request bound at 8 at a time ≥ 2.5 s, and
      // every speculative read besides; with it, one round of timeouts.
      expect(seconds).toBeLessThan(2.5);
      expect(requests).toBeLessThanOrEqual(8 * 3);
      expect(rows[0]?.plan?.model.configSource).toBe("builtin");
      expect(rows.at(-1)?.plan?.model.configSource).toBe("builtin");
      for (const row of rows.slice(1, -1)) expect(row.error?.code).toBe("network");
    } finally {
      await running.close();
      await local.cleanup();
    }
  });
});

describe("a 191-shard checkpoint from a Hub with a short listen backlog", () => {
  it("is read over a bounded pool of connections, one small range per shard, and planned exactly", { timeout: 60_000 }, async () => {
    const model = llamaScaleModel();
    const scaleHub = new MockHub({ fixturesRoot: false, models: { "meta-llama/Llama-3.1-405B": model } });
    // A backlog of 8 with 20 ms per answer: a burst of 191 connections would overflow it.
    const running = await startHttpHub(scaleHub, { backlog: 8, latencyMs: 20 });
    const local = await tempSettings({ endpoint: running.endpoint, transport: undefined, timeoutMs: 5_000 });
    try {
      const { plan } = await import("../../src/plan.js");
      const started = Date.now();
      const result = await plan("meta-llama/Llama-3.1-405B", { hub: local, context: 4096 });
      const seconds = (Date.now() - started) / 1000;
      // The Hub's model page: 405,853,388,800 parameters, all bf16.
      expect(result.weights.bytes).toBe(405_853_388_800 * 2);
      const shardReads = scaleHub.log.filter((entry) => /model-\d{5}-of-00191\.safetensors$/.test(entry.url));
      // Every shard once: no read was too short for its header, and no request timed out and was retried.
      expect(shardReads).toHaveLength(191);
      expect(new Set(shardReads.map((entry) => entry.url)).size).toBe(191);
      expect(running.stats.maxOpen).toBeLessThanOrEqual(DEFAULT_MAX_IN_FLIGHT);
      // Each header is under 1.5 KB; reads are sized from the index, not 256 KiB apiece.
      const largestRead = Math.max(...shardReads.map((entry) => Number(/-(\d+)$/.exec(entry.range ?? "")?.[1]) + 1));
      expect(largestRead).toBeLessThan(8 * 1024);
      console.info(`191 shards: ${scaleHub.log.length} requests, ${running.stats.connections} connections (at most ${running.stats.maxOpen} open), ${running.stats.bytesSent} bytes, ${seconds.toFixed(2)} s`);
    } finally {
      await running.close();
      await local.cleanup();
    }
  });
});

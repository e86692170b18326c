import { readdir, readFile, readlink, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { startHttpHub, type RunningHub } from "../support/http-hub.js";
import { commitFor, MockHub } from "../support/mock-hub.js";
import { runCliCaptured } from "../support/run-cli.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

// Published sizes: model.safetensors.index.json metadata.total_size of each repo on the Hub.
const QWEN_7B_WEIGHTS = 15_231_233_024;
const LLAMA_8B_WEIGHTS = 16_060_522_496;
// KV cache at 8,192 tokens, by hand from config.json: layers × 2 (K and V) × KV heads × head_dim × 2 bytes (bf16) × tokens.
const QWEN_7B_KV_8K = 28 * 2 * 4 * 128 * 2 * 8192; // 469,762,048
const LLAMA_8B_KV_8K = 32 * 2 * 8 * 128 * 2 * 8192; // 1,073,741,824

let settings: TempSettings;
afterEach(async () => settings?.cleanup());

async function cacheEnv(extra: Record<string, string> = {}) {
  settings = await tempSettings();
  return { HF_HUB_CACHE: settings.hfCacheDir, VRAMPLAN_CACHE: settings.cacheDir, ...extra };
}

const IDS = ["# models to compare", "Qwen/Qwen2.5-7B", "", "meta-llama/Llama-3.1-8B   # the 8B", "not a model id", "Qwen/Qwen2.5-7B"].join("\n");

describe("vramplan batch, offline on the built-in set", () => {
  it("CSV: one row per id in input order, exact bytes, a bad id as an error row, exit code 10", async () => {
    const env = await cacheEnv({ HF_HUB_OFFLINE: "1" });
    const file = join(settings.root, "ids.txt");
    await writeFile(file, IDS);
    const result = await runCliCaptured(["batch", file, "--context", "8k", "--format", "csv"], env);
    expect(result.code).toBe(EXIT_CODES.partialFailure);
    expect(result.stderr).toBe("vramplan: 1 of 4 models failed (see their rows)\n");
    const [header, ...lines] = result.stdout.trimEnd().split("\n");
    const columns = (header ?? "").split(",");
    const cell = (line: string | undefined, name: string) => (line ?? "").split(",")[columns.indexOf(name)];
    expect(lines.map((line) => cell(line, "model"))).toEqual(["Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B", "not a model id", "Qwen/Qwen2.5-7B"]);
    expect(lines.map((line) => cell(line, "status"))).toEqual(["ok", "ok", "error", "ok"]);
    expect(Number(cell(lines[0], "weights_bytes"))).toBe(QWEN_7B_WEIGHTS);
    expect(Number(cell(lines[0], "kv_cache_bytes"))).toBe(QWEN_7B_KV_8K);
    expect(Number(cell(lines[0], "total_bytes"))).toBe(QWEN_7B_WEIGHTS + QWEN_7B_KV_8K);
    expect(Number(cell(lines[1], "weights_bytes"))).toBe(LLAMA_8B_WEIGHTS);
    expect(Number(cell(lines[1], "kv_cache_bytes"))).toBe(LLAMA_8B_KV_8K);
    expect(cell(lines[2], "error_code")).toBe("usage");
    expect(lines[3]).toBe(lines[0]);
  });

  it("JSON Lines from stdin: each line a whole plan or an error", async () => {
    const result = await runCliCaptured(["batch", "-", "-c", "8192", "--format", "jsonl"], await cacheEnv({ HF_HUB_OFFLINE: "1" }), { stdin: IDS });
    const records = result.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(records).toHaveLength(4);
    expect(records[1]).toMatchObject({ model: "meta-llama/Llama-3.1-8B", status: "ok", plan: { schema: "vramplan.plan/1", weights: { bytes: LLAMA_8B_WEIGHTS }, kvCache: { bytes: LLAMA_8B_KV_8K } } });
    expect(records[2]).toMatchObject({ model: "not a model id", status: "error", error: { code: "usage" } });
  });

  it("Markdown with a GPU adds the fits column; --out writes the file and nothing to stdout", async () => {
    const env = await cacheEnv({ HF_HUB_OFFLINE: "1" });
    const out = join(settings.root, "plans.md");
    const result = await runCliCaptured(["batch", "-", "-c", "8k", "--gpu", "L4", "--format", "markdown", "--out", out], env, { stdin: "Qwen/Qwen2.5-7B\nmeta-llama/Llama-3.1-8B\n" });
    expect([result.code, result.stdout, result.stderr]).toEqual([0, "", ""]);
    const lines = (await readFile(out, "utf8")).trimEnd().split("\n");
    expect(lines[0]).toBe("| model | status | kind | parameters | weights GiB | KV cache GiB | total GiB | fits | error or warning |");
    expect(lines[1]).toBe("|---|---|---|---|---|---|---|---|---|");
    // 15,231,233,024 / 2^30 = 14.185…; 469,762,048 / 2^30 = 0.4375.
    expect(lines[2]).toMatch(/^\| Qwen\/Qwen2\.5-7B \| ok \| safetensors \| 7,615,616,512 \| 14\.19 \| 0\.44 \| 14\.62 \| yes \|\s+\|$/);
    expect(lines).toHaveLength(4);
    expect(await readdir(settings.root)).not.toContainEqual(expect.stringMatching(/\.tmp$/));
  });

  it("an empty list and a missing file are usage errors", async () => {
    const env = await cacheEnv({ HF_HUB_OFFLINE: "1" });
    expect(await runCliCaptured(["batch", "-"], env, { stdin: "# nothing\n\n" })).toMatchObject({ code: EXIT_CODES.usage, stderr: "vramplan: stdin names no model: one org/name per line\n" });
    const missing = await runCliCaptured(["batch", join(settings.root, "nope.txt")], env);
    expect(missing.code).toBe(EXIT_CODES.usage);
    expect(missing.stderr).toMatch(/^vramplan: cannot read .*nope\.txt: ENOENT\n$/);
  });
});

describe("vramplan batch and cache against a Hub over HTTP", () => {
  const hub = new MockHub();
  let server: RunningHub;
  let cdn: RunningHub;
  beforeAll(async () => {
    hub.setModel("acme/gated", { ...hub.models.get("Qwen/Qwen2.5-0.5B"), gated: "manual" });
    cdn = await startHttpHub(hub);
    hub.options.cdnOrigin = cdn.endpoint;
    server = await startHttpHub(hub);
  });
  afterAll(async () => {
    await server?.close();
    await cdn?.close();
  });

  it("fetches a model named twice once, reports a 404 as a row, then plans the same list offline", async () => {
    const env = await cacheEnv({ HF_ENDPOINT: server.endpoint });
    hub.log.length = 0;
    const list = "Qwen/Qwen2.5-7B\nacme/missing\nmeta-llama/Llama-3.1-8B\nQwen/Qwen2.5-7B@main\n";
    const online = await runCliCaptured(["batch", "-", "-c", "8k", "--format", "jsonl", "--concurrency", "3"], env, { stdin: list });
    expect(online.code).toBe(EXIT_CODES.partialFailure);
    const rows = online.stdout.trimEnd().split("\n").map((line) => JSON.parse(line));
    expect(rows.map((row) => row.status)).toEqual(["ok", "error", "ok", "ok"]);
    expect(rows[1].error.code).toBe("notFound");
    expect(rows[0].plan.model.commit).toBe(commitFor("Qwen/Qwen2.5-7B"));
    expect(rows[3].plan.weights.bytes).toBe(QWEN_7B_WEIGHTS);
    expect(hub.requestsTo("/Qwen/Qwen2.5-7B/resolve/main/config.json")).toHaveLength(1);

    const offline = await runCliCaptured(["batch", "-", "-c", "8k", "--format", "csv"], { ...env, HF_HUB_OFFLINE: "1" }, { stdin: "Qwen/Qwen2.5-7B\nmeta-llama/Llama-3.1-8B\n" });
    expect(offline.code).toBe(0);
    expect(offline.stdout).toContain(`,${commitFor("meta-llama/Llama-3.1-8B")},`);
  });

  it("cache prefetch with the Hub out of reach caches nothing and says so: a built-in copy is not a fetch", async () => {
    const unreachable = await startHttpHub(new MockHub());
    const endpoint = unreachable.endpoint;
    await unreachable.close();
    const env = await cacheEnv({ HF_ENDPOINT: endpoint, HF_HUB_DOWNLOAD_TIMEOUT: "2" });
    const prefetch = await runCliCaptured(["cache", "prefetch", "Qwen/Qwen2.5-7B"], env);
    expect(prefetch.code).toBe(EXIT_CODES.partialFailure);
    expect(prefetch.stdout).toMatch(/^fetched 0, failed 1 of 1 model: caches /);
    expect(prefetch.stderr).toMatch(/^vramplan: Qwen\/Qwen2\.5-7B: the Hub could not be reached, so nothing was fetched or cached/m);
    expect(await readdir(settings.hfCacheDir).catch(() => [])).toEqual([]);
  });

  it("cache prefetch fills both caches; cache ls lists each revision with its refs and tensor count", async () => {
    const env = await cacheEnv({ HF_ENDPOINT: server.endpoint });
    const file = join(settings.root, "ids.txt");
    await writeFile(file, "meta-llama/Llama-3.2-1B\n");
    const prefetch = await runCliCaptured(["cache", "prefetch", "Qwen/Qwen2.5-0.5B", file, "acme/missing", "Qwen/Qwen2.5-0.5B"], env);
    expect(prefetch.code).toBe(EXIT_CODES.partialFailure);
    expect(prefetch.stdout).toBe(`fetched 2, failed 1 of 3 models (1 repeated id skipped): caches ${settings.hfCacheDir} and ${settings.cacheDir}\n`);
    expect(prefetch.stderr).toMatch(/^vramplan: acme\/missing: .*not found/m);

    const listed = await runCliCaptured(["cache", "ls", "--json"], env);
    expect(listed.code).toBe(0);
    const inventory = JSON.parse(listed.stdout);
    expect(inventory.revisions.map((revision: { id: string }) => revision.id)).toEqual(["meta-llama/Llama-3.2-1B", "Qwen/Qwen2.5-0.5B"].sort((a, b) => a.localeCompare(b)));
    const qwen = inventory.revisions.find((revision: { id: string }) => revision.id === "Qwen/Qwen2.5-0.5B");
    const expectedTensors = hub.models.get("Qwen/Qwen2.5-0.5B")?.files?.flatMap((f) => f.tensors) ?? [];
    expect(qwen).toMatchObject({ commit: commitFor("Qwen/Qwen2.5-0.5B"), refs: ["main"], manifest: { tensors: expectedTensors.length, weightBytes: expectedTensors.reduce((sum, t) => sum + t.bytes, 0) } });
    expect(qwen.files).toContain("config.json");

    const table = await runCliCaptured(["cache", "ls"], env);
    expect(table.stdout).toMatch(new RegExp(`^Qwen/Qwen2\\.5-0\\.5B\\s+${commitFor("Qwen/Qwen2.5-0.5B").slice(0, 12)}\\s+main\\s+yes\\s+${expectedTensors.length} tensors`, "m"));

    const offline = await runCliCaptured(["plan", "meta-llama/Llama-3.2-1B", "--json"], { ...env, HF_HUB_OFFLINE: "1" });
    expect(JSON.parse(offline.stdout).model.commit).toBe(commitFor("meta-llama/Llama-3.2-1B"));
  });

  it("cache ls says in words which folders it skipped and why: a ref to no snapshot, a link to a deleted blob", async () => {
    const env = await cacheEnv({ HF_ENDPOINT: server.endpoint });
    await runCliCaptured(["cache", "prefetch", "Qwen/Qwen2.5-0.5B", "meta-llama/Llama-3.2-1B"], env);
    // A hand-written ref with a line break, and a blob removed from under its snapshot link.
    await writeFile(join(settings.hfCacheDir, "models--Qwen--Qwen2.5-0.5B", "refs", "dev"), "not-a-sha\n");
    const snapshot = join(settings.hfCacheDir, "models--meta-llama--Llama-3.2-1B", "snapshots", commitFor("meta-llama/Llama-3.2-1B"));
    await rm(join(snapshot, await readlink(join(snapshot, "config.json"))));
    const table = await runCliCaptured(["cache", "ls"], env);
    expect(table.code).toBe(0);
    const warnings = table.stdout.split("\n").filter((line) => line.startsWith("warning:"));
    expect(warnings).toEqual([
      'warning: models--Qwen--Qwen2.5-0.5B: skipped, its refs/dev → "not-a-sha\\n" names no snapshot in the cache',
      `warning: models--meta-llama--Llama-3.2-1B: skipped, models--meta-llama--Llama-3.2-1B/snapshots/${commitFor("meta-llama/Llama-3.2-1B")}/config.json is missing (a link to a deleted or unfinished download)`,
    ]);
    expect(table.stdout).toContain("huggingface-cli delete-cache");
  });

  it("cache path names both caches; prefetch refuses to run offline", async () => {
    const env = await cacheEnv({ HF_HUB_OFFLINE: "1" });
    const path = await runCliCaptured(["cache", "path", "--json"], env);
    // The same keys as cache ls --json.
    expect(JSON.parse(path.stdout)).toEqual({ hfCacheDir: settings.hfCacheDir, cacheDir: settings.cacheDir });
    const listed = JSON.parse((await runCliCaptured(["cache", "ls", "--json"], env)).stdout);
    expect({ hfCacheDir: listed.hfCacheDir, cacheDir: listed.cacheDir }).toEqual(JSON.parse(path.stdout));
    const prefetch = await runCliCaptured(["cache", "prefetch", "Qwen/Qwen2.5-7B"], env);
    expect(prefetch.code).toBe(EXIT_CODES.usage);
    expect(prefetch.stderr).toBe("vramplan: cache prefetch needs the network: unset HF_HUB_OFFLINE\n");
  });

  it("HF_TOKEN is sent only to the endpoint, never to the CDN it redirects to, and never printed even with --debug", async () => {
    const token = "hf_batchSecretToken123";
    hub.options.acceptedTokens = [token];
    const env = await cacheEnv({ HF_ENDPOINT: server.endpoint, HF_TOKEN: token });
    hub.log.length = 0;
    const result = await runCliCaptured(["batch", "-", "--debug", "--format", "jsonl"], env, { stdin: "acme/gated\nacme/missing\n" });
    expect(result.code).toBe(EXIT_CODES.partialFailure);
    expect(JSON.parse(result.stdout.split("\n")[0] ?? "")).toMatchObject({ status: "ok" });
    expect(result.stderr).toContain("debug:");
    for (const text of [result.stdout, result.stderr]) expect(text).not.toContain(token);
    const toCdn = hub.log.filter((entry) => entry.url.startsWith(cdn.endpoint));
    expect(toCdn.length).toBeGreaterThan(0);
    expect(toCdn.every((entry) => entry.authorization === null)).toBe(true);
    expect(hub.log.filter((entry) => entry.url.startsWith(server.endpoint)).every((entry) => entry.authorization === `Bearer ${token}`)).toBe(true);
  });
});

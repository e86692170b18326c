import { lstat, readFile, readlink, readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { http } from "msw";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { isVramplanError } from "../../src/errors.js";
import { plan } from "../../src/plan.js";
import { manifestPath } from "../../src/hub/manifest-cache.js";
import { commitFor, MockHub } from "../support/mock-hub.js";
import { MOCK_CDN, MOCK_ENDPOINT, startMswHub } from "../support/msw-hub.js";
import { deepSeekScaleModel } from "../support/synthetic-models.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

const hub = new MockHub();
const server = startMswHub(hub);
let settings: TempSettings;

afterAll(() => server.close());
afterEach(async () => {
  hub.log.length = 0;
  await settings?.cleanup();
});

async function expectError(promise: Promise<unknown>, code: string, pattern: RegExp) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isVramplanError(error), `expected a VramplanError, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  expect((error as Error).message).toMatch(pattern);
  expect((error as Error).message).not.toContain("\n");
}

describe("loading a model from the Hub", () => {
  it("plans Qwen2.5-7B at 32k from a single-index sharded checkpoint, exactly", async () => {
    settings = await tempSettings();
    const result = await plan("Qwen/Qwen2.5-7B", { context: 32768, hub: settings });
    // model.safetensors.index.json metadata.total_size of Qwen/Qwen2.5-7B (published: 15,231,233,024 B,
    // 7,615,616,512 parameters in bf16; see ../shared/conformance/Qwen--Qwen2.5-7B/expected.json sources).
    expect(result.weights.bytes).toBe(15_231_233_024);
    expect(result.weights.parameters).toBe(7_615_616_512);
    expect(result.weights.source).toBe("safetensors");
    // KV = 2 (K and V) × 28 layers × 4 KV heads × 128 head_dim × 2 B (bf16) × 32,768 tokens × 1 sequence
    expect(result.kvCache.bytes).toBe(2 * 28 * 4 * 128 * 2 * 32768);
    expect(result.kvCache.bytes).toBe(1_879_048_192);
    expect(result.model.commit).toBe(commitFor("Qwen/Qwen2.5-7B"));
    expect(result.model.configSource).toBe("hub");
    expect(result.model.manifestSource).toBe("hub");
  });

  it("writes the HF cache layout huggingface_hub reads, and vramplan's manifest, pinned to the commit", async () => {
    settings = await tempSettings();
    await plan("Qwen/Qwen2.5-0.5B", { hub: settings });
    const commit = commitFor("Qwen/Qwen2.5-0.5B");
    const repo = join(settings.hfCacheDir, "models--Qwen--Qwen2.5-0.5B");
    expect(await readFile(join(repo, "refs", "main"), "utf8")).toBe(commit);
    const snapshot = join(repo, "snapshots", commit, "config.json");
    expect((await lstat(snapshot)).isSymbolicLink()).toBe(true);
    expect(await readlink(snapshot)).toMatch(/^\.\.\/\.\.\/blobs\/[0-9a-f]{40}$/);
    expect(JSON.parse(await readFile(snapshot, "utf8")).model_type).toBe("qwen2");
    expect(await readdir(join(repo, "blobs"))).toHaveLength(1); // no .incomplete left behind
    const manifest = JSON.parse(await readFile(manifestPath(settings.cacheDir, "Qwen/Qwen2.5-0.5B", commit), "utf8"));
    expect(manifest.format).toBe("vramplan.manifest/1");
  });

  it("never writes to stdout while downloading (the hub client's console.debug is silenced)", async () => {
    settings = await tempSettings();
    const debug = vi.spyOn(console, "debug");
    const log = vi.spyOn(console, "log");
    const write = vi.spyOn(process.stdout, "write");
    await plan("meta-llama/Llama-3.2-1B", { hub: settings });
    expect(debug).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
    expect(write).not.toHaveBeenCalled();
    vi.restoreAllMocks();
  });

  it("reads a sharded checkpoint's headers with range requests only, never the weights", async () => {
    settings = await tempSettings();
    const result = await plan("meta-llama/Llama-3.1-8B", { context: 8192, hub: settings });
    // Published total_size of meta-llama/Llama-3.1-8B's index (../shared/conformance sources).
    expect(result.weights.bytes).toBe(16_060_522_496);
    // KV = 2 × 32 layers × 8 KV heads × 128 head_dim × 2 B × 8,192 tokens
    expect(result.kvCache.bytes).toBe(2 * 32 * 8 * 128 * 2 * 8192);
    expect(result.kvCache.bytes).toBe(1_073_741_824);
    const shardReads = hub.requestsTo(".safetensors").filter((entry) => entry.method === "GET" && !entry.url.endsWith(".json"));
    expect(shardReads.length).toBeGreaterThan(0);
    for (const read of shardReads) expect(read.range, read.url).toMatch(/^bytes=\d+-\d+$/);
  });

  it("multiplies the KV cache by --batch", async () => {
    settings = await tempSettings();
    const one = await plan("meta-llama/Llama-3.1-8B", { context: 8192, hub: settings });
    const four = await plan("meta-llama/Llama-3.1-8B", { context: 8192, batch: 4, hub: settings });
    expect(four.kvCache.bytes).toBe(4 * one.kvCache.bytes);
    expect(four.weights.bytes).toBe(one.weights.bytes);
  });

  it("plans again offline from the caches with no request at all", async () => {
    settings = await tempSettings();
    const online = await plan("mistralai/Mistral-7B-v0.1", { hub: settings });
    hub.log.length = 0;
    const offline = await plan("mistralai/Mistral-7B-v0.1", { hub: { ...settings, offline: true } });
    expect(hub.log).toHaveLength(0);
    expect(offline.weights).toEqual(online.weights);
    expect(offline.kvCache).toEqual(online.kvCache);
    expect(offline.model.configSource).toBe("hf-cache");
    expect(offline.model.manifestSource).toBe("vramplan-cache");
    expect(offline.model.commit).toBe(online.model.commit);
  });

  it("asks the Hub for config.json alone (which names the commit) once the commit's manifest is cached", async () => {
    settings = await tempSettings();
    await plan("Qwen/Qwen2.5-0.5B", { hub: settings });
    hub.log.length = 0;
    await plan("Qwen/Qwen2.5-0.5B", { hub: settings });
    expect(hub.log.map((entry) => new URL(entry.url).pathname)).toEqual(["/Qwen/Qwen2.5-0.5B/resolve/main/config.json"]);
  });

  it("costs one round trip for a single-file checkpoint and two for a sharded one", async () => {
    settings = await tempSettings();
    await plan("Qwen/Qwen2.5-0.5B", { hub: settings });
    // config.json, model.safetensors (range), model.safetensors.index.json (range; 404 here), at once.
    expect(hub.log).toHaveLength(3);
    hub.log.length = 0;
    await plan("meta-llama/Llama-3.1-8B", { hub: settings });
    // The same three at once, then the four shard headers, one range request each.
    const files = hub.log.map((entry) => new URL(entry.url).pathname.split("/").pop());
    expect([...files.slice(0, 3)].sort()).toEqual(["config.json", "model.safetensors", "model.safetensors.index.json"]);
    expect(files.slice(3)).toEqual([
      "model-00001-of-00004.safetensors",
      "model-00002-of-00004.safetensors",
      "model-00003-of-00004.safetensors",
      "model-00004-of-00004.safetensors",
    ]);
  });
});

describe("cache entries that went bad", () => {
  it("a corrupt manifest is fetched again online, and the cache holds a valid one afterwards", async () => {
    settings = await tempSettings();
    await plan("Qwen/Qwen2.5-0.5B", { hub: settings });
    const path = manifestPath(settings.cacheDir, "Qwen/Qwen2.5-0.5B", commitFor("Qwen/Qwen2.5-0.5B"));
    await writeFile(path, '{"format":"vramplan.manifest/1","files":[{"pa');
    hub.log.length = 0;
    const again = await plan("Qwen/Qwen2.5-0.5B", { hub: settings });
    expect(again.model.manifestSource).toBe("hub");
    expect(again.notes).toContainEqual(expect.stringMatching(/discarded a corrupt cache entry/));
    expect(hub.requestsTo("model.safetensors").length).toBeGreaterThan(0);
    const tensors = hub.models.get("Qwen/Qwen2.5-0.5B")?.files?.flatMap((file) => file.tensors) ?? [];
    expect(again.weights.bytes).toBe(tensors.reduce((sum, tensor) => sum + tensor.bytes, 0));
    expect(JSON.parse(await readFile(path, "utf8")).files[0].tensors).toHaveLength(tensors.length);
  });

  it("a truncated config.json in the HF cache is reported offline with its position and left as it is; the next online run replaces it", async () => {
    settings = await tempSettings();
    await plan("Qwen/Qwen2.5-0.5B", { hub: settings });
    const configPath = join(settings.hfCacheDir, "models--Qwen--Qwen2.5-0.5B", "snapshots", commitFor("Qwen/Qwen2.5-0.5B"), "config.json");
    const target = join(configPath, "..", await readlink(configPath));
    const broken = '{"model_type": "qwen2", "hidden_';
    await writeFile(target, broken);
    await expectError(plan("Qwen/Qwen2.5-0.5B", { hub: { ...settings, offline: true } }), "malformed", /config\.json: not valid JSON .*line 1, column \d+.*left as it is/);
    // Nothing vramplan did not write is removed: the link and the file behind it are untouched.
    expect(await readFile(configPath, "utf8")).toBe(broken);
    const online = await plan("Qwen/Qwen2.5-0.5B", { hub: settings });
    expect(online.model.configSource).toBe("hub");
    expect(JSON.parse(await readFile(configPath, "utf8"))).toEqual(hub.models.get("Qwen/Qwen2.5-0.5B")?.config);
  });

  it("a config.json a person put in the snapshot by hand (a plain file, valid JSON but no object) is reported and never deleted", async () => {
    settings = await tempSettings();
    await plan("Qwen/Qwen2.5-0.5B", { hub: settings });
    const configPath = join(settings.hfCacheDir, "models--Qwen--Qwen2.5-0.5B", "snapshots", commitFor("Qwen/Qwen2.5-0.5B"), "config.json");
    await rm(configPath);
    await writeFile(configPath, "[1, 2, 3]\n");
    await expectError(plan("Qwen/Qwen2.5-0.5B", { hub: { ...settings, offline: true } }), "malformed", /config\.json: valid JSON but not an object/);
    await expectError(plan("Qwen/Qwen2.5-0.5B", { hub: { ...settings, offline: true } }), "malformed", /not an object/);
    expect(await readFile(configPath, "utf8")).toBe("[1, 2, 3]\n");
  });

  it("two runs filling the same cache at once both succeed and leave one valid entry, no temporary files", async () => {
    settings = await tempSettings();
    const [first, second] = await Promise.all([plan("meta-llama/Llama-3.1-8B", { hub: { ...settings } }), plan("meta-llama/Llama-3.1-8B", { hub: { ...settings } })]);
    expect(first.weights.bytes).toBe(16_060_522_496); // the index's published total_size
    expect(second.weights.bytes).toBe(16_060_522_496);
    const leftovers = (await readdir(settings.root, { recursive: true })).filter((name) => String(name).endsWith(".tmp"));
    expect(leftovers).toEqual([]);
    const manifest = JSON.parse(await readFile(manifestPath(settings.cacheDir, "meta-llama/Llama-3.1-8B", commitFor("meta-llama/Llama-3.1-8B")), "utf8"));
    expect(manifest.files).toHaveLength(4);
  });
});

describe("a 160-shard checkpoint (DeepSeek-V3 scale)", () => {
  it("reads the index in two ranges, then every shard header with one range request each", async () => {
    const model = deepSeekScaleModel(hub.models.get("deepseek-ai/DeepSeek-V3")?.config as object, 160);
    hub.setModel("bench/deepseek-160", model);
    settings = await tempSettings();
    const result = await plan("bench/deepseek-160", { hub: settings, context: 4096 });
    const files = hub.log.map((entry) => new URL(entry.url).pathname.split("/").pop() ?? "");
    // config + the two speculative reads; the ~8 MB index does not fit its first 256 KiB, so its rest; then the shards.
    expect(files.slice(0, 3).sort()).toEqual(["config.json", "model.safetensors", "model.safetensors.index.json"]);
    expect(files[3]).toBe("model.safetensors.index.json");
    expect(files.slice(4).sort()).toEqual(model.files?.map((file) => file.path).sort());
    expect(hub.log).toHaveLength(4 + 160);
    const tensors = model.files?.flatMap((file) => file.tensors) ?? [];
    expect(result.weights.bytes).toBe(tensors.reduce((sum, tensor) => sum + tensor.bytes, 0));
  });
});

describe("errors from the Hub", () => {
  it("a repo that does not exist is a not-found error naming the id", async () => {
    settings = await tempSettings();
    await expectError(plan("nobody/no-such-model", { hub: settings }), "notFound", /nobody\/no-such-model not found .*HTTP 404/);
  });

  it("an unknown revision names the revision", async () => {
    settings = await tempSettings();
    await expectError(plan("Qwen/Qwen2.5-0.5B", { revision: "v9", hub: settings }), "notFound", /revision "v9" of Qwen\/Qwen2.5-0.5B not found/);
  });

  it("a gated repo without a token says to accept the license and set HF_TOKEN", async () => {
    hub.setModel("acme/gated-model", { ...hub.models.get("Qwen/Qwen2.5-0.5B"), gated: "manual" });
    settings = await tempSettings();
    await expectError(plan("acme/gated-model", { hub: settings }), "accessDenied", /gated model \(HTTP 401\): accept the license at https:\/\/hub\.mock\.test\/acme\/gated-model, then set HF_TOKEN/);
  });

  it("a gated repo with a token that has no access says so (403)", async () => {
    hub.setModel("acme/gated-model", { ...hub.models.get("Qwen/Qwen2.5-0.5B"), gated: "manual" });
    settings = await tempSettings({ token: "hf_notallowed" });
    await expectError(plan("acme/gated-model", { hub: settings }), "accessDenied", /HTTP 403\): your HF_TOKEN has no access yet/);
  });

  it("a malformed config.json is a one-line error naming the file, and is not kept in the cache", async () => {
    const truncated = '{"model_type": "llama", "hidden_size": 4096,';
    hub.setModel("acme/broken-config", { config: truncated });
    settings = await tempSettings();
    // The text stops after its last comma: the error is at the column just past it.
    await expectError(plan("acme/broken-config", { hub: settings }), "malformed", new RegExp(`^acme/broken-config/config\\.json: not valid JSON \\(line 1, column ${truncated.length + 1}: unexpected end of file\\)`));
    // Checked before anything is written: the repo has no cache folder at all.
    await expect(readdir(join(settings.hfCacheDir, "models--acme--broken-config"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("a config without num_hidden_layers names the missing field", async () => {
    const config = { ...(hub.models.get("Qwen/Qwen2.5-0.5B")?.config as object) } as Record<string, unknown>;
    delete config["num_hidden_layers"];
    hub.setModel("acme/no-layers", { config });
    settings = await tempSettings();
    await expectError(plan("acme/no-layers", { hub: settings }), "unsupported", /config.json has no num_hidden_layers/);
  });

  it("a truncated safetensors header is a malformed-file error", async () => {
    const files = hub.models.get("Qwen/Qwen2.5-0.5B")?.files ?? [];
    hub.setModel("acme/truncated", { config: hub.models.get("Qwen/Qwen2.5-0.5B")?.config ?? {}, files });
    const original = hub.options.fault;
    hub.options.fault = async (request, url) => {
      if (!url.pathname.startsWith("/acme/truncated/resolve/") || !url.pathname.endsWith("/model.safetensors")) return undefined;
      // The file ends 100 bytes into its header JSON, whatever range is asked for.
      const [start = 0] = (request.headers.get("range") ?? "bytes=0-0").replace("bytes=", "").split("-").map(Number);
      const whole = await (await hub.serve(new Request(request.url, { headers: { range: "bytes=0-107" } }))).arrayBuffer();
      const body = new Uint8Array(whole).subarray(Math.min(start, 108));
      return new Response(body, { status: 206, headers: { "Content-Range": `bytes ${start}-${start + body.byteLength - 1}/108`, "X-Repo-Commit": commitFor("acme/truncated") } });
    };
    settings = await tempSettings();
    try {
      await expectError(plan("acme/truncated", { hub: settings }), "malformed", /acme\/truncated\/model\.safetensors: safetensors header is truncated \(100 of \d+ bytes\)/);
    } finally {
      hub.options.fault = original;
    }
  });

  it("an absurd header length is refused before anything is read", async () => {
    const files = hub.models.get("Qwen/Qwen2.5-0.5B")?.files ?? [];
    hub.setModel("acme/huge-header", { config: hub.models.get("Qwen/Qwen2.5-0.5B")?.config ?? {}, files });
    const original = hub.options.fault;
    hub.options.fault = (_request, url) => {
      if (!url.pathname.endsWith("/model.safetensors") || !url.pathname.includes("acme/huge-header")) return undefined;
      const prefix = new Uint8Array(8);
      new DataView(prefix.buffer).setBigUint64(0, 200_000_000n, true); // 200 MB header claim
      return new Response(prefix, { status: 206, headers: { "Content-Range": "bytes 0-7/300000000" } });
    };
    settings = await tempSettings();
    try {
      await expectError(plan("acme/huge-header", { hub: settings }), "malformed", /safetensors header claims 200000000 bytes \(limit 100000000\)/);
      // Only the first bytes were asked for: nothing of the claimed 200 MB.
      expect(hub.requestsTo("acme/huge-header/resolve").every((entry) => entry.range === null || entry.range === "bytes=0-262143")).toBe(true);
    } finally {
      hub.options.fault = original;
    }
  });

  it("retries a 503 and succeeds", async () => {
    let failures = 1;
    const original = hub.options.fault;
    hub.options.fault = (_request, url) => {
      if (url.pathname.endsWith("/config.json") && failures-- > 0) return new Response("busy", { status: 503 });
      return undefined;
    };
    settings = await tempSettings();
    try {
      const result = await plan("Qwen/Qwen2.5-0.5B", { hub: settings });
      expect(result.weights.bytes).toBe(988_065_536);
      expect(hub.requestsTo("/config.json")).toHaveLength(2);
    } finally {
      hub.options.fault = original;
    }
  });
});

describe("the token", () => {
  it("goes to the configured endpoint only, not to the CDN a file redirects to", async () => {
    const cdnHub = new MockHub({ cdnOrigin: MOCK_CDN });
    cdnHub.setModel("acme/gated-model", { ...cdnHub.models.get("Qwen/Qwen2.5-0.5B"), gated: "manual" });
    // Route this test's traffic to a hub that redirects safetensors reads to its CDN.
    server.use(...[MOCK_ENDPOINT, MOCK_CDN].map((origin) => http.all(`${origin}/*`, ({ request }) => cdnHub.handle(request))));
    settings = await tempSettings({ token: "hf_secret_token_value" });
    cdnHub.options.acceptedTokens = ["hf_secret_token_value"];
    try {
      const result = await plan("acme/gated-model", { hub: settings });
      expect(result.weights.bytes).toBe(988_065_536);
      const toCdn = cdnHub.log.filter((entry) => entry.url.startsWith(MOCK_CDN));
      const toHub = cdnHub.log.filter((entry) => entry.url.startsWith(MOCK_ENDPOINT));
      expect(toCdn.length).toBeGreaterThan(0);
      for (const entry of toCdn) expect(entry.authorization, entry.url).toBeNull();
      for (const entry of toHub) expect(entry.authorization).toBe("Bearer hf_secret_token_value");
    } finally {
      server.resetHandlers();
    }
  });
});

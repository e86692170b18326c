import { afterAll, afterEach, describe, expect, it } from "vitest";
import { isVramplanError } from "../../src/errors.js";
import { plan } from "../../src/plan.js";
import { MockHub, type MockModel } from "../support/mock-hub.js";
import { startMswHub } from "../support/msw-hub.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";
import { VirtualFile } from "../support/virtual-file.js";

/*
 * Headers a hostile or broken repo can serve, each of which used to give an "exact" number. The
 * safetensors library refuses all of them before loading a byte; so does vramplan.
 */
const hub = new MockHub();
const server = startMswHub(hub);
let settings: TempSettings;
afterAll(() => server.close());
afterEach(async () => settings?.cleanup());

const base = hub.models.get("Qwen/Qwen2.5-0.5B") as MockModel;

/** A safetensors file from a header written by hand, with `dataBytes` of data after it. */
function handMade(header: Record<string, unknown>, dataBytes: number): VirtualFile {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  return new VirtualFile(bytes, 8 + json.length + dataBytes);
}

async function refusal(id: string, model: MockModel): Promise<string> {
  hub.setModel(id, model);
  settings = await tempSettings();
  const error = await plan(id, { hub: settings }).catch((caught: unknown) => caught);
  expect(isVramplanError(error), String(error)).toBe(true);
  expect((error as { code: string }).code).toBe("malformed");
  return (error as Error).message;
}

describe("safetensors headers that do not add up", () => {
  it("overlapping data_offsets (a 12 MB file claiming 1.3 GB)", async () => {
    const header = {
      "a.weight": { dtype: "BF16", shape: [1024, 1024], data_offsets: [0, 2_097_152] },
      "b.weight": { dtype: "BF16", shape: [1024, 1024], data_offsets: [0, 2_097_152] },
    };
    const message = await refusal("hostile/overlap", { config: base.config as object, extra: { "model.safetensors": handMade(header, 2_097_152) } });
    expect(message).toMatch(/model\.safetensors: tensor "b\.weight" overlaps the tensor before it/);
  });

  it("a byte span that disagrees with shape × dtype (220 B for 6.1 million parameters)", async () => {
    const header = { "a.weight": { dtype: "F32", shape: [2048, 3000], data_offsets: [0, 220] } };
    const message = await refusal("hostile/short-span", { config: base.config as object, extra: { "model.safetensors": handMade(header, 220) } });
    // 2,048 × 3,000 × 4 B = 24,576,000 B.
    expect(message).toMatch(/tensor "a\.weight" spans 220 bytes, but its shape \[2048, 3000\] in F32 needs 24576000/);
  });

  it("a shape whose product is past 2^53", async () => {
    const header = { "a.weight": { dtype: "U8", shape: [2 ** 30, 2 ** 30, 16], data_offsets: [0, 16] } };
    const message = await refusal("hostile/huge-shape", { config: base.config as object, extra: { "model.safetensors": handMade(header, 16) } });
    expect(message).toMatch(/more elements than can be counted exactly/);
  });

  it("bytes that belong to no tensor", async () => {
    const header = { "a.weight": { dtype: "U8", shape: [16], data_offsets: [8, 24] } };
    const message = await refusal("hostile/hole", { config: base.config as object, extra: { "model.safetensors": handMade(header, 24) } });
    expect(message).toMatch(/bytes 0–8 before tensor "a\.weight" belong to no tensor/);
  });

  it("an index whose shards all hold the same tensors (the weights billed once per shard)", async () => {
    const tensors = (base.files?.[0]?.tensors ?? []).slice(0, 3);
    const shards = ["model-00001-of-00003.safetensors", "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"];
    const model: MockModel = { config: base.config as object, files: shards.map((path) => ({ path, tensors })) };
    // The mock writes an index from the files: each tensor name maps to the last shard, so the
    // index is written by hand to name all three.
    const weightMap: Record<string, string> = {};
    shards.forEach((shard, index) => tensors.forEach((tensor) => (weightMap[`${tensor.name}.copy${index}`] = shard)));
    model.extra = { "model.safetensors.index.json": JSON.stringify({ metadata: {}, weight_map: weightMap }) };
    const message = await refusal("hostile/repeated-shards", model);
    expect(message).toMatch(new RegExp(`tensor "${tensors[0]?.name.replaceAll(".", "\\.")}" is in both model-00001-of-00003\\.safetensors and model-00002-of-00003\\.safetensors`));
  });

  it("an index naming more shards than any checkpoint has", async () => {
    const weightMap = Object.fromEntries(Array.from({ length: 20_000 }, (_, index) => [`t${index}`, `model-${String(index + 1).padStart(5, "0")}-of-20000.safetensors`]));
    const message = await refusal("hostile/many-shards", { config: base.config as object, extra: { "model.safetensors.index.json": JSON.stringify({ weight_map: weightMap }) } });
    expect(message).toMatch(/names 20000 shard files, more than the 10000 vramplan reads/);
    // Refused from the index alone: not one shard was asked for.
    expect(hub.log.filter((entry) => entry.url.includes("hostile/many-shards") && /-of-20000/.test(entry.url))).toEqual([]);
  });
});

describe("configs that would make vramplan allocate without end", () => {
  async function failure(id: string, config: object | string): Promise<{ code: string; message: string }> {
    hub.setModel(id, { config });
    settings = await tempSettings();
    const started = Date.now();
    const error = await plan(id, { hub: settings }).catch((caught: unknown) => caught);
    // Refused before any per-layer work: well under the 17 s a million layers used to take.
    expect(Date.now() - started).toBeLessThan(2000);
    expect(isVramplanError(error), String(error)).toBe(true);
    return { code: (error as { code: string }).code, message: (error as Error).message };
  }

  it("ten million layers, a billion experts or vocabulary entries: refused naming the field and value", async () => {
    const config = base.config as Record<string, unknown>;
    expect(await failure("hostile/layers", { ...config, num_hidden_layers: 10_000_000 })).toEqual({
      code: "unsupported",
      message: "config.json has num_hidden_layers = 10000000, more than any model has (vramplan reads up to 10000): the config is corrupt",
    });
    expect((await failure("hostile/vocab", { ...config, vocab_size: 1_000_000_000 })).message).toMatch(/vocab_size = 1000000000, more than any model has/);
    expect((await failure("hostile/heads", { ...config, num_key_value_heads: 1e12 })).message).toMatch(/num_key_value_heads = 1000000000000, more than any model has/);
  });

  it("a KV head count or head size present but invalid is named, not read as absent (which would mean one KV head per attention head)", async () => {
    const config = base.config as Record<string, unknown>;
    for (const [field, value] of [["num_key_value_heads", "2"], ["num_key_value_heads", -1], ["num_key_value_heads", 2.5], ["num_key_value_heads", 0], ["head_dim", "64"]] as const) {
      const { code, message } = await failure(`hostile/${field}-${String(value).replace(/\W/g, "_")}`, { ...config, [field]: value });
      expect(code, `${field} ${value}`).toBe("unsupported");
      expect(message).toBe(`config.json has ${field} = ${JSON.stringify(value)}, which is not a positive whole number: fix that field (vramplan needs it to size the KV cache)`);
    }
  });

  it("a config.json the Hub serves broken says whose it is to fix: retrying cannot help", async () => {
    const { code, message } = await failure("hostile/broken-config", '{"model_type": "llama", "hidden_size": 40');
    expect(code).toBe("malformed");
    expect(message).toMatch(/hostile\/broken-config\/config\.json: not valid JSON .*its owner has to fix it/);
    expect(message).not.toMatch(/try again/);
  });

  it("100,000 levels of nesting: a malformed file, not a stack overflow", async () => {
    const deep = `{"model_type": "qwen2", "x": ${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    const { code, message } = await failure("hostile/nested", deep);
    expect(code).toBe("malformed");
    expect(message).toMatch(/config\.json: nests more than 100 levels deep/);
  });
});

describe("what the Hub sends that becomes a path", () => {
  it("an ETag of '..', '.' or with a slash never names a file: the blob is named by its content, and an honest run after still works", async () => {
    settings = await tempSettings();
    for (const etag of ["..", ".", "../../x", "a/b"]) {
      hub.options.fault = async (request) => {
        if (!request.url.endsWith("/config.json")) return undefined;
        const honest = await hub.serve(request);
        const headers = new Headers(honest.headers);
        headers.set("ETag", `"${etag}"`);
        headers.delete("X-Linked-Etag");
        return new Response(await honest.arrayBuffer(), { status: honest.status, headers });
      };
      const result = await plan("Qwen/Qwen2.5-0.5B", { hub: settings }).finally(() => (hub.options.fault = undefined));
      expect(result.model.configSource, etag).toBe("hub");
    }
    const { readdir, lstat } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const repo = join(settings.hfCacheDir, "models--Qwen--Qwen2.5-0.5B");
    expect((await lstat(repo)).isDirectory()).toBe(true);
    expect((await lstat(join(repo, "blobs"))).isDirectory()).toBe(true);
    // One blob, named by the SHA-256 of its bytes.
    expect(await readdir(join(repo, "blobs"))).toEqual([expect.stringMatching(/^[0-9a-f]{64}$/)]);
    const again = await plan("Qwen/Qwen2.5-0.5B", { hub: { ...settings, offline: true } });
    expect(again.model.configSource).toBe("hf-cache");
  });
});

describe("a config that contradicts its own checkpoint", () => {
  it("head_dim 4096 where k_proj is [128, 896]: the headers win, the KV cache is Qwen2.5-0.5B's, and the plan says so", async () => {
    settings = await tempSettings();
    const honest = await plan("Qwen/Qwen2.5-0.5B", { hub: settings, context: 4096 });
    // 24 layers × K and V × 2 KV heads × 64 × 2 B × 4,096 tokens.
    expect(honest.kvCache.bytes).toBe(24 * 2 * 2 * 64 * 2 * 4096);
    hub.setModel("hostile/head-dim", { ...base, config: { ...(base.config as object), head_dim: 4096 } });
    const planned = await plan("hostile/head-dim", { hub: settings, context: 4096 });
    expect(planned.kvCache.bytes).toBe(honest.kvCache.bytes);
    expect(planned.warnings.find((warning) => warning.code === "config-contradicts-headers")?.message).toBe(
      "config.json gives 2 KV heads × head size 4096 (8192 rows), but layer 0's k_proj has 128: planned from the checkpoint's headers, 2 KV heads × head size 64",
    );
  });
});

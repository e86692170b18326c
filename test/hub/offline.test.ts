import { writeFile, readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { isVramplanError } from "../../src/errors.js";
import { manifestPath } from "../../src/hub/manifest-cache.js";
import { plan } from "../../src/plan.js";
import { placeInHfCache } from "../support/hf-cache.js";
import { fixtureConfig } from "../support/fixtures.js";
import { VirtualSafetensors } from "../support/mock-hub.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

let settings: TempSettings;
afterEach(async () => settings?.cleanup());

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const refused = (async () => {
  throw Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
}) as typeof fetch;

describe("when the Hub cannot be reached", () => {
  it("plans a built-in model from the built-in set and says so in one line", async () => {
    settings = await tempSettings({ transport: refused });
    const result = await plan("Qwen/Qwen2.5-7B", { context: 32768, hub: settings });
    expect(result.model.configSource).toBe("builtin");
    expect(result.weights.bytes).toBe(15_231_233_024);
    expect(result.kvCache.bytes).toBe(1_879_048_192);
    expect(result.notes).toEqual([expect.stringMatching(/^cannot reach https:\/\/hub\.mock\.test: planned from vramplan's built-in copy of Qwen\/Qwen2\.5-7B/)]);
  });

  it("a model that is in no cache and not built in is a clear offline error", async () => {
    settings = await tempSettings({ offline: true });
    const error = await plan("acme/not-cached", { hub: settings }).catch((caught: unknown) => caught);
    expect(isVramplanError(error) && error.code).toBe("offlineNotCached");
    expect((error as Error).message).toMatch(/^offline and acme\/not-cached@main is not in the Hugging Face cache .*huggingface-cli download acme\/not-cached config\.json/);
  });
});

describe("offline from the Hugging Face cache", () => {
  it("plans a config.json placed by hand, with an exact config-derived parameter count", async () => {
    settings = await tempSettings({ offline: true });
    await placeInHfCache(settings.hfCacheDir, "Qwen/Qwen2.5-7B", COMMIT, { "config.json": JSON.stringify(fixtureConfig("Qwen/Qwen2.5-7B")) });
    const result = await plan("Qwen/Qwen2.5-7B", { context: 32768, hub: settings });
    expect(result.model.configSource).toBe("hf-cache");
    expect(result.model.commit).toBe(COMMIT);
    expect(result.weights.source).toBe("config");
    // Qwen2.5-7B's published parameter count (model.safetensors.index.json total_size / 2 B).
    expect(result.weights.parameters).toBe(7_615_616_512);
    expect(result.weights.bytes).toBe(2 * 7_615_616_512);
    expect(result.warnings.map((warning) => warning.code)).toContain("derived-weights");
    // The note says why, the warning what follows: "derived from config.json" is said once.
    expect(result.notes).toEqual([expect.stringMatching(/^the cache holds config\.json of Qwen\/Qwen2\.5-7B at \w{7} but no safetensors headers: plan once online/)]);
    expect([...result.notes, ...result.warnings.map((warning) => warning.message)].filter((text) => text.includes("derived from config.json"))).toHaveLength(1);
  });

  it("resolves a commit-hash revision without refs", async () => {
    settings = await tempSettings({ offline: true });
    await placeInHfCache(settings.hfCacheDir, "Qwen/Qwen2.5-7B", COMMIT, { "config.json": JSON.stringify(fixtureConfig("Qwen/Qwen2.5-7B")) }, undefined);
    const result = await plan(`Qwen/Qwen2.5-7B@${COMMIT}`, { hub: settings });
    expect(result.model.revision).toBe(COMMIT);
  });

  it("reads safetensors headers from files already in the cache, sharded or not", async () => {
    settings = await tempSettings({ offline: true });
    // A tiny Llama: hidden 64, 2 layers, 4 heads of 16, 2 KV heads, MLP 128, vocab 256, untied.
    const config = { model_type: "llama", hidden_size: 64, num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, intermediate_size: 128, vocab_size: 256, max_position_embeddings: 512, torch_dtype: "bfloat16", tie_word_embeddings: false };
    const tensor = (name: string, shape: number[]) => ({ name, dtype: "BF16", shape, bytes: shape.reduce((a, b) => a * b, 1) * 2 });
    const layer = (i: number) => [
      tensor(`model.layers.${i}.self_attn.q_proj.weight`, [64, 64]),
      tensor(`model.layers.${i}.self_attn.k_proj.weight`, [32, 64]),
      tensor(`model.layers.${i}.self_attn.v_proj.weight`, [32, 64]),
      tensor(`model.layers.${i}.self_attn.o_proj.weight`, [64, 64]),
      tensor(`model.layers.${i}.mlp.gate_proj.weight`, [128, 64]),
      tensor(`model.layers.${i}.mlp.up_proj.weight`, [128, 64]),
      tensor(`model.layers.${i}.mlp.down_proj.weight`, [64, 128]),
      tensor(`model.layers.${i}.input_layernorm.weight`, [64]),
      tensor(`model.layers.${i}.post_attention_layernorm.weight`, [64]),
    ];
    const shard1 = [tensor("model.embed_tokens.weight", [256, 64]), ...layer(0)];
    const shard2 = [...layer(1), tensor("model.norm.weight", [64]), tensor("lm_head.weight", [256, 64])];
    const bytesOf = (tensors: { name: string; dtype: string; shape: number[]; bytes: number }[]) => {
      const file = new VirtualSafetensors(tensors);
      return file.read(0, file.size - 1);
    };
    const weightMap = Object.fromEntries([...shard1.map((t) => [t.name, "model-00001-of-00002.safetensors"]), ...shard2.map((t) => [t.name, "model-00002-of-00002.safetensors"])]);
    await placeInHfCache(settings.hfCacheDir, "acme/tiny-llama", COMMIT, {
      "config.json": JSON.stringify(config),
      "model.safetensors.index.json": JSON.stringify({ metadata: {}, weight_map: weightMap }),
      "model-00001-of-00002.safetensors": bytesOf(shard1),
      "model-00002-of-00002.safetensors": bytesOf(shard2),
    });
    const result = await plan("acme/tiny-llama", { context: 512, hub: settings });
    expect(result.model.manifestSource).toBe("hf-cache");
    // Parameters by hand: embed 256·64 = 16,384; per layer q 4,096 + k 2,048 + v 2,048 + o 4,096
    // + MLP 3·8,192 + norms 128 = 36,992; ×2 = 73,984; final norm 64; lm_head 16,384 → 106,816.
    expect(result.weights.parameters).toBe(16_384 + 2 * 36_992 + 64 + 16_384);
    expect(result.weights.bytes).toBe(2 * 106_816);
    expect(result.weights.difference).toBe(0);
    // The manifest is now in vramplan's cache for the next run.
    expect(JSON.parse(await readFile(manifestPath(settings.cacheDir, "acme/tiny-llama", COMMIT), "utf8")).files).toHaveLength(2);
  });

  it("a corrupt manifest in vramplan's cache is discarded and reported, never used", async () => {
    settings = await tempSettings({ offline: true });
    await placeInHfCache(settings.hfCacheDir, "Qwen/Qwen2.5-7B", COMMIT, { "config.json": JSON.stringify(fixtureConfig("Qwen/Qwen2.5-7B")) });
    const path = manifestPath(settings.cacheDir, "Qwen/Qwen2.5-7B", COMMIT);
    await import("node:fs/promises").then(({ mkdir }) => mkdir(path.replace(/\/[^/]+$/, ""), { recursive: true }));
    await writeFile(path, '{"format":"vramplan.manifest/1","files":[{"path":"model.safe');
    const result = await plan("Qwen/Qwen2.5-7B", { hub: settings });
    expect(result.weights.source).toBe("config");
    expect(result.notes[0]).toMatch(/discarded a corrupt cache entry/);
    await expect(readFile(path)).rejects.toThrow();
  });
});

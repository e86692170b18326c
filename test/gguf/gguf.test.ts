import { afterAll, afterEach, describe, expect, it } from "vitest";
import { isVramplanError } from "../../src/errors.js";
import { GGML_TYPES } from "../../src/gguf/ggml-types.js";
import { planGgufRepo } from "../../src/gguf/gguf-plan.js";
import { loadGgufRepo } from "../../src/gguf/load-gguf-repo.js";
import { parseModelRef } from "../../src/model-id.js";
import { planRepo } from "../../src/plan-repo.js";
import { buildGguf, f32, str, u32, type GgufTensorSpec } from "../support/gguf-writer.js";
import { commitFor, MockHub } from "../support/mock-hub.js";
import { startMswHub } from "../support/msw-hub.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

const hub = new MockHub();
const server = startMswHub(hub);
afterAll(() => server.close());
let settings: TempSettings;
afterEach(async () => {
  hub.log.length = 0;
  await settings?.cleanup();
});

/*
 * A two-layer llama, small enough to work through by hand. ggml block layouts (ggml-common.h):
 * Q4_K 256 values in 144 B, Q6_K 256 in 210 B, Q8_0 32 in 34 B, F16 2 B, F32 4 B per value.
 * Shapes are in ggml order, the row first: [256, 1000] is 1,000 rows of 256.
 */
const TINY_META = {
  "general.architecture": str("llama"),
  "general.file_type": u32(15),
  "llama.block_count": u32(2),
  "llama.context_length": u32(4096),
  "llama.embedding_length": u32(256),
  "llama.feed_forward_length": u32(512),
  "llama.attention.head_count": u32(4),
  "llama.attention.head_count_kv": u32(2),
  "llama.attention.key_length": u32(64),
  "llama.rope.freq_base": f32(10000),
  "llama.vocab_size": u32(1000),
};
const Q8_0 = 8, Q4_K = 12, Q6_K = 14, F16 = 1, F32 = 0;
const t = (name: string, type: number, shape: number[], bytes: number): GgufTensorSpec => ({ name, type, shape, bytes });

function q4kmTensors(): GgufTensorSpec[] {
  const list = [t("token_embd.weight", Q8_0, [256, 1000], 1000 * (256 / 32) * 34)]; // 272,000
  for (let i = 0; i < 2; i++) {
    list.push(
      t(`blk.${i}.attn_norm.weight`, F32, [256], 256 * 4), // 1,024
      t(`blk.${i}.attn_q.weight`, Q4_K, [256, 256], 256 * 144), // 36,864
      t(`blk.${i}.attn_k.weight`, Q4_K, [256, 128], 128 * 144), // 18,432
      t(`blk.${i}.attn_v.weight`, Q6_K, [256, 128], 128 * 210), // 26,880
      t(`blk.${i}.attn_output.weight`, Q4_K, [256, 256], 256 * 144), // 36,864
      t(`blk.${i}.ffn_norm.weight`, F32, [256], 256 * 4), // 1,024
      t(`blk.${i}.ffn_gate.weight`, Q4_K, [256, 512], 512 * 144), // 73,728
      t(`blk.${i}.ffn_up.weight`, Q4_K, [256, 512], 512 * 144), // 73,728
      t(`blk.${i}.ffn_down.weight`, Q6_K, [512, 256], 256 * 2 * 210), // 107,520
    );
  }
  list.push(t("output_norm.weight", F32, [256], 1024), t("output.weight", Q6_K, [256, 1000], 1000 * 210)); // 210,000
  return list;
}
// Per layer 1,024 + 36,864 + 18,432 + 26,880 + 36,864 + 1,024 + 73,728 + 73,728 + 107,520 = 376,064.
const Q4KM_LAYER = 376_064;
const Q4KM_BYTES = 272_000 + 2 * Q4KM_LAYER + 1_024 + 210_000; // 1,235,152
// F16: every matrix 2 B per value, norms F32. Matrix values: 256,000 (embd) + 2 × 589,824 + 256,000 (output).
const F16_BYTES = 2 * (256_000 + 2 * 589_824 + 256_000) + 4 * (2 * 2 * 256 + 256); // 3,383,296 + 5,120
const PARAMETERS = 256_000 + 2 * 589_824 + 256_000 + 5 * 256; // 1,692,928
// KV at 4,096 tokens: 2 layers × (K, V) × 2 KV heads × 64 dims × 2 B (f16) × 4,096.
const KV_F16_4K = 2 * 2 * 2 * 64 * 2 * 4096; // 4,194,304

function f16Tensors(): GgufTensorSpec[] {
  return q4kmTensors().map((tensor) => {
    const values = tensor.shape.reduce((a, b) => a * b, 1);
    return tensor.type === F32 ? tensor : { ...tensor, type: F16, bytes: values * 2 };
  });
}

function addTinyRepo(id: string) {
  const f16 = f16Tensors();
  const split = f16.findIndex((tensor) => tensor.name.startsWith("blk.1."));
  hub.setModel(id, {
    extra: {
      "tiny-Q4_K_M.gguf": buildGguf(TINY_META, q4kmTensors()),
      // A sharded set: the tensors split over two files, the metadata in both.
      "tiny-F16-00001-of-00002.gguf": buildGguf({ ...TINY_META, "general.file_type": u32(1) }, f16.slice(0, split)),
      "tiny-F16-00002-of-00002.gguf": buildGguf({ ...TINY_META, "general.file_type": u32(1) }, f16.slice(split)),
      "mmproj-tiny-f16.gguf": buildGguf({ "general.architecture": str("clip") }, []),
      "README.md": "# tiny",
    },
  });
  return id;
}

describe("ggml block layouts", () => {
  it("give the bits per weight llama.cpp documents for each type", () => {
    // Bits per weight from ggml-common.h's block struct sizes, as tabulated in the shared engines notes (§2.2).
    const documented: Record<string, number> = {
      Q4_0: 4.5, Q4_1: 5.0, Q5_0: 5.5, Q5_1: 6.0, Q8_0: 8.5, Q2_K: 2.625, Q3_K: 3.4375, Q4_K: 4.5, Q5_K: 5.5, Q6_K: 6.5625,
      Q8_K: 9.125, IQ1_S: 1.5625, IQ1_M: 1.75, IQ2_XXS: 2.0625, IQ2_XS: 2.3125, IQ2_S: 2.5625, IQ3_XXS: 3.0625, IQ3_S: 3.4375,
      IQ4_NL: 4.5, IQ4_XS: 4.25, TQ1_0: 1.6875, TQ2_0: 2.0625, MXFP4: 4.25, F16: 16, BF16: 16, F32: 32,
    };
    for (const [name, bits] of Object.entries(documented)) {
      const type = [...GGML_TYPES.values()].find((candidate) => candidate.name === name);
      expect(type && (8 * type.blockBytes) / type.blockValues, name).toBe(bits);
    }
  });
});

describe("a GGUF repo from the Hub", () => {
  it("lists each quantization once (shards as one set, projectors apart) with exact bytes and KV", async () => {
    settings = await tempSettings();
    const id = addTinyRepo("acme/tiny-GGUF");
    const result = await planRepo(id, { context: 4096, hub: settings });
    expect(result.kind).toBe("gguf");
    if (result.kind !== "gguf") return;
    const plan = result.plan;
    expect(plan.files.map((file) => [file.name, file.files.length, file.quant, file.fileType])).toEqual([
      ["tiny-F16", 2, "F16", "F16"],
      ["tiny-Q4_K_M", 1, "Q4_K_M", "Q4_K_M"],
    ]);
    expect(plan.files.map((file) => file.weights.bytes)).toEqual([F16_BYTES, Q4KM_BYTES]);
    expect(plan.files.map((file) => file.weights.parameters)).toEqual([PARAMETERS, PARAMETERS]);
    expect(plan.files[0]?.kvBytes).toBe(KV_F16_4K);
    expect(plan.projectors).toEqual(["mmproj-tiny-f16.gguf"]);
    expect(plan.model).toMatchObject({ architecture: "llama", layers: 2, kvHeads: 2, headDim: 64, maxContext: 4096, commit: commitFor(id), source: "hub" });
  });

  it("llama.cpp's quantized cache types: q8_0 and q4_0 rows in 32-value blocks", async () => {
    settings = await tempSettings();
    const id = addTinyRepo("acme/tiny-kv-GGUF");
    // A row is 2 KV heads × 64 = 128 values = 4 blocks: q8_0 4 × 34 = 136 B, q4_0 4 × 18 = 72 B; × (K, V) × 2 layers × 4,096.
    const q8 = await planRepo(id, { context: 4096, kvDtype: "q8_0", hub: settings });
    const q4 = await planRepo(id, { context: 4096, kvDtype: "q4_0", hub: settings });
    expect(q8.kind === "gguf" && q8.plan.files[0]?.kvBytes).toBe(136 * 2 * 2 * 4096);
    expect(q4.kind === "gguf" && q4.plan.files[0]?.kvBytes).toBe(72 * 2 * 2 * 4096);
  });

  it("--file reads only that file's header; the next run needs no network", async () => {
    settings = await tempSettings();
    const id = addTinyRepo("acme/tiny-file-GGUF");
    const one = await planRepo(id, { ggufFile: "q4_k_m", context: 4096, hub: settings });
    expect(one.kind === "gguf" && one.plan.files.map((file) => file.name)).toEqual(["tiny-Q4_K_M"]);
    expect(hub.log.filter((entry) => entry.url.includes("F16"))).toEqual([]);
    hub.log.length = 0;
    const offline = await planRepo(id, { ggufFile: "tiny-Q4_K_M.gguf", context: 4096, hub: { ...settings, offline: true } });
    expect(offline.kind === "gguf" && [offline.plan.files[0]?.weights.bytes, offline.plan.model.source]).toEqual([Q4KM_BYTES, "vramplan-cache"]);
    expect(hub.log).toEqual([]);
    const missing = await planRepo(id, { ggufFile: "F16", hub: { ...settings, offline: true } }).catch((error: unknown) => error);
    expect(isVramplanError(missing) && missing.code).toBe("offlineNotCached");
  });

  it("a GPU that holds one of the two layers: --n-gpu-layers 1, the rest in system memory", async () => {
    settings = await tempSettings();
    const id = addTinyRepo("acme/tiny-fit-GGUF");
    const repo = await loadGgufRepo(parseModelRef(id), settings, { file: "Q4_K_M" });
    const probe = planGgufRepo(repo, { context: 4096 }).files[0];
    const overhead = (probe?.computeBytes ?? 0) + (probe?.runtimeBytes ?? 0);
    // One layer's weights and its half of the cache (llama.cpp allocates 4,096 cells: 4,096 is a multiple of 256).
    const gpuBytes = overhead + Q4KM_LAYER + KV_F16_4K / 2;
    const planned = planGgufRepo(repo, { context: 4096, gpu: { name: "Tiny", vendor: "test", memoryGiB: 0, bytes: gpuBytes, otherSizes: [] } }).files[0];
    expect([planned?.fits, planned?.gpuLayers, planned?.gpuBytes]).toEqual([false, 1, gpuBytes]);
    // Everything llama.cpp holds: the weights, the cache, the compute buffer and context, less what went to the GPU.
    expect(planned?.ramBytes).toBe(Q4KM_BYTES + KV_F16_4K + overhead - gpuBytes);
  });

  it("a repo whose name does not say GGUF is found to be one when it has no config.json", async () => {
    settings = await tempSettings();
    const id = addTinyRepo("acme/tiny-quants");
    const result = await planRepo(id, { context: 4096, hub: settings });
    expect(result.kind === "gguf" && result.plan.files.map((file) => file.weights.bytes)).toEqual([F16_BYTES, Q4KM_BYTES]);
  });

  it("a file that is not GGUF is a one-line malformed error naming it", async () => {
    settings = await tempSettings();
    hub.setModel("acme/fake-GGUF", { extra: { "model-Q4_0.gguf": new TextEncoder().encode("this is not a gguf file at all") } });
    const error = await planRepo("acme/fake-GGUF", { hub: settings }).catch((caught: unknown) => caught);
    expect(isVramplanError(error) && error.code).toBe("malformed");
    expect((error as Error).message).toMatch(/^acme\/fake-GGUF\/model-Q4_0\.gguf: not a readable GGUF header \(not a valid gguf file: not starting with GGUF magic number\)$/);
  });

  it("a repo with neither config.json nor .gguf files keeps the config.json error", async () => {
    settings = await tempSettings();
    hub.setModel("acme/empty", { extra: { "README.md": "nothing" } });
    const error = await planRepo("acme/empty", { hub: settings }).catch((caught: unknown) => caught);
    expect(isVramplanError(error) && error.code).toBe("notFound");
    expect((error as Error).message).toMatch(/has no config\.json/);
  });
});

import { afterAll, afterEach, describe, expect, it } from "vitest";
import { isVramplanError } from "../../src/errors.js";
import { plan } from "../../src/plan.js";
import { planTrain } from "../../src/train.js";
import { readModelIds } from "../../src/batch/read-ids.js";
import { runBatch } from "../../src/batch/run-batch.js";
import { renderBatch } from "../../src/report/batch-formats.js";
import { renderPlanTable } from "../../src/report/table.js";
import { MockHub, type MockTensor } from "../support/mock-hub.js";
import { startMswHub } from "../support/msw-hub.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

/*
 * sentence-transformers/all-MiniLM-L6-v2: a BERT encoder (config.json as published: hidden 384,
 * 6 layers, 12 heads, intermediate 1536, vocab 30522, 512 positions, 2 token types), its
 * checkpoint's tensors in F32 as BertModel names them. The Hub's model page: 22.7M parameters.
 */
const CONFIG = {
  architectures: ["BertModel"],
  model_type: "bert",
  hidden_size: 384,
  num_hidden_layers: 6,
  num_attention_heads: 12,
  intermediate_size: 1536,
  vocab_size: 30522,
  max_position_embeddings: 512,
  type_vocab_size: 2,
  hidden_act: "gelu",
  layer_norm_eps: 1e-12,
  torch_dtype: "float32",
};

function f32(name: string, shape: number[]): MockTensor {
  return { name, dtype: "F32", shape, bytes: 4 * shape.reduce((a, b) => a * b, 1) };
}

function miniLmTensors(): MockTensor[] {
  const h = 384;
  const tensors = [
    f32("embeddings.word_embeddings.weight", [30522, h]),
    f32("embeddings.position_embeddings.weight", [512, h]),
    f32("embeddings.token_type_embeddings.weight", [2, h]),
    f32("embeddings.LayerNorm.weight", [h]),
    f32("embeddings.LayerNorm.bias", [h]),
  ];
  for (let layer = 0; layer < 6; layer++) {
    const p = `encoder.layer.${layer}`;
    for (const projection of ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]) tensors.push(f32(`${p}.${projection}.weight`, [h, h]), f32(`${p}.${projection}.bias`, [h]));
    tensors.push(f32(`${p}.attention.output.LayerNorm.weight`, [h]), f32(`${p}.attention.output.LayerNorm.bias`, [h]));
    tensors.push(f32(`${p}.intermediate.dense.weight`, [1536, h]), f32(`${p}.intermediate.dense.bias`, [1536]));
    tensors.push(f32(`${p}.output.dense.weight`, [h, 1536]), f32(`${p}.output.dense.bias`, [h]));
    tensors.push(f32(`${p}.output.LayerNorm.weight`, [h]), f32(`${p}.output.LayerNorm.bias`, [h]));
  }
  tensors.push(f32("pooler.dense.weight", [h, h]), f32("pooler.dense.bias", [h]));
  return tensors;
}

/*
 * The same encoder as a sentence-transformers repo with a Dense layer after pooling (as
 * sentence-transformers' models/Pooling.py and Dense.py save their config.json): mean pooling
 * of 384 values, Dense 384 → 256 with a bias and Tanh, then Normalize.
 */
const MODULES = [
  { idx: 0, name: "0", path: "", type: "sentence_transformers.models.Transformer" },
  { idx: 1, name: "1", path: "1_Pooling", type: "sentence_transformers.models.Pooling" },
  { idx: 2, name: "2", path: "2_Dense", type: "sentence_transformers.models.Dense" },
  { idx: 3, name: "3", path: "3_Normalize", type: "sentence_transformers.models.Normalize" },
];
const POOLING = { word_embedding_dimension: 384, pooling_mode_cls_token: false, pooling_mode_mean_tokens: true, pooling_mode_max_tokens: false, pooling_mode_mean_sqrt_len_tokens: false, pooling_mode_weightedmean_tokens: false, pooling_mode_lasttoken: false, include_prompt: true };
const DENSE = { in_features: 384, out_features: 256, bias: true, activation_function: "torch.nn.modules.activation.Tanh" };
const withModules = (modules: string) => ({ config: CONFIG, files: [{ path: "model.safetensors", tensors: miniLmTensors() }], extra: { "modules.json": modules, "1_Pooling/config.json": JSON.stringify(POOLING), "2_Dense/config.json": JSON.stringify(DENSE) } });

const hub = new MockHub({
  fixturesRoot: false,
  models: {
    "sentence-transformers/all-MiniLM-L6-v2": { config: CONFIG, files: [{ path: "model.safetensors", tensors: miniLmTensors() }] },
    "example/minilm-dense-256": withModules(JSON.stringify(MODULES)),
    "example/minilm-broken-modules": withModules("[{"),
    "example/minilm-escaping-modules": withModules(JSON.stringify([{ path: "../other", type: "sentence_transformers.models.Dense" }])),
  },
});
const server = startMswHub(hub);
let settings: TempSettings;
afterAll(() => server.close());
afterEach(async () => settings?.cleanup());

describe("an encoder (BERT, sentence-transformers)", () => {
  it("is planned as an encoder: exact weights, no KV cache, no guessed decoder fields", async () => {
    settings = await tempSettings();
    const planned = await plan("sentence-transformers/all-MiniLM-L6-v2", { hub: settings, context: 256, batch: 32 });
    // Worked by hand: embeddings 11,918,592 + 6 layers × 1,774,464 + pooler 147,840 = 22,713,216.
    expect(planned.weights.parameters).toBe(22_713_216);
    expect(planned.weights.bytes).toBe(4 * 22_713_216);
    expect(planned.kvCache.bytes).toBe(0);
    expect(planned.warnings.filter((warning) => warning.code === "guessed-field")).toEqual([]);
    expect(planned.notes.join("\n")).toMatch(/an encoder \(bert\) .* keeps no KV cache/);
    expect(planned.model.family).toBe("encoder");
    // One forward pass of 32 × 256 tokens in F32: the MLP's peak h + 2·i = 384 + 2 × 1,536 = 3,456
    // values per token (above attention's 5·h = 1,920): 8,192 × 3,456 × 4 B.
    expect(planned.encoderActivations?.bytes).toBe(8192 * 3456 * 4);
    expect(planned.total.bytes).toBe(4 * 22_713_216);
  });

  it("a serving plan is refused with the reason, not sized as a decoder's KV cache", async () => {
    settings = await tempSettings();
    const error = await plan("sentence-transformers/all-MiniLM-L6-v2", { hub: settings, context: 256, serving: { gpu: "L4" } }).catch((caught: unknown) => caught);
    expect(isVramplanError(error)).toBe(true);
    expect((error as Error).message).toMatch(/is an encoder \(bert\): serving plans size a decoder's KV cache and an encoder keeps none/);
    // Serving nobody asked for (the web page's default list of fitting GPUs) is left out, not refused.
    const planned = await plan("sentence-transformers/all-MiniLM-L6-v2", { hub: settings, context: 256, servingByDefault: true });
    expect([planned.serving, planned.weights.bytes]).toEqual([null, 4 * 22_713_216]);
  });

  it("a fine-tune plan says its activations assume a vocabulary head, and no SSM caveat", async () => {
    settings = await tempSettings();
    const options = { method: "full", precision: "mixed-bf16", optimizer: "adamw", seq: 256, microBatch: 8, gradAccum: 1, gpus: 1, zero: 0, flashAttention: true, checkpointing: "none", loss: "naive", loraRank: 16 } as const;
    const report = await planTrain("sentence-transformers/all-MiniLM-L6-v2", { ...options, loraTargets: ["all-linear"] }, settings);
    expect(report.parameters.trainable).toBe(22_713_216);
    expect(report.warnings.map((warning) => warning.code)).toEqual(["encoder-activations"]);
    expect(report.warnings[0]?.message).toMatch(/`loss` chunked is closer there$/);
  });

  it("goes through batch (a row like any other, no KV cache) and cache prefetch, then plans offline", async () => {
    settings = await tempSettings();
    const entries = readModelIds("sentence-transformers/all-MiniLM-L6-v2\n");
    // cache prefetch is a batch with no plan options: it only fills the caches.
    const prefetched = await runBatch(entries, { hub: settings, concurrency: 1 });
    expect([prefetched[0]?.error, prefetched[0]?.source]).toEqual([null, "hub"]);
    const before = hub.log.length;
    const rows = await runBatch(entries, { hub: { ...settings, offline: true }, concurrency: 1, plan: { context: 256, batch: 32 } });
    expect(hub.log.length).toBe(before);
    const [header, row] = renderBatch(rows, "csv").trim().split("\n");
    const cells = Object.fromEntries((header ?? "").split(",").map((name, index) => [name, (row ?? "").split(",")[index]]));
    // 22,713,216 parameters × 4 B (F32), and no KV cache.
    expect([cells["kind"], cells["model_type"], cells["weights_bytes"], cells["kv_cache_bytes"], cells["total_bytes"]]).toEqual(["safetensors", "bert", "90852864", "0", "90852864"]);
  });

  it("reads sentence-transformers' modules.json: pooling, the Dense layer's weights (in the total) and the embedding's width", async () => {
    settings = await tempSettings();
    const planned = await plan("example/minilm-dense-256", { hub: settings, context: 256, batch: 32 });
    // Dense 384 → 256 with a bias: 384 × 256 + 256 = 98,560 parameters, 394,240 B in fp32.
    expect(planned.sentenceTransformers).toMatchObject({ pooling: ["mean"], dimensions: 256, normalized: true, denseParameters: 98_560, denseBytes: 394_240, notCounted: [] });
    expect(planned.weights.bytes).toBe(4 * 22_713_216);
    expect(planned.total.bytes).toBe(4 * 22_713_216 + 394_240);
    expect(planned.notes.join("\n")).toMatch(/mean pooling → 256 dimensions, normalized; Dense 2_Dense 384→256 with bias: 98,560 parameters/);
    // The table shows the Dense layers as their own row, and the total as their sum.
    const table = renderPlanTable(planned, { width: 100 });
    expect(table).toMatch(/Dense layers\s+394,240/);
    expect(table).toMatch(/total\s+91,247,104/);
    // A repo without modules.json is planned as before, with nothing added.
    const plain = await plan("sentence-transformers/all-MiniLM-L6-v2", { hub: settings, context: 256 });
    expect([plain.sentenceTransformers, plain.total.bytes]).toEqual([null, 4 * 22_713_216]);
  });

  it("prefetch caches the modules too: the offline plan reads them with no request", async () => {
    settings = await tempSettings();
    await runBatch(readModelIds("example/minilm-dense-256\n"), { hub: settings, concurrency: 1 });
    const before = hub.log.length;
    const planned = await plan("example/minilm-dense-256", { hub: { ...settings, offline: true }, context: 256 });
    expect(hub.log.length).toBe(before);
    expect(planned.sentenceTransformers?.denseBytes).toBe(394_240);
  });

  it("a modules.json that is broken, or names a folder outside the repo, is said and left out: the plan is still made", async () => {
    settings = await tempSettings();
    const broken = await plan("example/minilm-broken-modules", { hub: settings, context: 256 });
    expect([broken.sentenceTransformers, broken.total.bytes]).toEqual([null, 4 * 22_713_216]);
    expect(broken.notes.join("\n")).toMatch(/modules\.json could not be read \(.*\): its pooling and Dense layers are left out/);
    const escaping = await plan("example/minilm-escaping-modules", { hub: settings, context: 256 });
    expect(escaping.sentenceTransformers).toBeNull();
    expect(escaping.notes.join("\n")).toMatch(/names "\.\.\/other", not a plain folder name/);
  });
});

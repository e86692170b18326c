import { describe, expect, it } from "vitest";
import { estimateKvCache } from "../../src/estimate/kv-cache.js";
import { ggufModelConfig } from "../../src/gguf/gguf-config.js";
import type { GgufFileHeader } from "../../src/gguf/gguf-header.js";
import { deriveModelSpec } from "../../src/model/derive.js";
import { KV_FORMATS } from "../../src/model/dtypes.js";
import { llamaCppKvLayout } from "../../src/serve/llamacpp.js";

const MIB = 1024 * 1024;

/*
 * A llama-server log of Qwen3.5-9B Q5_K_M (Unsloth's GGUF) on an 8 GB laptop GPU, posted in a public
 * session transcript: "-c 65536", 4 sequences (n_seq_max = 4, kv_unified = true, n_ctx_seq 65536):
 *   llama_kv_cache: size = 2048.00 MiB ( 65536 cells,   8 layers,  4/1 seqs), K (f16): 1024.00 MiB, V (f16): 1024.00 MiB
 *   alloc_tensor_range: failed to allocate CUDA0 buffer of size 210763776
 *   llama_init_from_model: failed to initialize the context: failed to allocate buffer for rs cache
 * The GGUF's metadata below is what convert_hf_to_gguf.py writes for that config.json (qwen35
 * keys as llama-model.cpp reads them); its values come from the model's config.json
 * (test/fixtures/realworld/unsloth--Qwen3.5-9B).
 */
const header: GgufFileHeader = {
  path: "Qwen3.5-9B-Q5_K_M.gguf",
  size: null,
  dataOffset: 0,
  metadata: {
    "general.architecture": "qwen35",
    "qwen35.block_count": 32,
    "qwen35.context_length": 262144,
    "qwen35.embedding_length": 4096,
    "qwen35.feed_forward_length": 12288,
    "qwen35.attention.head_count": 16,
    "qwen35.attention.head_count_kv": 4,
    "qwen35.attention.key_length": 256,
    "qwen35.attention.value_length": 256,
    "qwen35.ssm.conv_kernel": 4,
    "qwen35.ssm.state_size": 128,
    "qwen35.ssm.group_count": 16,
    "qwen35.ssm.time_step_rank": 32,
    "qwen35.ssm.inner_size": 4096,
    "qwen35.full_attention_interval": 4,
    "tokenizer.ggml.tokens": { arrayLength: 248320 },
  },
  // Untied: the file has its own output matrix (ggml type 14, Q6_K).
  tensors: [{ name: "output.weight", type: 14, shape: [4096, 248320] }],
};

describe("llama.cpp's caches for a Qwen3.5 GGUF (gated delta-net + attention)", () => {
  it("K/V on the 8 attention layers and an f32 recurrent state per sequence on the other 24, to the byte of the log", () => {
    const spec = deriveModelSpec(ggufModelConfig(header).config);
    expect(spec.layers.filter((layer) => layer.caches.some((cache) => cache.kind === "state"))).toHaveLength(24);
    // 4 slots of 16,384 tokens in one unified stream: llama-server's -c 65536 split over --parallel 4.
    const kv = estimateKvCache(spec, { context: 16384, sequences: 1, bytesPerElement: 2, format: KV_FORMATS.fp16, stateBytesPerElement: 4 });
    const attentionOnly = { ...kv, groups: kv.groups.filter((group) => group.kind !== "state") };
    const statesOnly = { ...kv, groups: kv.groups.filter((group) => group.kind === "state") };
    const options = { unified: true, ubatch: 512 };
    expect(llamaCppKvLayout(attentionOnly, 16384, 4, options).cells).toBe(65536);
    expect(llamaCppKvLayout(attentionOnly, 16384, 4, options).bytes).toBe(2048 * MIB);
    // The "rs cache" it failed to allocate: (4 − 1) × (4,096 + 2 × 16 × 128) conv values and
    // 128 × 4,096 SSM values per layer and sequence, f32, 24 layers, 4 sequences.
    expect(llamaCppKvLayout(statesOnly, 16384, 4, options).bytes).toBe(210_763_776);
  });

  it("leaves the MTP layer out of a converted GGUF unless the file says it kept one", () => {
    expect(deriveModelSpec(ggufModelConfig(header).config).multiTokenPredictionLayers).toBe(0);
  });
});

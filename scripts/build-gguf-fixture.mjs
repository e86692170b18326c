#!/usr/bin/env node
// Writes fixtures/hub/bartowski/Meta-Llama-3.1-8B-Instruct-GGUF/gguf.json: the GGUF headers (metadata
// and tensor tables, in vramplan's cache format) of four of the repo's files, so GGUF planning works
// offline on one built-in repo. The Hub cannot be reached from where this was written, so the tensor
// tables are generated, independently of src/: Llama-3.1-8B's 292 tensors under llama.cpp's GGUF
// names (convert_hf_to_gguf.py), with the types llama.cpp's quantizer (src/llama-quant.cpp) gives
// each for the file type. The tokenizer arrays are left out (vramplan keeps only their length).
import { writeFileSync } from "node:fs";

const out = new URL("../fixtures/hub/bartowski/Meta-Llama-3.1-8B-Instruct-GGUF/gguf.json", import.meta.url).pathname;
const T = { F32: 0, Q8_0: 8, Q4_K: 12, Q6_K: 14 };
const h = 4096, f = 14336, kv = 1024, V = 128256, L = 32;

// llama-quant.cpp use_more_bits: the first and last eighth of the layers, and every third between.
const moreBits = (i, n) => i < n / 8 || i >= (7 * n) / 8 || (i - n / 8) % 3 === 2;

function tensors(fileType) {
  const type = (name, layer) => {
    if (fileType === "F32") return T.F32;
    if (fileType === "Q8_0") return T.Q8_0;
    if (fileType === "Q6_K") return T.Q6_K;
    // Q4_K_M: Q4_K, with Q6_K for the output, and for attn_v and ffn_down on use_more_bits layers.
    if (name === "output.weight") return T.Q6_K;
    if ((name.endsWith("attn_v.weight") || name.endsWith("ffn_down.weight")) && moreBits(layer, L)) return T.Q6_K;
    return T.Q4_K;
  };
  const list = [
    ["token_embd.weight", [h, V], type("token_embd.weight", -1)],
    ["rope_freqs.weight", [64], T.F32],
  ];
  for (let i = 0; i < L; i++) {
    const p = `blk.${i}.`;
    list.push([`${p}attn_norm.weight`, [h], T.F32]);
    for (const [name, shape] of [["attn_q.weight", [h, h]], ["attn_k.weight", [h, kv]], ["attn_v.weight", [h, kv]], ["attn_output.weight", [h, h]]]) list.push([p + name, shape, type(p + name, i)]);
    list.push([`${p}ffn_norm.weight`, [h], T.F32]);
    for (const [name, shape] of [["ffn_gate.weight", [h, f]], ["ffn_up.weight", [h, f]], ["ffn_down.weight", [f, h]]]) list.push([p + name, shape, type(p + name, i)]);
  }
  list.push(["output_norm.weight", [h], T.F32], ["output.weight", [h, V], type("output.weight", -1)]);
  return list.map(([name, shape, t]) => ({ name, type: t, shape }));
}

const FILE_TYPE_IDS = { F32: 0, Q8_0: 7, Q6_K: 18, Q4_K_M: 15 };
const metadata = (fileType) => ({
  "general.architecture": "llama",
  "general.name": "Meta Llama 3.1 8B Instruct",
  "general.file_type": FILE_TYPE_IDS[fileType],
  "general.quantization_version": 2,
  "llama.block_count": L,
  "llama.context_length": 131072,
  "llama.embedding_length": h,
  "llama.feed_forward_length": f,
  "llama.attention.head_count": 32,
  "llama.attention.head_count_kv": 8,
  "llama.rope.freq_base": 500000,
  "llama.attention.layer_norm_rms_epsilon": 0.00001,
  "llama.rope.dimension_count": 128,
  "llama.vocab_size": V,
});

const names = { F32: "f32", Q8_0: "Q8_0", Q6_K: "Q6_K", Q4_K_M: "Q4_K_M" };
const sets = Object.keys(names).map((fileType) => {
  const name = `Meta-Llama-3.1-8B-Instruct-${names[fileType]}`;
  return { name, files: [`${name}.gguf`], quant: names[fileType].toUpperCase(), headers: [{ path: `${name}.gguf`, size: null, dataOffset: 0, metadata: metadata(fileType), tensors: tensors(fileType) }] };
});
writeFileSync(out, JSON.stringify({ format: "vramplan.gguf/1", sets, projectors: [] }) + "\n");
console.log(`wrote ${out}: ${sets.map((set) => set.name).join(", ")}`);

#!/usr/bin/env node
// Writes fixtures/hub/<org>/<name>/manifest.json for the built-in models: the tensor list each
// checkpoint ships (names and shapes from the family's transformers module naming, dtype and shard
// count as published), split over shards in order. Run by hand when a built-in model is added;
// fixtures/README.md records what each manifest was checked against.
//
// This is deliberately independent of src/: it lists tensors by name, while src/ derives
// parameter counts from formulas, so a test comparing the two checks one against the other.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const root = new URL("../fixtures/hub/", import.meta.url).pathname;
const BYTES = { BF16: 2, F16: 2, F32: 4, U8: 1, I32: 4 };

/** Llama-style decoder (Llama, Mistral, Qwen2): separate projections, two RMSNorms. */
function llamaTensors(c, { qkvBias = false } = {}) {
  const h = c.hidden_size, L = c.num_hidden_layers, a = c.num_attention_heads;
  const kv = c.num_key_value_heads ?? a, d = c.head_dim ?? h / a, f = c.intermediate_size, V = c.vocab_size;
  const t = [["model.embed_tokens.weight", [V, h]]];
  for (let i = 0; i < L; i++) {
    const p = `model.layers.${i}.`;
    t.push([`${p}input_layernorm.weight`, [h]]);
    t.push([`${p}self_attn.q_proj.weight`, [a * d, h]]);
    t.push([`${p}self_attn.k_proj.weight`, [kv * d, h]]);
    t.push([`${p}self_attn.v_proj.weight`, [kv * d, h]]);
    if (qkvBias) {
      t.push([`${p}self_attn.q_proj.bias`, [a * d]]);
      t.push([`${p}self_attn.k_proj.bias`, [kv * d]]);
      t.push([`${p}self_attn.v_proj.bias`, [kv * d]]);
    }
    t.push([`${p}self_attn.o_proj.weight`, [h, a * d]]);
    t.push([`${p}post_attention_layernorm.weight`, [h]]);
    t.push([`${p}mlp.gate_proj.weight`, [f, h]]);
    t.push([`${p}mlp.up_proj.weight`, [f, h]]);
    t.push([`${p}mlp.down_proj.weight`, [h, f]]);
  }
  t.push(["model.norm.weight", [h]]);
  if (!c.tie_word_embeddings) t.push(["lm_head.weight", [V, h]]);
  return t;
}

/** Gemma 2: Llama naming plus pre/post feed-forward norms; embeddings tied. */
function gemma2Tensors(c) {
  const t = llamaTensors({ ...c, tie_word_embeddings: true });
  const out = [];
  for (const entry of t) {
    out.push(entry);
    const m = /^model\.layers\.(\d+)\.post_attention_layernorm\.weight$/.exec(entry[0]);
    if (m) {
      out.push([`model.layers.${m[1]}.pre_feedforward_layernorm.weight`, [c.hidden_size]]);
      out.push([`model.layers.${m[1]}.post_feedforward_layernorm.weight`, [c.hidden_size]]);
    }
  }
  return out;
}

/** Phi-3: fused qkv_proj and gate_up_proj. */
function phi3Tensors(c) {
  const h = c.hidden_size, L = c.num_hidden_layers, a = c.num_attention_heads;
  const kv = c.num_key_value_heads, d = h / a, f = c.intermediate_size, V = c.vocab_size;
  const t = [["model.embed_tokens.weight", [V, h]]];
  for (let i = 0; i < L; i++) {
    const p = `model.layers.${i}.`;
    t.push([`${p}input_layernorm.weight`, [h]]);
    t.push([`${p}self_attn.qkv_proj.weight`, [(a + 2 * kv) * d, h]]);
    t.push([`${p}self_attn.o_proj.weight`, [h, a * d]]);
    t.push([`${p}post_attention_layernorm.weight`, [h]]);
    t.push([`${p}mlp.gate_up_proj.weight`, [2 * f, h]]);
    t.push([`${p}mlp.down_proj.weight`, [h, f]]);
  }
  t.push(["model.norm.weight", [h]]);
  t.push(["lm_head.weight", [V, h]]);
  return t;
}

/** GPT-2 as openai-community/gpt2 ships it: Conv1D weights (in × out) and the causal-mask buffer. */
function gpt2Tensors(c) {
  const h = c.n_embd, L = c.n_layer, n = c.n_positions, V = c.vocab_size;
  const t = [["wte.weight", [V, h]], ["wpe.weight", [n, h]]];
  for (let i = 0; i < L; i++) {
    const p = `h.${i}.`;
    t.push([`${p}ln_1.weight`, [h]], [`${p}ln_1.bias`, [h]]);
    t.push([`${p}attn.bias`, [1, 1, n, n]]);
    t.push([`${p}attn.c_attn.weight`, [h, 3 * h]], [`${p}attn.c_attn.bias`, [3 * h]]);
    t.push([`${p}attn.c_proj.weight`, [h, h]], [`${p}attn.c_proj.bias`, [h]]);
    t.push([`${p}ln_2.weight`, [h]], [`${p}ln_2.bias`, [h]]);
    t.push([`${p}mlp.c_fc.weight`, [h, 4 * h]], [`${p}mlp.c_fc.bias`, [4 * h]]);
    t.push([`${p}mlp.c_proj.weight`, [4 * h, h]], [`${p}mlp.c_proj.bias`, [h]]);
  }
  t.push(["ln_f.weight", [h]], ["ln_f.bias", [h]]);
  return t;
}

/** Mixtral: Mistral attention, a router and eight w1/w2/w3 experts per layer. */
function mixtralTensors(c) {
  const h = c.hidden_size, f = c.intermediate_size, E = c.num_local_experts;
  const out = [];
  for (const entry of llamaTensors(c)) {
    const m = /^model\.layers\.(\d+)\.mlp\.(gate|up|down)_proj\.weight$/.exec(entry[0]);
    if (!m) {
      out.push(entry);
      continue;
    }
    if (m[2] !== "gate") continue;
    const p = `model.layers.${m[1]}.block_sparse_moe.`;
    out.push([`${p}gate.weight`, [E, h]]);
    for (let e = 0; e < E; e++) {
      out.push([`${p}experts.${e}.w1.weight`, [f, h]], [`${p}experts.${e}.w2.weight`, [h, f]], [`${p}experts.${e}.w3.weight`, [f, h]]);
    }
  }
  return out;
}

/**
 * gpt-oss as openai/gpt-oss-20b ships it: bf16 attention (with biases and sinks), router and
 * embeddings; MXFP4 experts as U8 `_blocks` (two 4-bit values per byte, 32 per block) and
 * `_scales` (one E8M0 exponent per block), with bf16 biases.
 */
function gptOssTensors(c) {
  const h = c.hidden_size, L = c.num_hidden_layers, a = c.num_attention_heads, kv = c.num_key_value_heads;
  const d = c.head_dim, f = c.intermediate_size, E = c.num_local_experts, V = c.vocab_size;
  const bf = (name, shape) => [name, shape, "BF16"];
  const u8 = (name, shape) => [name, shape, "U8"];
  const t = [bf("model.embed_tokens.weight", [V, h])];
  for (let i = 0; i < L; i++) {
    const p = `model.layers.${i}.`;
    t.push(bf(`${p}input_layernorm.weight`, [h]));
    t.push(bf(`${p}mlp.experts.down_proj_bias`, [E, h]));
    t.push(u8(`${p}mlp.experts.down_proj_blocks`, [E, h, f / 32, 16]));
    t.push(u8(`${p}mlp.experts.down_proj_scales`, [E, h, f / 32]));
    t.push(bf(`${p}mlp.experts.gate_up_proj_bias`, [E, 2 * f]));
    t.push(u8(`${p}mlp.experts.gate_up_proj_blocks`, [E, 2 * f, h / 32, 16]));
    t.push(u8(`${p}mlp.experts.gate_up_proj_scales`, [E, 2 * f, h / 32]));
    t.push(bf(`${p}mlp.router.bias`, [E]), bf(`${p}mlp.router.weight`, [E, h]));
    t.push(bf(`${p}post_attention_layernorm.weight`, [h]));
    t.push(bf(`${p}self_attn.k_proj.bias`, [kv * d]), bf(`${p}self_attn.k_proj.weight`, [kv * d, h]));
    t.push(bf(`${p}self_attn.o_proj.bias`, [h]), bf(`${p}self_attn.o_proj.weight`, [h, a * d]));
    t.push(bf(`${p}self_attn.q_proj.bias`, [a * d]), bf(`${p}self_attn.q_proj.weight`, [a * d, h]));
    t.push(bf(`${p}self_attn.sinks`, [a]));
    t.push(bf(`${p}self_attn.v_proj.bias`, [kv * d]), bf(`${p}self_attn.v_proj.weight`, [kv * d, h]));
  }
  t.push(bf("model.norm.weight", [h]), bf("lm_head.weight", [V, h]));
  return t;
}

/**
 * AWQ (GEMM) 4-bit, group g, as AutoAWQ saves it: each quantized linear (in k, out n) becomes
 * qweight I32 [k, n/8], qzeros I32 [k/g, n/8], scales F16 [k/g, n]; biases, norms, embeddings
 * and lm_head stay F16.
 */
function awqTensors(c) {
  const g = c.quantization_config.group_size;
  const out = [];
  for (const [name, shape] of llamaTensors(c, { qkvBias: true })) {
    const linear = /^(model\.layers\.\d+\.(self_attn|mlp)\.\w+_proj)\.weight$/.exec(name);
    if (!linear) {
      out.push([name, shape, "F16"]);
      continue;
    }
    const [n, k] = shape; // stored [out, in] in the dense checkpoint
    out.push([`${linear[1]}.qweight`, [k, n / 8], "I32"], [`${linear[1]}.qzeros`, [k / g, n / 8], "I32"], [`${linear[1]}.scales`, [k / g, n], "F16"]);
  }
  return out;
}

const MODELS = [
  { id: "Qwen/Qwen2.5-0.5B", dtype: "BF16", shards: 1, tensors: (c) => llamaTensors(c, { qkvBias: true }) },
  { id: "Qwen/Qwen2.5-7B", dtype: "BF16", shards: 4, tensors: (c) => llamaTensors(c, { qkvBias: true }) },
  { id: "meta-llama/Llama-3.1-8B", dtype: "BF16", shards: 4, tensors: (c) => llamaTensors(c) },
  { id: "meta-llama/Llama-3.2-1B", dtype: "BF16", shards: 1, tensors: (c) => llamaTensors(c) },
  { id: "mistralai/Mistral-7B-v0.1", dtype: "BF16", shards: 2, tensors: (c) => llamaTensors(c) },
  { id: "google/gemma-2-9b", dtype: "F32", shards: 8, tensors: gemma2Tensors },
  { id: "microsoft/Phi-3-mini-4k-instruct", dtype: "BF16", shards: 2, tensors: phi3Tensors },
  { id: "openai-community/gpt2", dtype: "F32", shards: 1, tensors: gpt2Tensors },
  { id: "mistralai/Mixtral-8x7B-v0.1", dtype: "BF16", shards: 19, tensors: mixtralTensors },
  // gpt-oss numbers its three files from 00000: model-00000-of-00002 … model-00002-of-00002.
  { id: "Qwen/Qwen2.5-7B-Instruct-AWQ", dtype: "F16", shards: 2, tensors: awqTensors },
  { id: "openai/gpt-oss-20b", dtype: "BF16", shards: 3, shardNames: (i) => `model-${String(i).padStart(5, "0")}-of-00002.safetensors`, tensors: gptOssTensors },
];

for (const model of MODELS) {
  const dir = join(root, model.id);
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  const tensors = model.tensors(config).map(([name, shape, dtype = model.dtype]) => [
    name,
    dtype,
    shape,
    shape.reduce((x, y) => x * y, 1) * BYTES[dtype],
  ]);
  const total = tensors.reduce((sum, t) => sum + t[3], 0);
  const files = [];
  if (model.shards === 1) {
    files.push({ path: "model.safetensors", tensors });
  } else {
    // Fill shards in order up to an even share each, as transformers' `max_shard_size` split does.
    const share = total / model.shards;
    let current = [], filled = 0;
    for (const t of tensors) {
      if (current.length > 0 && filled + t[3] > share && files.length < model.shards - 1) {
        files.push(current);
        current = [];
        filled = 0;
      }
      current.push(t);
      filled += t[3];
    }
    files.push(current);
    const n = String(model.shards).padStart(5, "0");
    const nameOf = model.shardNames ?? ((i) => `model-${String(i + 1).padStart(5, "0")}-of-${n}.safetensors`);
    files.splice(0, files.length, ...files.map((list, i) => ({ path: nameOf(i), tensors: list })));
  }
  const manifest = { format: "vramplan.manifest/1", files };
  const text = JSON.stringify(manifest, null, 0).replace(/\],\[/g, "],\n[");
  writeFileSync(join(dir, "manifest.json"), text + "\n");
  console.log(`${model.id}: ${tensors.length} tensors, ${files.length} file(s), ${total} bytes`);
}

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
const BYTES = { BF16: 2, F16: 2, F32: 4 };

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

const MODELS = [
  { id: "Qwen/Qwen2.5-0.5B", dtype: "BF16", shards: 1, tensors: (c) => llamaTensors(c, { qkvBias: true }) },
  { id: "Qwen/Qwen2.5-7B", dtype: "BF16", shards: 4, tensors: (c) => llamaTensors(c, { qkvBias: true }) },
  { id: "meta-llama/Llama-3.1-8B", dtype: "BF16", shards: 4, tensors: (c) => llamaTensors(c) },
  { id: "meta-llama/Llama-3.2-1B", dtype: "BF16", shards: 1, tensors: (c) => llamaTensors(c) },
  { id: "mistralai/Mistral-7B-v0.1", dtype: "BF16", shards: 2, tensors: (c) => llamaTensors(c) },
  { id: "google/gemma-2-9b", dtype: "F32", shards: 8, tensors: gemma2Tensors },
  { id: "microsoft/Phi-3-mini-4k-instruct", dtype: "BF16", shards: 2, tensors: phi3Tensors },
  { id: "openai-community/gpt2", dtype: "F32", shards: 1, tensors: gpt2Tensors },
];

for (const model of MODELS) {
  const dir = join(root, model.id);
  const config = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
  const tensors = model.tensors(config).map(([name, shape]) => [
    name,
    model.dtype,
    shape,
    shape.reduce((x, y) => x * y, 1) * BYTES[model.dtype],
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
    files.splice(0, files.length, ...files.map((list, i) => ({
      path: `model-${String(i + 1).padStart(5, "0")}-of-${n}.safetensors`,
      tensors: list,
    })));
  }
  const manifest = { format: "vramplan.manifest/1", files };
  const text = JSON.stringify(manifest, null, 0).replace(/\],\[/g, "],\n[");
  writeFileSync(join(dir, "manifest.json"), text + "\n");
  console.log(`${model.id}: ${tensors.length} tensors, ${files.length} file(s), ${total} bytes`);
}

import type { ModelSpec } from "./spec.js";

/**
 * The linear layers of a model, as transformers names them, with their shapes: what LoRA targets
 * (`q_proj`, `all-linear`) and what weight quantization converts. Derived from the spec, so it
 * exists without safetensors headers.
 */
export interface LinearModule {
  /** transformers' module name: q_proj, gate_up_proj, c_attn, experts.down_proj, … */
  name: string;
  layer: number;
  inFeatures: number;
  outFeatures: number;
  /** Identical copies: the routed experts of a MoE layer; 1 otherwise. */
  copies: number;
  role: "attention" | "mlp" | "expert" | "shared-expert" | "router" | "ssm";
  bias: boolean;
}

interface Naming {
  /** Separate q/k/v projections, or one fused module with this name. */
  qkv: ["q_proj", "k_proj", "v_proj"] | string;
  o: string;
  /** Gated MLP: separate gate/up, or one fused module; plain MLP: its two modules. */
  mlpIn: [gate: string, up: string] | string;
  mlpOut: string;
}

const LLAMA: Naming = { qkv: ["q_proj", "k_proj", "v_proj"], o: "o_proj", mlpIn: ["gate_proj", "up_proj"], mlpOut: "down_proj" };
const NAMING: Readonly<Record<string, Naming>> = {
  phi3: { qkv: "qkv_proj", o: "o_proj", mlpIn: "gate_up_proj", mlpOut: "down_proj" },
  gpt2: { qkv: "c_attn", o: "c_proj", mlpIn: "c_fc", mlpOut: "mlp.c_proj" },
  chatglm: { qkv: "query_key_value", o: "dense", mlpIn: "dense_h_to_4h", mlpOut: "dense_4h_to_h" },
  glm: { qkv: ["q_proj", "k_proj", "v_proj"], o: "o_proj", mlpIn: "gate_up_proj", mlpOut: "down_proj" },
  glm4: { qkv: ["q_proj", "k_proj", "v_proj"], o: "o_proj", mlpIn: "gate_up_proj", mlpOut: "down_proj" },
  // Qwen-1: w2 goes through SiLU (the gate), w1 is the up projection.
  qwen: { qkv: "c_attn", o: "c_proj", mlpIn: ["w2", "w1"], mlpOut: "mlp.c_proj" },
  gpt_neox: { qkv: "query_key_value", o: "dense", mlpIn: "dense_h_to_4h", mlpOut: "dense_4h_to_h" },
  falcon: { qkv: "query_key_value", o: "dense", mlpIn: "dense_h_to_4h", mlpOut: "dense_4h_to_h" },
  phi4flash: { qkv: "Wqkv", o: "out_proj", mlpIn: "fc1", mlpOut: "fc2" },
};

/** Expert projections and router by family: Mixtral's block_sparse_moe has w1 (gate), w3 (up), w2 (down). */
const EXPERT_NAMES: Readonly<Record<string, { router: string; gate: string; up: string; down: string }>> = {
  mixtral: { router: "gate", gate: "w1", up: "w3", down: "w2" },
  jamba: { router: "router", gate: "gate_proj", up: "up_proj", down: "down_proj" },
  gpt_oss: { router: "router", gate: "gate_proj", up: "up_proj", down: "down_proj" },
  llama4_text: { router: "router", gate: "gate_proj", up: "up_proj", down: "down_proj" },
  default: { router: "gate", gate: "gate_proj", up: "up_proj", down: "down_proj" },
};

export function linearModules(spec: ModelSpec): LinearModule[] {
  const h = spec.hiddenSize;
  const naming = NAMING[spec.family] ?? LLAMA;
  const { layout } = spec;
  const modules: LinearModule[] = [];
  const add = (layer: number, name: string, inFeatures: number, outFeatures: number, role: LinearModule["role"], bias: boolean, copies = 1) =>
    modules.push({ name, layer, inFeatures, outFeatures, role, bias, copies });

  spec.layers.forEach((layer, i) => {
    const attends = layer.caches.some((cache) => cache.kind !== "state");
    if (attends && spec.mla) {
      const mla = spec.mla;
      const a = spec.numAttentionHeads;
      const qHead = mla.qkNopeHeadDim + mla.qkRopeHeadDim;
      if (mla.qLoraRank === null) add(i, "q_proj", h, a * qHead, "attention", false);
      else {
        add(i, "q_a_proj", h, mla.qLoraRank, "attention", false);
        add(i, "q_b_proj", mla.qLoraRank, a * qHead, "attention", false);
      }
      add(i, "kv_a_proj_with_mqa", h, mla.kvLoraRank + mla.qkRopeHeadDim, "attention", false);
      add(i, "kv_b_proj", mla.kvLoraRank, a * (mla.qkNopeHeadDim + mla.vHeadDim), "attention", false);
      add(i, "o_proj", a * mla.vHeadDim, h, "attention", false);
      if (mla.indexer) {
        add(i, "indexer.wq_b", mla.qLoraRank ?? h, mla.indexer.heads * mla.indexer.headDim, "attention", false);
        add(i, "indexer.wk", h, mla.indexer.headDim, "attention", false);
        // Scores the indexer's heads like a router: the checkpoint keeps it in 16 bits, unquantized.
        add(i, "indexer.weights_proj", h, mla.indexer.heads, "router", false);
      }
    } else if (attends) {
      const q = spec.numAttentionHeads * spec.headDim * (layout.gatedAttention ? 2 : 1);
      const kv = spec.numKeyValueHeads * spec.headDim;
      if (Array.isArray(naming.qkv)) {
        add(i, naming.qkv[0], h, q, "attention", layout.qkvBias);
        add(i, naming.qkv[1], h, kv, "attention", layout.qkvBias);
        add(i, naming.qkv[2], h, kv, "attention", layout.qkvBias);
      } else add(i, naming.qkv, h, q + 2 * kv, "attention", layout.qkvBias);
      add(i, naming.o, spec.numAttentionHeads * spec.headDim, h, "attention", layout.outputBias);
    }
    for (const cache of layer.caches) {
      if (cache.kind !== "state") continue;
      // The mixers' projections (Mamba in_proj/out_proj, delta-net in_proj_qkvz/out_proj) are not
      // listed shape by shape: their parameters are in the spec's mixer count.
      add(i, `${cache.mixer}.mixer`, 0, 0, "ssm", false);
    }

    if (layer.mlp === "dense") {
      const f = spec.intermediateSize;
      if (layout.mlp === "gated") {
        if (Array.isArray(naming.mlpIn)) {
          add(i, naming.mlpIn[0], h, f, "mlp", layout.mlpBias);
          add(i, naming.mlpIn[1], h, f, "mlp", layout.mlpBias);
        } else add(i, naming.mlpIn, h, 2 * f, "mlp", layout.mlpBias);
      } else add(i, Array.isArray(naming.mlpIn) ? "up_proj" : naming.mlpIn, h, f, "mlp", layout.mlpBias);
      add(i, naming.mlpOut, f, h, "mlp", layout.mlpBias);
    } else if (layer.mlp === "moe" && spec.moe) {
      const moe = spec.moe;
      const experts = EXPERT_NAMES[spec.family] ?? EXPERT_NAMES["default"];
      add(i, experts?.router ?? "gate", h, moe.experts, "router", moe.routerBias);
      add(i, `experts.${experts?.gate}`, h, moe.expertIntermediate, "expert", moe.expertBias, moe.experts);
      add(i, `experts.${experts?.up}`, h, moe.expertIntermediate, "expert", moe.expertBias, moe.experts);
      add(i, `experts.${experts?.down}`, moe.expertIntermediate, h, "expert", moe.expertBias, moe.experts);
      if (moe.sharedIntermediate > 0) {
        add(i, "shared_expert.gate_proj", h, moe.sharedIntermediate, "shared-expert", false);
        add(i, "shared_expert.up_proj", h, moe.sharedIntermediate, "shared-expert", false);
        add(i, "shared_expert.down_proj", moe.sharedIntermediate, h, "shared-expert", false);
      }
    }
  });
  return modules;
}

/** Weight elements of a module (all copies), biases not included. */
export function moduleWeights(module: LinearModule): number {
  return module.inFeatures * module.outFeatures * module.copies;
}

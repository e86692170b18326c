import { configParameters } from "./config-parameters.js";
import { componentOf, isRoutedExpert, tensorRole, type Component, type QuantizationRules } from "./tensor-roles.js";
import type { TensorManifest } from "../model/manifest.js";
import { linearModules, moduleWeights, type LinearModule } from "../model/modules.js";
import type { ModelSpec } from "../model/spec.js";
import { visionTowerParameters } from "./vision-tower.js";

/** What a weight tensor is to a quantizer. */
export type WeightKind = "embedding" | "lm_head" | "linear" | "expert" | "router" | "vector";

/** llama-quantize's tensor classes that its mixes single out. */
export type GgufRole = "attn_v" | "attn_qkv" | "attn_output" | "ffn_down" | null;

export interface WeightTensor {
  name: string;
  kind: WeightKind;
  /** Logical elements (packed values unpacked). */
  elements: number;
  rowLength: number;
  matrices: number;
  layer: number | null;
  ggufRole: GgufRole;
  component: Component;
  /** Stored in fp32 whatever the scheme (DeepSeek-V3's e_score_correction_bias). */
  keptInFp32?: true;
}

const EMBEDDING = /(^|\.)(embed_tokens|wte|wpe|word_embeddings|embed_in|tok_embeddings)\./;
const LM_HEAD = /(^|\.)(lm_head|embed_out|output_layer)\.|^output\.weight$/;
const ROUTER = /(\.router\.|block_sparse_moe\.gate\.|mlp\.gate\.weight$|feed_forward\.gate\.|\.gate\.e_score_correction_bias$)/;

function ggufRoleOf(name: string): GgufRole {
  if (/\.v_proj\./.test(name)) return "attn_v";
  if (/qkv_proj|c_attn|query_key_value/.test(name)) return "attn_qkv";
  if (/\.o_proj\.|attention\.dense\.|self_attention\.dense\.|attn\.c_proj/.test(name)) return "attn_output";
  if (/down_proj|\.w2\.|dense_4h_to_h|mlp\.c_proj/.test(name)) return "ffn_down";
  return null;
}

/** What a stored tensor is to a quantizer or a tensor-parallel loader, from its name and rank. */
export function weightKindOf(name: string, dims: number): WeightKind {
  if (EMBEDDING.test(name)) return "embedding";
  if (LM_HEAD.test(name)) return "lm_head";
  if (dims < 2) return "vector";
  if (ROUTER.test(name)) return "router";
  if (isRoutedExpert(name)) return "expert";
  return "linear";
}

function layerOf(name: string): number | null {
  const match = /(?:layers|h|blocks)\.(\d+)\./.exec(name);
  return match ? Number(match[1]) : null;
}

/**
 * The checkpoint's weights as a quantizer sees them, from the safetensors headers: buffers and
 * existing quantization scales dropped, packed tensors at their logical size.
 */
export function inventoryFromManifest(spec: ModelSpec, manifest: TensorManifest, rules: QuantizationRules): WeightTensor[] {
  const tensors: WeightTensor[] = [];
  for (const file of manifest.files) {
    for (const tensor of file.tensors) {
      const role = tensorRole(tensor, rules);
      if (role.kind !== "parameter") continue;
      const elements = Math.round(tensor.shape.reduce((a, b) => a * b, 1) * role.valuesPerElement);
      const dims = tensor.shape.length;
      // A packed tensor's shape no longer shows its input features; the hidden size is the
      // usual one, and only block and group counts depend on it.
      const rowLength = role.valuesPerElement === 1 && dims >= 2 ? (tensor.shape[dims - 1] ?? 1) : dims >= 2 ? spec.hiddenSize : elements;
      const matrices = role.valuesPerElement === 1 && dims >= 3 ? tensor.shape.slice(0, dims - 2).reduce((a, b) => a * b, 1) : 1;
      const name = tensor.name;
      const kind = weightKindOf(name, dims);
      tensors.push({ name, kind, elements, rowLength: Math.max(1, rowLength), matrices, layer: layerOf(name), ggufRole: ggufRoleOf(name), component: componentOf(name, spec.numLayers) });
    }
  }
  return tensors;
}

// Families whose checkpoints name shared experts `mlp.shared_experts` (DeepSeek's modeling code);
// Qwen's say `mlp.shared_expert`.
const PLURAL_SHARED_EXPERTS = new Set(["deepseek_v2", "deepseek_v3", "glm4_moe"]);
// Families that store each layer's experts fused in one tensor rather than one per expert.
const FUSED_EXPERTS = new Set(["gpt_oss", "llama4_text"]);

/**
 * Where a linear module sits in a transformers checkpoint (`self_attn.q_proj`,
 * `mlp.experts.0.down_proj`, `mlp.shared_experts.up_proj`): what a quantization config's
 * `ignore` patterns are written against. Expert 0 stands for all of a layer's experts.
 */
function checkpointPath(family: string, module: LinearModule): string {
  const block = family === "mixtral" ? "block_sparse_moe" : "mlp";
  switch (module.role) {
    case "attention":
      return `self_attn.${module.name}`;
    case "expert":
      return FUSED_EXPERTS.has(family) ? `${block}.${module.name}` : `${block}.${module.name.replace(/^experts\./, "experts.0.")}`;
    case "shared-expert":
      return `mlp.${PLURAL_SHARED_EXPERTS.has(family) ? module.name.replace(/^shared_expert\./, "shared_experts.") : module.name}`;
    case "router":
      return `${block}.${module.name}`;
    default:
      return module.name.startsWith("mlp.") ? module.name : `mlp.${module.name}`;
  }
}

/** The same inventory from config.json alone: the spec's linear modules, embeddings and the rest. */
export function inventoryFromSpec(spec: ModelSpec): WeightTensor[] {
  const counted = configParameters(spec);
  if (!counted) return [];
  const h = spec.hiddenSize;
  const tensors: WeightTensor[] = [
    { name: "model.embed_tokens.weight", kind: "embedding", elements: counted.embeddings + counted.positionEmbeddings, rowLength: h, matrices: 1, layer: null, ggufRole: null, component: "language model" },
  ];
  if (counted.lmHead > 0) tensors.push({ name: "lm_head.weight", kind: "lm_head", elements: counted.lmHead, rowLength: h, matrices: 1, layer: null, ggufRole: null, component: "language model" });
  let matrices = 0;
  // The router bias the checkpoint keeps in fp32: a tensor of its own, out of the 16-bit vectors below.
  const fp32RouterBias = spec.moe?.routerBias && spec.moe.routerBiasInFp32 ? spec.moe.experts : 0;
  for (const module of linearModules(spec)) {
    if (module.role === "ssm") continue;
    const elements = moduleWeights(module);
    matrices += elements;
    const kind: WeightKind = module.role === "router" ? "router" : module.role === "expert" ? "expert" : "linear";
    const name = `model.layers.${module.layer}.${checkpointPath(spec.family, module)}.weight`;
    tensors.push({ name, kind, elements, rowLength: module.inFeatures, matrices: module.copies, layer: module.layer, ggufRole: ggufRoleOf(name), component: "language model" });
  }
  // SSM mixers' projections, lumped per model: their shapes are in derive-state.ts's counts.
  if (counted.ssmMixers > 0) {
    matrices += counted.ssmMixers;
    tensors.push({ name: "ssm mixers", kind: "linear", elements: counted.ssmMixers, rowLength: h, matrices: 1, layer: null, ggufRole: null, component: "language model" });
  }
  if (fp32RouterBias > 0) {
    const elements = counted.moeLayers * fp32RouterBias;
    matrices += elements;
    tensors.push({ name: "e_score_correction_bias", kind: "vector", elements, rowLength: elements, matrices: 1, layer: null, ggufRole: null, component: "language model", keptInFp32: true });
  }
  // Norms, biases, sinks, q/k norms: what the count holds beyond embeddings, head and matrices.
  const vectors = counted.total - counted.embeddings - counted.positionEmbeddings - counted.lmHead - matrices;
  if (vectors > 0) tensors.push({ name: "norms and biases", kind: "vector", elements: vectors, rowLength: vectors, matrices: 1, layer: null, ggufRole: null, component: "language model" });
  // The vision tower, lumped: quantizers leave it in 16 bits, and engines shard it like the rest.
  if (spec.visionTower) {
    const vision = visionTowerParameters(spec.visionTower);
    tensors.push({ name: "visual", kind: "linear", elements: vision.parameters, rowLength: spec.visionTower.hidden, matrices: 1, layer: null, ggufRole: null, component: "vision tower" });
  }
  return tensors;
}

import type { TensorEntry } from "../model/manifest.js";
import type { RawConfig } from "../model/raw-config.js";
import { readObject, readPositiveInt, readString } from "../model/raw-config.js";

/**
 * What a stored tensor is: learned weights (and how many logical values a packed element holds),
 * quantization bookkeeping (scales, zero points, lookup tables: bytes but not parameters), or a
 * non-parameter buffer. @huggingface/hub's parseSafetensorsMetadata knows the same packing rules but
 * only sums them per dtype; the report needs them per tensor, to split experts, vision tower and
 * multi-token-prediction layers. Rules: engines.md §2.2.
 */
export type TensorRole = { kind: "parameter"; valuesPerElement: number } | { kind: "quantization-state" } | { kind: "buffer" };

// Tensors checkpoints store that are not learned parameters. Matched on the full final segments so
// GPT-2's `attn.c_attn.bias` (a parameter) is not mistaken for `attn.bias` (the mask buffer).
const BUFFER_SUFFIXES = [".attn.bias", ".attn.masked_bias", ".attention.bias", ".attention.masked_bias", ".rotary_emb.inv_freq"];
const SCALE_ONLY_DTYPES = new Set(["F8_E8M0", "E8M0", "UE8"]);
const QUANT_STATE_SUFFIXES = new Set([
  "weight_scale",
  "weight_scale_inv",
  "weight_scale_2",
  "weight_global_scale",
  "weight_zero_point",
  "input_scale",
  "input_global_scale",
  "input_zero_point",
  "weight_shape",
  "weight_g_idx",
  "absmax",
  "quant_map",
  "nested_absmax",
  "nested_quant_map",
  "SCB",
  "weight_format",
]);
const CONTAINER_BITS: Readonly<Record<string, number>> = { U8: 8, I8: 8, U16: 16, I16: 16, U32: 32, I32: 32 };

export interface QuantizationRules {
  method: string | undefined;
  bits: number | undefined;
  /** MLX mixed quantization: modules given their own bits (`"model.layers.0.mlp.down_proj": {"bits": 8, …}`). */
  moduleBits?: ReadonlyMap<string, number>;
}

export function quantizationRules(config: RawConfig): QuantizationRules {
  const quant = readObject(config, "quantization_config") ?? readObject(config, "quantization");
  if (!quant) return { method: undefined, bits: undefined };
  // MLX writes {"quantization": {"group_size": 64, "bits": 4}} with no quant_method.
  const method = readString(quant, "quant_method") ?? (readObject(config, "quantization") ? "mlx" : undefined);
  let bits = readPositiveInt(quant, ["bits", "weight_bits"])?.value;
  if (method === "compressed-tensors") {
    const groups = Object.values(readObject(quant, "config_groups") ?? {}) as { weights?: { num_bits?: unknown } }[];
    const numBits = groups.map((group) => group?.weights?.num_bits).find((value) => typeof value === "number");
    bits = typeof numBits === "number" ? numBits : 4;
  }
  if (method === "bitsandbytes") bits = quant["load_in_4bit"] === true ? 4 : 8;
  if (method === "mlx") {
    // mlx-lm's mixed recipes write per-module entries next to the defaults.
    const moduleBits = new Map<string, number>();
    for (const [module, value] of Object.entries(quant)) {
      const moduleValue = (value as { bits?: unknown } | null)?.bits;
      if (typeof value === "object" && value !== null && typeof moduleValue === "number") moduleBits.set(module, moduleValue);
    }
    return { method, bits, moduleBits };
  }
  return { method, bits };
}

function lastSegment(name: string): string {
  return name.slice(name.lastIndexOf(".") + 1);
}

export function tensorRole(tensor: TensorEntry, rules: QuantizationRules): TensorRole {
  const { name, dtype } = tensor;
  if (BUFFER_SUFFIXES.some((suffix) => name.endsWith(suffix) || name === suffix.slice(1))) return { kind: "buffer" };
  if (SCALE_ONLY_DTYPES.has(dtype)) return { kind: "quantization-state" };
  if (!rules.method) return { kind: "parameter", valuesPerElement: 1 };
  const segment = lastSegment(name);
  // bitsandbytes serialises its state as `…weight.quant_state.bitsandbytes__nf4`.
  if (QUANT_STATE_SUFFIXES.has(segment) || name.includes(".quant_state.")) return { kind: "quantization-state" };
  const container = CONTAINER_BITS[dtype];
  const bits = rules.bits ?? 4;
  switch (rules.method) {
    case "gptq":
    case "awq":
      if (segment === "qweight") return { kind: "parameter", valuesPerElement: 32 / bits };
      if (segment === "qzeros" || segment === "scales" || segment === "g_idx") return { kind: "quantization-state" };
      return { kind: "parameter", valuesPerElement: 1 };
    case "mxfp4":
      // gpt-oss: `*_blocks` packs two e2m1 values per byte; `*_scales` are their E8M0 exponents.
      if (dtype === "U8" && segment.endsWith("_blocks")) return { kind: "parameter", valuesPerElement: 2 };
      if (dtype === "U8" && segment.endsWith("_scales")) return { kind: "quantization-state" };
      return { kind: "parameter", valuesPerElement: 1 };
    case "bitsandbytes":
      return { kind: "parameter", valuesPerElement: bits === 4 && dtype === "U8" ? 2 : 1 };
    case "compressed-tensors":
      return { kind: "parameter", valuesPerElement: segment === "weight_packed" && container ? container / bits : 1 };
    case "mlx": {
      if (segment === "scales" || segment === "biases") return { kind: "quantization-state" };
      const moduleBits = rules.moduleBits?.get(name.slice(0, name.lastIndexOf("."))) ?? bits;
      return { kind: "parameter", valuesPerElement: dtype === "U32" && segment === "weight" ? 32 / moduleBits : 1 };
    }
    default:
      return { kind: "parameter", valuesPerElement: 1 };
  }
}

/** Which part of a model a tensor belongs to. */
export type Component = "language model" | "vision tower" | "multi-token prediction";

const VISION_PREFIX = /^(model\.)?(visual|vision_tower|vision_model|vision_encoder|multi_modal_projector|mm_projector|vision_embed_tokens|image_newline|audio_tower|audio_model)\./;

export function componentOf(name: string, numLayers: number): Component {
  if (VISION_PREFIX.test(name)) return "vision tower";
  // DeepSeek-V3 ships its multi-token-prediction module as layer num_hidden_layers (61);
  // vLLM loads it only for speculative decoding.
  const layer = /^model\.layers\.(\d+)\./.exec(name);
  if (layer && Number(layer[1]) >= numLayers) return "multi-token prediction";
  return "language model";
}

/** Routed experts: `…experts.3.w1`, `…experts.gate_up_proj` — not the shared ones. */
export function isRoutedExpert(name: string): boolean {
  return name.includes(".experts.") && !name.includes("shared_expert");
}

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
  /** GPTQ/AWQ/compressed-tensors group size (input features per scale); -1 or absent: per channel. */
  groupSize?: number;
  /** How the weights' values are stored: integers, or floats (fp8, nvfp4, mxfp4). */
  valueType?: "int" | "float";
  /** fp8 scales per block of [rows, columns] (DeepSeek-V3's weight_block_size [128, 128]). */
  blockSize?: readonly [number, number];
  /** compressed-tensors scale granularity: "tensor", "channel", "group", "block". */
  strategy?: string;
  /** bitsandbytes 4-bit with double quantization of its absmax. */
  doubleQuant?: boolean;
  /** compressed-tensors: symmetric weights (no zero points stored) and the storage format (`pack-quantized`…). */
  symmetric?: boolean;
  format?: string;
  /**
   * Modules the checkpoint leaves unquantized: compressed-tensors `ignore` (names, or `re:` regexes
   * matched from the start), transformers' `modules_to_not_convert` (substrings).
   */
  ignore?: { patterns: readonly string[]; match: "compressed-tensors" | "substring" };
}

export function quantizationRules(config: RawConfig): QuantizationRules {
  const quant = readObject(config, "quantization_config") ?? readObject(config, "quantization");
  if (!quant) return { method: undefined, bits: undefined };
  // MLX writes {"quantization": {"group_size": 64, "bits": 4}} with no quant_method.
  const method = readString(quant, "quant_method") ?? (readObject(config, "quantization") ? "mlx" : undefined);
  let bits = readPositiveInt(quant, ["bits", "weight_bits"])?.value;
  let groupSize = readPositiveInt(quant, ["group_size", "q_group_size"])?.value;
  let valueType: "int" | "float" | undefined = method === "fp8" || method === "mxfp4" || method === "modelopt" ? "float" : undefined;
  let blockSize: [number, number] | undefined;
  let strategy: string | undefined;
  let symmetric: boolean | undefined;
  let format: string | undefined;
  const block = quant["weight_block_size"];
  if (Array.isArray(block) && block.length === 2 && block.every((value) => Number.isSafeInteger(value) && value > 0)) blockSize = [block[0] as number, block[1] as number];
  if (method === "compressed-tensors") {
    const groups = Object.values(readObject(quant, "config_groups") ?? {}) as { weights?: { num_bits?: unknown; group_size?: unknown; type?: unknown; block_structure?: unknown } }[];
    const weights = groups.map((group) => group?.weights).find((value) => value && typeof value.num_bits === "number") as
      | { num_bits?: unknown; group_size?: unknown; type?: unknown; block_structure?: unknown; strategy?: unknown }
      | undefined;
    bits = typeof weights?.num_bits === "number" ? weights.num_bits : 4;
    if (typeof weights?.group_size === "number" && weights.group_size > 0) groupSize = weights.group_size;
    if (weights?.type === "float" || weights?.type === "int") valueType = weights.type;
    const structure = weights?.block_structure;
    if (Array.isArray(structure) && structure.length === 2 && structure.every((value) => typeof value === "number" && value > 0)) blockSize = [structure[0] as number, structure[1] as number];
    if (typeof weights?.strategy === "string") strategy = weights.strategy;
    if (typeof (weights as { symmetric?: unknown } | undefined)?.symmetric === "boolean") symmetric = (weights as { symmetric: boolean }).symmetric;
    format = readString(quant, "format");
  }
  if (method === "bitsandbytes") bits = quant["load_in_4bit"] === true ? 4 : 8;
  const doubleQuant = quant["bnb_4bit_use_double_quant"] === true;
  if (method === "mlx") {
    // mlx-lm's mixed recipes write per-module entries next to the defaults.
    const moduleBits = new Map<string, number>();
    for (const [module, value] of Object.entries(quant)) {
      const moduleValue = (value as { bits?: unknown } | null)?.bits;
      if (typeof value === "object" && value !== null && typeof moduleValue === "number") moduleBits.set(module, moduleValue);
    }
    return { method, bits, moduleBits };
  }
  return {
    method,
    bits,
    ...(groupSize !== undefined && { groupSize }),
    ...(valueType !== undefined && { valueType }),
    ...(blockSize !== undefined && { blockSize }),
    ...(strategy !== undefined && { strategy }),
    ...(method === "bitsandbytes" && { doubleQuant }),
    ...(symmetric !== undefined && { symmetric }),
    ...(format !== undefined && { format }),
    ...unconvertedModules(method, quant),
  };
}

function unconvertedModules(method: string | undefined, quant: RawConfig): Pick<QuantizationRules, "ignore"> {
  const strings = (name: string) => {
    const value = quant[name];
    return Array.isArray(value) ? value.filter((entry): entry is string => typeof entry === "string" && entry.length > 0) : [];
  };
  if (method === "compressed-tensors") {
    const patterns = strings("ignore");
    return patterns.length > 0 ? { ignore: { patterns, match: "compressed-tensors" } } : {};
  }
  const patterns = [...strings("modules_to_not_convert"), ...strings("llm_int8_skip_modules")];
  return patterns.length > 0 ? { ignore: { patterns, match: "substring" } } : {};
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
  // Qwen3-Next and Qwen3.5 keep theirs under `mtp.` (layers, fc, norms).
  if (name.startsWith("mtp.")) return "multi-token prediction";
  const layer = /^model\.layers\.(\d+)\./.exec(name);
  if (layer && Number(layer[1]) >= numLayers) return "multi-token prediction";
  return "language model";
}

/** Routed experts: `…experts.3.w1`, `…experts.gate_up_proj` — not the shared ones. */
export function isRoutedExpert(name: string): boolean {
  return name.includes(".experts.") && !name.includes("shared_expert");
}

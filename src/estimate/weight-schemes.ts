import { UsageError } from "../errors.js";
import type { QuantizationRules } from "./tensor-roles.js";

/**
 * Weight formats a checkpoint can be served in, and what each costs per tensor: the packed values
 * plus the scales and zero points the format keeps (formulas.md "Quantized weights", engines.md §3).
 */
export type WeightScheme = (
  | { kind: "float"; name: "fp32" | "bf16" | "fp16"; bytes: 4 | 2 }
  | { kind: "fp8"; name: "fp8" | "fp8-block" | "fp8-channel"; block?: readonly [number, number] }
  | { kind: "int8"; name: "int8" }
  | {
      kind: "int4";
      name: "int4";
      groupSize: number;
      /**
       * GPTQ/AWQ store a 4-bit zero per group even when symmetric; compressed-tensors'
       * pack-quantized format stores one only when asymmetric, and an int32 [2] weight_shape.
       */
      layout?: "gptq" | "pack-quantized";
      symmetric?: boolean;
    }
  | { kind: "nf4"; name: "nf4"; doubleQuant?: boolean }
  | { kind: "mxfp4"; name: "mxfp4" }
  | { kind: "nvfp4"; name: "nvfp4" }
  | { kind: "gguf"; name: GgufFileType }
) & {
  /** A checkpoint's own quantization_config: the modules it leaves unconverted (compressed-tensors `ignore`, `modules_to_not_convert`). */
  ignore?: ModuleFilter;
};

/** Whether a module (its checkpoint path without `.weight`) is one a quantization config leaves alone. */
export type ModuleFilter = (modulePath: string) => boolean;

/** ggml block types: values per block and bytes per block (ggml-common.h struct sizes). */
export const GGML_BLOCKS = {
  F32: [1, 4],
  F16: [1, 2],
  Q4_0: [32, 18],
  Q4_1: [32, 20],
  Q5_0: [32, 22],
  Q5_1: [32, 24],
  Q8_0: [32, 34],
  Q2_K: [256, 84],
  Q3_K: [256, 110],
  Q4_K: [256, 144],
  Q5_K: [256, 176],
  Q6_K: [256, 210],
} as const satisfies Record<string, readonly [number, number]>;
export type GgmlType = keyof typeof GGML_BLOCKS;

export const GGUF_FILE_TYPES = ["Q8_0", "Q6_K", "Q5_K_M", "Q5_0", "Q4_K_M", "Q4_0", "Q3_K_M", "Q2_K"] as const;
export type GgufFileType = (typeof GGUF_FILE_TYPES)[number];

export const WEIGHT_SCHEME_NAMES = ["bf16", "fp16", "fp32", "fp8", "fp8-block", "fp8-channel", "int8", "int4", "nf4", "mxfp4", "nvfp4", ...GGUF_FILE_TYPES] as const;

export function parseWeightScheme(name: string, groupSize = 128): WeightScheme {
  const key = name.trim();
  const lower = key.toLowerCase();
  if (lower === "bf16" || lower === "bfloat16") return { kind: "float", name: "bf16", bytes: 2 };
  if (lower === "fp16" || lower === "float16" || lower === "f16") return { kind: "float", name: "fp16", bytes: 2 };
  if (lower === "fp32" || lower === "float32" || lower === "f32") return { kind: "float", name: "fp32", bytes: 4 };
  if (lower === "fp8" || lower === "fp8-tensor") return { kind: "fp8", name: "fp8" };
  if (lower === "fp8-block" || lower === "fp8-128") return { kind: "fp8", name: "fp8-block" };
  if (lower === "fp8-channel" || lower === "fp8-dynamic") return { kind: "fp8", name: "fp8-channel" };
  if (lower === "int8" || lower === "w8a16") return { kind: "int8", name: "int8" };
  if (lower === "int4" || lower === "gptq" || lower === "awq" || lower === "w4a16") {
    if (!Number.isSafeInteger(groupSize) || groupSize < 1) throw new UsageError(`{groupSize} must be a positive whole number, got ${groupSize}`);
    return { kind: "int4", name: "int4", groupSize };
  }
  if (lower === "nf4" || lower === "qlora") return { kind: "nf4", name: "nf4" };
  if (lower === "mxfp4") return { kind: "mxfp4", name: "mxfp4" };
  if (lower === "nvfp4") return { kind: "nvfp4", name: "nvfp4" };
  const gguf = GGUF_FILE_TYPES.find((type) => type.toLowerCase() === lower);
  if (gguf) return { kind: "gguf", name: gguf };
  throw new UsageError(`unknown weight format "${name}": choose from ${WEIGHT_SCHEME_NAMES.join(", ")}`);
}

export function describeScheme(scheme: WeightScheme): string {
  switch (scheme.kind) {
    case "float":
      return `${scheme.name}, ${scheme.bytes} B per parameter`;
    case "fp8":
      return scheme.name === "fp8"
        ? "fp8 e4m3 linear weights, one fp32 scale per tensor; embeddings, lm_head, norms, routers in 16-bit"
        : scheme.name === "fp8-channel"
          ? "fp8 e4m3 linear weights, one fp32 scale per output channel (compressed-tensors FP8-dynamic); the rest 16-bit"
          : `fp8 e4m3 linear weights, one fp32 scale per ${(scheme.block ?? [128, 128]).join("×")} block (DeepSeek-V3); the rest 16-bit`;
    case "int8":
      return "int8 linear weights, one fp32 scale per output row (LLM.int8 / W8A16); the rest 16-bit";
    case "int4":
      return `int4 linear weights (GPTQ/AWQ layout), group ${scheme.groupSize}: fp16 scale and 4-bit zero per group; embeddings, lm_head, norms, routers, biases 16-bit`;
    case "nf4":
      return scheme.doubleQuant === false
        ? "bitsandbytes NF4: fp32 absmax per 64 values; lm_head and embeddings 16-bit"
        : "bitsandbytes NF4 with double quantization: 8-bit absmax per 64 values, fp32 per 256 absmax; lm_head and embeddings 16-bit";
    case "mxfp4":
      return "MXFP4: 32 e2m1 values share one E8M0 scale (17 B per 32); experts only on MoE models (gpt-oss), all linears otherwise";
    case "nvfp4":
      return "NVFP4: e2m1 values with an fp8 scale per 16 and an fp32 scale per tensor; embeddings, lm_head, norms 16-bit";
    case "gguf":
      return `GGUF ${scheme.name} as llama-quantize mixes it (output and some attn_v/ffn_down at higher types), norms in F32`;
  }
}

/** A weight matrix (or a stack of identical ones, e.g. fused experts) seen as rows of `rowLength`. */
export interface MatrixShape {
  elements: number;
  /** Input features: the last dimension, along which groups and ggml blocks run. */
  rowLength: number;
  /** Separate 2-D matrices in the tensor (fused expert stacks); scales never span them. */
  matrices: number;
}

const ceilDiv = (a: number, b: number) => Math.ceil(a / b);

/** Bytes of a quantized matrix under a scheme (not the 16-bit leftovers: requantize.ts decides those). */
export function quantizedMatrixBytes(scheme: Exclude<WeightScheme, { kind: "float" } | { kind: "gguf" }>, shape: MatrixShape): number {
  const { elements, rowLength: k, matrices } = shape;
  const rows = elements / k; // output features, summed over the stacked matrices
  const rowsPerMatrix = rows / matrices;
  switch (scheme.kind) {
    case "fp8": {
      // One byte per weight; one fp32 scale per tensor, per output channel, or per block of each matrix.
      if (scheme.name === "fp8") return elements + 4;
      if (scheme.name === "fp8-channel") return elements + rows * 4;
      const [blockRows, blockColumns] = scheme.block ?? [128, 128];
      return elements + matrices * ceilDiv(rowsPerMatrix, blockRows) * ceilDiv(k, blockColumns) * 4;
    }
    case "int8":
      return elements + rows * 4;
    case "int4": {
      // GPTQ/AWQ: 8 four-bit weights per int32, an fp16 scale and a 4-bit zero (8 per int32) per
      // group of `groupSize` input features of each output row (vLLM gptq.py shapes).
      // compressed-tensors pack-quantized: weight_packed [rows, k/8] int32, weight_scale
      // [rows, groups] 16-bit, weight_zero_point [rows/8, groups] int32 only when asymmetric, and
      // weight_shape, int32 [2] (compressed_tensors pack_quantized.py).
      const groups = ceilDiv(k, scheme.groupSize);
      const packed = ceilDiv(k * 4, 32) * rowsPerMatrix * 4;
      const zeros = groups * ceilDiv(rowsPerMatrix * 4, 32) * 4;
      if (scheme.layout === "pack-quantized") return matrices * (packed + groups * rowsPerMatrix * 2 + (scheme.symmetric === false ? zeros : 0) + 2 * 4);
      return matrices * (packed + zeros + groups * rowsPerMatrix * 2);
    }
    case "nf4": {
      // bitsandbytes quantize_4bit, blocksize 64: two values per byte and an absmax per 64 values;
      // compress_statistics (double quant) stores that absmax as uint8 with an fp32 per 256 of them
      // and a 256-entry fp32 map; the 16-entry NF4 map either way.
      const blocks = ceilDiv(elements, 64);
      if (scheme.doubleQuant === false) return ceilDiv(elements, 2) + blocks * 4 + 16 * 4;
      return ceilDiv(elements, 2) + blocks + ceilDiv(blocks, 256) * 4 + 16 * 4 + 256 * 4;
    }
    case "nvfp4":
      // ModelOpt/compressed-tensors NVFP4: two values per byte, an fp8 scale per 16, an fp32 global scale.
      return matrices * (rowsPerMatrix * (ceilDiv(k, 2) + ceilDiv(k, 16)) + 4);
    case "mxfp4":
      // OCP MX: 32 e2m1 values (16 B) and one E8M0 scale byte per block.
      return matrices * rowsPerMatrix * ceilDiv(k, 32) * 17;
  }
}

/** ggml row size: rows are stored in whole blocks (ggml_row_size). */
export function ggmlBytes(type: GgmlType, shape: MatrixShape): number {
  const [blockElements, blockBytes] = GGML_BLOCKS[type];
  return (shape.elements / shape.rowLength) * ceilDiv(shape.rowLength, blockElements) * blockBytes;
}

/**
 * The scheme a checkpoint's config.json says its weights are stored in: quantization_config's
 * method, bits, group and block sizes, or else the model's float dtype. Used to derive bytes when
 * no safetensors headers are known, so an FP8 or AWQ repo is not billed as bf16.
 */
export function storedScheme(dtype: "fp32" | "bf16" | "fp16" | "fp8" | "int8" | undefined, rules: QuantizationRules): WeightScheme {
  const scheme = schemeOfConfig(dtype, rules);
  const ignore = scheme.kind === "float" ? undefined : moduleFilter(rules.ignore);
  return ignore ? { ...scheme, ignore } : scheme;
}

// A repeated group that itself holds a quantifier, e.g. (a+)+: backtracks exponentially.
const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]/;

/**
 * The modules a quantization config leaves alone, as a test on checkpoint module paths.
 * compressed-tensors matches `re:` entries as Python's re.match does (anchored at the start) and
 * others by the whole name; transformers' modules_to_not_convert by substring. A pattern from a
 * repository that would backtrack exponentially, or does not compile, matches nothing.
 */
function moduleFilter(ignore: QuantizationRules["ignore"]): ModuleFilter | undefined {
  if (!ignore) return undefined;
  const tests: ModuleFilter[] = [];
  for (const pattern of ignore.patterns) {
    if (ignore.match === "substring") tests.push((path) => path.includes(pattern));
    else if (!pattern.startsWith("re:")) tests.push((path) => path === pattern);
    else {
      const body = pattern.slice(3);
      if (body.length > 256 || NESTED_QUANTIFIER.test(body)) continue;
      try {
        const regex = new RegExp(`^(?:${body})`);
        tests.push((path) => regex.test(path));
      } catch {
        // Python-only syntax: leave the module quantized rather than guess.
      }
    }
  }
  return tests.length > 0 ? (path) => tests.some((test) => test(path)) : undefined;
}

function schemeOfConfig(dtype: "fp32" | "bf16" | "fp16" | "fp8" | "int8" | undefined, rules: QuantizationRules): WeightScheme {
  const float: WeightScheme = dtype === "fp32" ? { kind: "float", name: "fp32", bytes: 4 } : dtype === "fp16" ? { kind: "float", name: "fp16", bytes: 2 } : { kind: "float", name: "bf16", bytes: 2 };
  const groupSize = rules.groupSize !== undefined && rules.groupSize > 0 ? rules.groupSize : 128;
  switch (rules.method) {
    case "fp8":
      return rules.blockSize ? { kind: "fp8", name: "fp8-block", block: rules.blockSize } : { kind: "fp8", name: "fp8" };
    case "compressed-tensors":
    case "modelopt":
      if (rules.valueType === "float" && rules.bits === 4) return { kind: "nvfp4", name: "nvfp4" };
      if (rules.valueType === "float" || (rules.method === "modelopt" && rules.bits !== 4)) {
        if (rules.blockSize || rules.strategy === "block") return { kind: "fp8", name: "fp8-block", block: rules.blockSize ?? [128, 128] };
        return rules.strategy === "channel" ? { kind: "fp8", name: "fp8-channel" } : { kind: "fp8", name: "fp8" };
      }
      if (rules.bits === 8) return { kind: "int8", name: "int8" };
      return rules.format === "pack-quantized" ? { kind: "int4", name: "int4", groupSize, layout: "pack-quantized", symmetric: rules.symmetric ?? true } : { kind: "int4", name: "int4", groupSize };
    case "gptq":
    case "awq":
    case "mlx":
      return rules.bits === 8 ? { kind: "int8", name: "int8" } : { kind: "int4", name: "int4", groupSize: rules.method === "mlx" ? (rules.groupSize ?? 64) : groupSize };
    case "bitsandbytes":
      return rules.bits === 4 ? { kind: "nf4", name: "nf4", doubleQuant: rules.doubleQuant === true } : { kind: "int8", name: "int8" };
    case "mxfp4":
      return { kind: "mxfp4", name: "mxfp4" };
    default:
      return float;
  }
}

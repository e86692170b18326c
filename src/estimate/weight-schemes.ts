import { UsageError } from "../errors.js";

/**
 * Weight formats a checkpoint can be served in, and what each costs per tensor: the packed values
 * plus the scales and zero points the format keeps (formulas.md "Quantized weights", engines.md §3).
 */
export type WeightScheme =
  | { kind: "float"; name: "fp32" | "bf16" | "fp16"; bytes: 4 | 2 }
  | { kind: "fp8"; name: "fp8" | "fp8-block" }
  | { kind: "int8"; name: "int8" }
  | { kind: "int4"; name: "int4"; groupSize: number }
  | { kind: "nf4"; name: "nf4" }
  | { kind: "mxfp4"; name: "mxfp4" }
  | { kind: "gguf"; name: GgufFileType };

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

export const WEIGHT_SCHEME_NAMES = ["bf16", "fp16", "fp32", "fp8", "fp8-block", "int8", "int4", "nf4", "mxfp4", ...GGUF_FILE_TYPES] as const;

export function parseWeightScheme(name: string, groupSize = 128): WeightScheme {
  const key = name.trim();
  const lower = key.toLowerCase();
  if (lower === "bf16" || lower === "bfloat16") return { kind: "float", name: "bf16", bytes: 2 };
  if (lower === "fp16" || lower === "float16" || lower === "f16") return { kind: "float", name: "fp16", bytes: 2 };
  if (lower === "fp32" || lower === "float32" || lower === "f32") return { kind: "float", name: "fp32", bytes: 4 };
  if (lower === "fp8" || lower === "fp8-tensor") return { kind: "fp8", name: "fp8" };
  if (lower === "fp8-block" || lower === "fp8-128") return { kind: "fp8", name: "fp8-block" };
  if (lower === "int8" || lower === "w8a16") return { kind: "int8", name: "int8" };
  if (lower === "int4" || lower === "gptq" || lower === "awq" || lower === "w4a16") {
    if (!Number.isSafeInteger(groupSize) || groupSize < 1) throw new UsageError(`--group-size must be a positive whole number, got ${groupSize}`);
    return { kind: "int4", name: "int4", groupSize };
  }
  if (lower === "nf4" || lower === "qlora") return { kind: "nf4", name: "nf4" };
  if (lower === "mxfp4") return { kind: "mxfp4", name: "mxfp4" };
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
        : "fp8 e4m3 linear weights, one fp32 scale per 128×128 block (DeepSeek-V3); the rest 16-bit";
    case "int8":
      return "int8 linear weights, one fp32 scale per output row (LLM.int8 / W8A16); the rest 16-bit";
    case "int4":
      return `int4 linear weights (GPTQ/AWQ layout), group ${scheme.groupSize}: fp16 scale and 4-bit zero per group; embeddings, lm_head, norms, routers, biases 16-bit`;
    case "nf4":
      return "bitsandbytes NF4 with double quantization: 8-bit absmax per 64 values, fp32 per 256 absmax; lm_head and embeddings 16-bit";
    case "mxfp4":
      return "MXFP4: 32 e2m1 values share one E8M0 scale (17 B per 32); experts only on MoE models (gpt-oss), all linears otherwise";
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
    case "fp8":
      // One byte per weight; one fp32 scale per tensor, or per 128 × 128 block of each matrix.
      return scheme.name === "fp8" ? elements + 4 : elements + matrices * ceilDiv(rowsPerMatrix, 128) * ceilDiv(k, 128) * 4;
    case "int8":
      return elements + rows * 4;
    case "int4": {
      // GPTQ/AWQ: 8 four-bit weights per int32, an fp16 scale and a 4-bit zero (8 per int32) per
      // group of `groupSize` input features of each output row (vLLM gptq.py shapes).
      const groups = ceilDiv(k, scheme.groupSize);
      return matrices * (ceilDiv(k * 4, 32) * rowsPerMatrix * 4 + groups * ceilDiv(rowsPerMatrix * 4, 32) * 4 + groups * rowsPerMatrix * 2);
    }
    case "nf4": {
      // bitsandbytes quantize_4bit, blocksize 64, compress_statistics: two values per byte, a uint8
      // absmax per 64 values, an fp32 absmax per 256 of those, and the 16- and 256-entry fp32 maps.
      const blocks = ceilDiv(elements, 64);
      return ceilDiv(elements, 2) + blocks + ceilDiv(blocks, 256) * 4 + 16 * 4 + 256 * 4;
    }
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

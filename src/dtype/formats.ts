/**
 * Number formats of LLM weights and caches, by bit layout. Every property vramplan prints about a
 * format (range, precision, epsilon) is computed from these fields in properties.ts.
 */
export type FloatFormat = {
  kind: "float";
  name: string;
  aliases: string[];
  exponentBits: number;
  mantissaBits: number;
  /** Bits a value occupies in memory (TF32 computes with 19 but is stored in 32). */
  storageBits: number;
  /**
   * How the all-ones exponent is used: "ieee" (infinities and NaNs), "fn" (finite-only, one NaN
   * pattern S.1111.111, as float8_e4m3fn), "none" (every pattern a finite number: MX fp6/fp4).
   */
  specials: "ieee" | "fn" | "none";
  note: string;
};

export type IntegerFormat = { kind: "integer"; name: string; aliases: string[]; bits: number; note: string };

/** NF4 (QLoRA): 16 quantiles of N(0, 1) scaled to [−1, 1], multiplied by each block's absmax. */
export type LookupFormat = { kind: "lookup"; name: string; aliases: string[]; bits: number; levels: readonly number[]; note: string };

export type NumberFormat = FloatFormat | IntegerFormat | LookupFormat;

const float = (name: string, aliases: string[], exponentBits: number, mantissaBits: number, specials: FloatFormat["specials"], note: string, storageBits = 1 + exponentBits + mantissaBits): FloatFormat => ({
  kind: "float",
  name,
  aliases,
  exponentBits,
  mantissaBits,
  storageBits,
  specials,
  note,
});

/** bitsandbytes `create_normal_map` NF4 levels (Dettmers et al., QLoRA, 2023). */
export const NF4_LEVELS = [
  -1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
  0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0,
] as const;

export const FORMATS: readonly NumberFormat[] = [
  float("fp64", ["float64", "double", "f64"], 11, 52, "ieee", "IEEE 754 binary64"),
  float("fp32", ["float32", "float", "f32"], 8, 23, "ieee", "IEEE 754 binary32; master weights and optimizer states"),
  float("tf32", ["tensorfloat32"], 8, 10, "ieee", "NVIDIA TensorFloat-32: fp32 range, fp16 precision, computed in tensor cores, stored as fp32", 32),
  float("bf16", ["bfloat16"], 8, 7, "ieee", "fp32's exponent, 7 mantissa bits: same range, less precision"),
  float("fp16", ["float16", "half", "f16"], 5, 10, "ieee", "IEEE 754 binary16: more precision than bf16, range only to 65,504"),
  float("fp8_e4m3", ["e4m3", "fp8", "float8_e4m3fn", "f8_e4m3"], 4, 3, "fn", "OCP FP8 E4M3 (float8_e4m3fn): finite only, weights and activations"),
  float("fp8_e5m2", ["e5m2", "float8_e5m2", "f8_e5m2"], 5, 2, "ieee", "OCP FP8 E5M2: fp16's range, gradients"),
  float("fp6_e3m2", ["e3m2", "fp6", "f6_e3m2"], 3, 2, "none", "OCP MX FP6 E3M2: no infinities or NaN"),
  float("fp6_e2m3", ["e2m3", "f6_e2m3"], 2, 3, "none", "OCP MX FP6 E2M3: no infinities or NaN"),
  float("fp4_e2m1", ["e2m1", "fp4", "mxfp4", "nvfp4", "f4"], 2, 1, "none", "OCP MX FP4 E2M1: 16 values, scaled per block (MXFP4, NVFP4)"),
  { kind: "integer", name: "int8", aliases: ["i8"], bits: 8, note: "two's complement; quantized weights times a scale" },
  { kind: "integer", name: "int4", aliases: ["i4"], bits: 4, note: "two's complement; GPTQ/AWQ store it unsigned with a zero point" },
  { kind: "lookup", name: "nf4", aliases: ["normalfloat4"], bits: 4, levels: NF4_LEVELS, note: "QLoRA NormalFloat: 16 levels × the block's absmax" },
];

export function findFormat(name: string): NumberFormat | undefined {
  const key = name.trim().toLowerCase().replaceAll("-", "_");
  return FORMATS.find((format) => format.name === key || format.aliases.includes(key));
}

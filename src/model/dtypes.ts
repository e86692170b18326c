/**
 * Element widths. Everything that turns an element count into bytes goes through here, so a new
 * format is added in one place.
 */

/** Bits per stored element of each safetensors dtype (safetensors `Dtype`; F4/F6 are sub-byte). */
export const SAFETENSORS_DTYPE_BITS: Readonly<Record<string, number>> = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E4M3: 8,
  F8_E5M2: 8,
  F8_E8M0: 8,
  F8_E4M3FNUZ: 8,
  F8_E5M2FNUZ: 8,
  E8M0: 8,
  UE8: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  I64: 64,
  U64: 64,
  F64: 64,
  C64: 64,
  F4: 4,
  FP4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
};

/** The floating formats a model's weights or KV cache are computed in. */
export type ComputeDtype = "fp32" | "bf16" | "fp16" | "fp8" | "int8";

export const COMPUTE_DTYPE_BYTES: Readonly<Record<ComputeDtype, number>> = {
  fp32: 4,
  bf16: 2,
  fp16: 2,
  fp8: 1,
  int8: 1,
};

/** The compute dtype a checkpoint stored in this safetensors dtype runs in. */
export const SAFETENSORS_COMPUTE_DTYPES: Readonly<Record<string, ComputeDtype>> = {
  F32: "fp32",
  BF16: "bf16",
  F16: "fp16",
};

/** How config.json spells dtypes (`torch_dtype` / `dtype`), mapped to ours. */
const CONFIG_DTYPE_NAMES: Readonly<Record<string, ComputeDtype>> = {
  float32: "fp32",
  float: "fp32",
  fp32: "fp32",
  bfloat16: "bf16",
  bf16: "bf16",
  float16: "fp16",
  half: "fp16",
  fp16: "fp16",
};

export function parseConfigDtype(value: unknown): ComputeDtype | undefined {
  if (typeof value !== "string") return undefined;
  return CONFIG_DTYPE_NAMES[value.replace(/^torch\./, "").toLowerCase()];
}

/** The `--kv-dtype` choices; `auto` means the model's own dtype, as vLLM's `kv_cache_dtype=auto`. */
export const KV_DTYPE_CHOICES = ["auto", "bf16", "fp16", "fp32", "fp8", "int8", "q8_0", "q4_0"] as const;
export type KvDtypeChoice = (typeof KV_DTYPE_CHOICES)[number];
export type KvFormatName = Exclude<KvDtypeChoice, "auto">;

/**
 * How a cache row is stored: in blocks of `blockElements` values taking `blockBytes`. Plain types
 * are blocks of one; llama.cpp's q8_0 keeps 32 int8 values and an fp16 scale (34 B), q4_0 32 nibbles
 * and an fp16 scale (18 B) (ggml-common.h). fp8 and int8 carry per-layer scalars only (vLLM).
 */
export interface KvFormat {
  name: KvFormatName;
  blockElements: number;
  blockBytes: number;
}

export const KV_FORMATS: Readonly<Record<KvFormatName, KvFormat>> = {
  fp32: { name: "fp32", blockElements: 1, blockBytes: 4 },
  bf16: { name: "bf16", blockElements: 1, blockBytes: 2 },
  fp16: { name: "fp16", blockElements: 1, blockBytes: 2 },
  fp8: { name: "fp8", blockElements: 1, blockBytes: 1 },
  int8: { name: "int8", blockElements: 1, blockBytes: 1 },
  q8_0: { name: "q8_0", blockElements: 32, blockBytes: 34 },
  q4_0: { name: "q4_0", blockElements: 32, blockBytes: 18 },
};

/** Bytes of one cache row of `elements` values. */
export function kvRowBytes(format: KvFormat, elements: number): number {
  return Math.ceil(elements / format.blockElements) * format.blockBytes;
}

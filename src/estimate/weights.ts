import type { TensorManifest } from "../model/manifest.js";
import { COMPUTE_DTYPE_BYTES } from "../model/dtypes.js";
import type { ModelSpec } from "../model/spec.js";
import { configParameters, type ConfigParameters } from "./config-parameters.js";

export interface DtypeShare {
  dtype: string;
  tensors: number;
  /** Stored elements (for a packed quantized tensor this is not the logical weight count). */
  elements: number;
  bytes: number;
}

export interface WeightsEstimate {
  /** Exact checkpoint bytes from the safetensors headers, or config-derived when none are known. */
  bytes: number;
  parameters: number;
  /** "safetensors": summed over the tensors to the byte; "config": derived, an estimate. */
  source: "safetensors" | "config";
  byDtype: DtypeShare[];
  /** Stored non-parameter buffers (GPT-2's causal mask, old checkpoints' rotary inv_freq). */
  buffers: { tensors: number; elements: number; bytes: number };
  tensorCount: number;
  files: number;
  /** The count derived from config.json, term by term. */
  fromConfig: ConfigParameters;
  /** Manifest parameters minus config-derived parameters; null without a manifest. */
  difference: number | null;
  /** For config-derived bytes: the dtype assumed per parameter. */
  assumedDtype?: string;
}

// Tensors checkpoints store that are not learned parameters. Matched on the full final segment so
// GPT-2's `attn.c_attn.bias` (a parameter) is not mistaken for `attn.bias` (the mask buffer).
const BUFFER_SUFFIXES = [".attn.bias", ".attn.masked_bias", ".attention.bias", ".attention.masked_bias", ".rotary_emb.inv_freq"];

export function isBufferTensor(name: string): boolean {
  return BUFFER_SUFFIXES.some((suffix) => name.endsWith(suffix) || name === suffix.slice(1));
}

export function estimateWeights(spec: ModelSpec, manifest: TensorManifest | undefined): WeightsEstimate {
  const fromConfig = configParameters(spec);
  if (!manifest) {
    const dtype = spec.dtype ?? "bf16";
    const bytesPerParameter = COMPUTE_DTYPE_BYTES[dtype];
    return {
      bytes: fromConfig.total * bytesPerParameter,
      parameters: fromConfig.total,
      source: "config",
      byDtype: [],
      buffers: { tensors: 0, elements: 0, bytes: 0 },
      tensorCount: 0,
      files: 0,
      fromConfig,
      difference: null,
      assumedDtype: dtype,
    };
  }

  const shares = new Map<string, DtypeShare>();
  const buffers = { tensors: 0, elements: 0, bytes: 0 };
  let bytes = 0;
  let parameters = 0;
  let tensorCount = 0;
  for (const file of manifest.files) {
    for (const tensor of file.tensors) {
      const elements = tensor.shape.reduce((product, dim) => product * dim, 1);
      bytes += tensor.bytes;
      tensorCount += 1;
      const share = shares.get(tensor.dtype) ?? { dtype: tensor.dtype, tensors: 0, elements: 0, bytes: 0 };
      share.tensors += 1;
      share.elements += elements;
      share.bytes += tensor.bytes;
      shares.set(tensor.dtype, share);
      if (isBufferTensor(tensor.name)) {
        buffers.tensors += 1;
        buffers.elements += elements;
        buffers.bytes += tensor.bytes;
      } else {
        parameters += elements;
      }
    }
  }
  return {
    bytes,
    parameters,
    source: "safetensors",
    byDtype: [...shares.values()].sort((a, b) => b.bytes - a.bytes),
    buffers,
    tensorCount,
    files: manifest.files.length,
    fromConfig,
    difference: parameters - fromConfig.total,
  };
}

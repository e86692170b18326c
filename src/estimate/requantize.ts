import type { WeightTensor } from "./weight-inventory.js";
import { ggmlBytes, quantizedMatrixBytes, GGML_BLOCKS, type GgmlType, type GgufFileType, type WeightScheme } from "./weight-schemes.js";

export interface RequantizedWeights {
  scheme: WeightScheme;
  bytes: number;
  /** Bytes of the tensors the scheme converts, and of those it keeps in 16 (or 32) bits. */
  quantizedBytes: number;
  keptBytes: number;
  /** Parameters converted, for bits per weight. */
  quantizedParameters: number;
  parameters: number;
  /** GGUF: bytes per ggml type, to show a mix. */
  byType: Partial<Record<GgmlType | "16-bit", number>>;
  /** Bytes of each input tensor in the scheme, in input order (0 for what engines do not load). */
  tensorBytes: number[];
  /** fp8 schemes: the fp32 scales stored beside the weights (weight_scale_inv), in values. */
  scaleElements: number;
  /** The same, for the last decoder layer alone: what one more such layer (an MTP layer) stores. */
  lastLayerScaleElements: number;
}

/**
 * Weight bytes of a model served in `scheme`, tensor by tensor, with the policy each scheme
 * really uses: GPTQ/AWQ, fp8 and int8 convert the decoder's linear layers and keep embeddings,
 * lm_head, norms, routers and biases in 16-bit; bitsandbytes NF4 converts every nn.Linear but
 * lm_head (routers included); MXFP4 converts gpt-oss's experts only on MoE models; llama-quantize
 * converts every matrix, embeddings too, and keeps 1-D tensors in F32. Vision towers stay 16-bit
 * (llama.cpp ships them in a separate mmproj file).
 */
export function requantize(tensors: readonly WeightTensor[], scheme: WeightScheme, context: { numLayers: number; moe: boolean }): RequantizedWeights {
  const result: RequantizedWeights = { scheme, bytes: 0, quantizedBytes: 0, keptBytes: 0, quantizedParameters: 0, parameters: 0, byType: {}, tensorBytes: [], scaleElements: 0, lastLayerScaleElements: 0 };
  const lastLayer = context.numLayers - 1;
  const hasOutput = tensors.some((tensor) => tensor.kind === "lm_head");
  const counters = { attn_v: 0, ffn_down: 0 };
  for (const tensor of tensors) {
    const before = result.bytes;
    addTensor(tensor);
    result.tensorBytes.push(result.bytes - before);
  }
  return result;

  function addTensor(tensor: WeightTensor): void {
    if (tensor.component === "multi-token prediction") return; // engines load it only for speculative decoding
    result.parameters += tensor.elements;
    const keep = (bytesPerValue: number) => {
      const bytes = tensor.elements * bytesPerValue;
      result.keptBytes += bytes;
      result.bytes += bytes;
      result.byType["16-bit"] = (result.byType["16-bit"] ?? 0) + bytes;
    };
    const quantized = (bytes: number, type?: GgmlType) => {
      result.quantizedBytes += bytes;
      result.quantizedParameters += tensor.elements;
      result.bytes += bytes;
      if (type) result.byType[type] = (result.byType[type] ?? 0) + bytes;
    };
    // llama-quantize keeps every 1-D tensor in F32; DeepSeek-V3's router bias is F32 in any format.
    if (tensor.keptInFp32 || (scheme.kind === "gguf" && tensor.kind === "vector")) {
      const bytes = tensor.elements * 4;
      result.keptBytes += bytes;
      result.bytes += bytes;
      result.byType.F32 = (result.byType.F32 ?? 0) + bytes;
      return;
    }
    if (scheme.kind === "float") {
      const bytes = tensor.elements * scheme.bytes;
      result.bytes += bytes;
      result.keptBytes += bytes;
      return;
    }
    if (tensor.component === "vision tower") {
      keep(2);
      return;
    }
    const matrix = { elements: tensor.elements, rowLength: tensor.rowLength, matrices: tensor.matrices };
    if (scheme.kind === "gguf") {
      if (tensor.kind === "router") {
        keep(2); // llama-quantize never quantizes ffn_gate_inp
        return;
      }
      const type = fitRow(ggufType(scheme.name, tensor, { numLayers: context.numLayers, hasOutput, counters }), tensor.rowLength);
      quantized(ggmlBytes(type, matrix), type);
      return;
    }
    // What the checkpoint's own quantization_config leaves out (Kimi-K2.5: attention, shared experts, dense MLP).
    if (scheme.ignore?.(tensor.name.replace(/\.weight$/, ""))) {
      keep(2);
      return;
    }
    const converts =
      scheme.kind === "mxfp4"
        ? context.moe
          ? tensor.kind === "expert"
          : tensor.kind === "linear" || tensor.kind === "expert"
        : scheme.kind === "nf4"
          ? tensor.kind === "linear" || tensor.kind === "expert" || tensor.kind === "router"
          : tensor.kind === "linear" || tensor.kind === "expert";
    if (converts) {
      const bytes = quantizedMatrixBytes(scheme, matrix);
      quantized(bytes);
      if (scheme.kind === "fp8") {
        // One byte per weight; the rest is fp32 scales.
        const scales = (bytes - tensor.elements) / 4;
        result.scaleElements += scales;
        if (tensor.layer === lastLayer) result.lastLayerScaleElements += scales;
      }
    } else keep(2);
  }
}

/** K-quants need rows in whole 256-value super-blocks; llama-quantize falls back otherwise. */
function fitRow(type: GgmlType, rowLength: number): GgmlType {
  const [blockElements] = GGML_BLOCKS[type];
  if (rowLength % blockElements === 0) return type;
  const fallback: Partial<Record<GgmlType, GgmlType>> = { Q2_K: "Q4_0", Q3_K: "Q4_0", Q4_K: "Q5_0", Q5_K: "Q5_1", Q6_K: "Q8_0" };
  const next = fallback[type];
  return next && rowLength % 32 === 0 ? next : "F16";
}

/** llama.cpp's use_more_bits: the first and last eighth of the layers, and every third between. */
export function useMoreBits(layer: number, layers: number): boolean {
  // C++ integer division, as in llama-quant.cpp.
  const eighth = Math.floor(layers / 8);
  return layer < eighth || layer >= Math.floor((7 * layers) / 8) || (layer - eighth) % 3 === 2;
}

/**
 * The ggml type llama-quantize gives a tensor in a file type (llama-quant.cpp
 * `llama_tensor_get_type`, restated for the dense and MoE decoders vramplan plans).
 */
function ggufType(fileType: GgufFileType, tensor: WeightTensor, context: { numLayers: number; hasOutput: boolean; counters: { attn_v: number; ffn_down: number } }): GgmlType {
  const base: Record<GgufFileType, GgmlType> = { Q8_0: "Q8_0", Q6_K: "Q6_K", Q5_K_M: "Q5_K", Q5_0: "Q5_0", Q4_K_M: "Q4_K", Q4_0: "Q4_0", Q3_K_M: "Q3_K", Q2_K: "Q2_K" };
  const isOutput = tensor.kind === "lm_head" || (!context.hasOutput && tensor.kind === "embedding" && !tensor.name.includes("wpe"));
  if (isOutput) return fileType === "Q8_0" ? "Q8_0" : "Q6_K";
  const layer = tensor.layer ?? 0;
  const n = context.numLayers;
  switch (tensor.ggufRole) {
    case "attn_v": {
      const index = context.counters.attn_v++;
      if (fileType === "Q2_K") return "Q3_K";
      if (fileType === "Q3_K_M") return index < 2 ? "Q5_K" : "Q4_K";
      if ((fileType === "Q4_K_M" || fileType === "Q5_K_M") && useMoreBits(layer, n)) return "Q6_K";
      return base[fileType];
    }
    case "ffn_down": {
      context.counters.ffn_down++;
      if (fileType === "Q2_K") return "Q3_K";
      if (fileType === "Q3_K_M") return layer < Math.floor(n / 16) ? "Q5_K" : "Q4_K";
      if ((fileType === "Q4_K_M" || fileType === "Q5_K_M") && useMoreBits(layer, n)) return "Q6_K";
      return base[fileType];
    }
    case "attn_output":
      if (fileType === "Q2_K") return "Q3_K";
      if (fileType === "Q3_K_M") return "Q4_K";
      return base[fileType];
    case "attn_qkv":
      if (fileType === "Q3_K_M") return "Q4_K";
      if (fileType === "Q4_K_M") return "Q5_K";
      if (fileType === "Q5_K_M") return "Q6_K";
      return base[fileType];
    default:
      return base[fileType];
  }
}

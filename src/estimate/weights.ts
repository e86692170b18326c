import type { TensorManifest } from "../model/manifest.js";
import type { RawConfig } from "../model/raw-config.js";
import { COMPUTE_DTYPE_BYTES } from "../model/dtypes.js";
import type { ModelSpec } from "../model/spec.js";
import { configParameters, type ConfigParameters } from "./config-parameters.js";
import { requantize } from "./requantize.js";
import { componentOf, isRoutedExpert, quantizationRules, tensorRole, type Component } from "./tensor-roles.js";
import { inventoryFromSpec } from "./weight-inventory.js";
import { storedScheme, type WeightScheme } from "./weight-schemes.js";
import { visionTowerParameters, type VisionTowerCount } from "./vision-tower.js";

export interface DtypeShare {
  dtype: string;
  tensors: number;
  /** Stored elements (for a packed quantized tensor, not the logical weight count). */
  elements: number;
  bytes: number;
}

export interface ComponentShare {
  name: Component;
  tensors: number;
  parameters: number;
  bytes: number;
}

export interface WeightsEstimate {
  /** Exact checkpoint bytes from the safetensors headers, or config-derived when none are known. */
  bytes: number;
  /** Logical parameters: packed quantized values unpacked, scales and buffers left out. */
  parameters: number;
  /** Parameters one token passes through (MoE: only `num_experts_per_tok` routed experts). */
  activeParameters: number;
  /** "safetensors": summed over the tensors to the byte; "config": derived, an estimate. */
  source: "safetensors" | "config";
  byDtype: DtypeShare[];
  /** Language model, vision tower, multi-token prediction (only those present). */
  components: ComponentShare[];
  /** Routed experts of the language model: what expert offloading or parallelism moves. */
  routedExperts: { parameters: number; bytes: number } | null;
  /** Scales, zero points and lookup tables of quantized weights. */
  quantizationState: { tensors: number; bytes: number };
  /** Stored non-parameter buffers (GPT-2's causal mask, old checkpoints' rotary inv_freq). */
  buffers: { tensors: number; elements: number; bytes: number };
  tensorCount: number;
  files: number;
  /** The count derived from config.json, term by term; null where config cannot give it. */
  fromConfig: ConfigParameters | null;
  /** The vision tower counted from vision_config, module by module, where vramplan knows its family. */
  visionTowerFromConfig: VisionTowerCount | null;
  /** Language-model parameters in the headers minus config-derived ones; null without both. */
  difference: number | null;
  /** For config-derived bytes: the dtype, or the quantization_config scheme, the bytes assume. */
  assumedDtype?: string;
  /**
   * Values the safetensors files hold, quantization scales and buffers included: what the Hub's
   * safetensors parameter total counts (an fp8 checkpoint's weight_scale_inv among them). Null
   * where config.json alone cannot say (packed int4 and nf4 layouts).
   */
  storedElements: number | null;
}

/** "fp8-block 128×128", "int4 group 128", "nf4": how config-derived quantized bytes were stored. */
function describeStoredScheme(scheme: WeightScheme): string {
  const described = describeSchemeShort(scheme);
  return scheme.ignore ? `${described}; the modules its ignore list names in 16 bits` : described;
}

function describeSchemeShort(scheme: WeightScheme): string {
  if (scheme.kind === "int4") return `int4, group ${scheme.groupSize}`;
  if (scheme.kind === "fp8" && scheme.name === "fp8-block") return `fp8, blocks of ${(scheme.block ?? [128, 128]).join("×")}`;
  if (scheme.kind === "nf4") return scheme.doubleQuant === false ? "nf4" : "nf4 with double quantization";
  return scheme.name;
}

export function estimateWeights(spec: ModelSpec, manifest: TensorManifest | undefined, config: RawConfig = {}): WeightsEstimate {
  const fromConfig = configParameters(spec);
  const empty = { tensors: 0, elements: 0, bytes: 0 };
  if (!manifest) {
    if (!fromConfig) throw new Error("estimateWeights: no manifest and no config-derived count (plan.ts checks this first)");
    // The scheme config.json describes: quantization_config (fp8 blocks, GPTQ/AWQ groups, NF4,
    // MXFP4) or the float dtype, applied tensor by tensor as the quantizer does.
    const scheme = storedScheme(spec.dtype, quantizationRules(config));
    const inventory = inventoryFromSpec(spec);
    const stored = requantize(inventory, scheme, { numLayers: spec.numLayers, moe: spec.moe !== undefined });
    const expertBytes = inventory.reduce((sum, tensor, index) => sum + (tensor.kind === "expert" ? (stored.tensorBytes[index] ?? 0) : 0), 0);
    const visionBytes = inventory.reduce((sum, tensor, index) => sum + (tensor.component === "vision tower" ? (stored.tensorBytes[index] ?? 0) : 0), 0);
    const visionCount = spec.visionTower ? visionTowerParameters(spec.visionTower) : null;
    const vision = visionCount?.parameters ?? 0;
    // The checkpoint holds the multi-token-prediction module, engines load it only to speculate
    // (so the serving inventory leaves it out). It is quantized as the rest of the checkpoint
    // (DeepSeek-V3's MTP layer is in fp8 blocks): its bytes follow the language model's bytes per
    // parameter, which is the dtype's width when nothing is quantized.
    const mtp = fromConfig.multiTokenPrediction ?? 0;
    const languageModelBytes = stored.bytes - visionBytes;
    // An MTP layer is quantized as the decoder layers are: it stores their last layer's scales.
    const mtpScales = mtp > 0 ? spec.multiTokenPredictionLayers * stored.lastLayerScaleElements : 0;
    const storedElements = scheme.kind === "float" || scheme.kind === "fp8" ? fromConfig.total + vision + mtp + stored.scaleElements + mtpScales : null;
    const mtpBytes = spec.quantization ? Math.round((mtp * languageModelBytes) / fromConfig.total) : mtp * COMPUTE_DTYPE_BYTES[spec.dtype ?? "bf16"];
    return {
      bytes: stored.bytes + mtpBytes,
      parameters: fromConfig.total + vision + mtp,
      activeParameters: fromConfig.active + vision,
      source: "config",
      byDtype: [],
      components: [
        { name: "language model", tensors: 0, parameters: fromConfig.total, bytes: languageModelBytes },
        ...(vision > 0 ? [{ name: "vision tower" as const, tensors: 0, parameters: vision, bytes: visionBytes }] : []),
        ...(mtp > 0 ? [{ name: "multi-token prediction" as const, tensors: 0, parameters: mtp, bytes: mtpBytes }] : []),
      ],
      routedExperts: spec.moe ? { parameters: fromConfig.routedExperts, bytes: expertBytes } : null,
      quantizationState: { tensors: 0, bytes: 0 },
      buffers: empty,
      tensorCount: 0,
      files: 0,
      fromConfig,
      visionTowerFromConfig: visionCount,
      difference: null,
      assumedDtype: scheme.kind === "float" ? (spec.dtype ?? "bf16") : describeStoredScheme(scheme),
      storedElements,
    };
  }

  const rules = quantizationRules(config);
  const shares = new Map<string, DtypeShare>();
  const components = new Map<Component, ComponentShare>();
  const buffers = { ...empty };
  const quantizationState = { tensors: 0, bytes: 0 };
  const experts = { parameters: 0, bytes: 0 };
  // The language model's own routed experts: what decides its active parameters per token.
  let languageModelExperts = 0;
  let bytes = 0;
  let parameters = 0;
  let tensorCount = 0;
  let storedElements = 0;
  for (const file of manifest.files) {
    for (const tensor of file.tensors) {
      const elements = tensor.shape.reduce((product, dim) => product * dim, 1);
      storedElements += elements;
      bytes += tensor.bytes;
      tensorCount += 1;
      const share = shares.get(tensor.dtype) ?? { dtype: tensor.dtype, tensors: 0, elements: 0, bytes: 0 };
      share.tensors += 1;
      share.elements += elements;
      share.bytes += tensor.bytes;
      shares.set(tensor.dtype, share);

      const name = componentOf(tensor.name, spec.numLayers);
      const component = components.get(name) ?? { name, tensors: 0, parameters: 0, bytes: 0 };
      component.tensors += 1;
      component.bytes += tensor.bytes;
      components.set(name, component);

      const role = tensorRole(tensor, rules);
      // Routed wherever they sit: the multi-token-prediction module has its own routed experts.
      const routed = name !== "vision tower" && isRoutedExpert(tensor.name);
      if (routed) experts.bytes += tensor.bytes;
      if (role.kind === "buffer") {
        buffers.tensors += 1;
        buffers.elements += elements;
        buffers.bytes += tensor.bytes;
      } else if (role.kind === "quantization-state") {
        quantizationState.tensors += 1;
        quantizationState.bytes += tensor.bytes;
      } else {
        const logical = Math.round(elements * role.valuesPerElement);
        parameters += logical;
        component.parameters += logical;
        if (routed) experts.parameters += logical;
        if (routed && name === "language model") languageModelExperts += logical;
      }
    }
  }
  const moe = spec.moe;
  // Per token of ordinary decoding: the multi-token-prediction module runs only for speculative
  // decoding (vLLM loads it then), so it is not active; its own line in `components` says what it adds.
  const mtp = components.get("multi-token prediction")?.parameters ?? 0;
  const activeParameters = moe ? parameters - mtp - languageModelExperts + Math.round((languageModelExperts * moe.expertsPerToken) / moe.experts) : parameters - mtp;
  const languageModel = components.get("language model")?.parameters ?? 0;
  return {
    bytes,
    parameters,
    activeParameters,
    source: "safetensors",
    byDtype: [...shares.values()].sort((a, b) => b.bytes - a.bytes),
    components: [...components.values()],
    routedExperts: moe ? experts : null,
    quantizationState,
    buffers,
    tensorCount,
    files: manifest.files.length,
    fromConfig,
    visionTowerFromConfig: spec.visionTower ? visionTowerParameters(spec.visionTower) : null,
    difference: fromConfig ? languageModel - fromConfig.total : null,
    storedElements,
  };
}

import { formatInt } from "../../report/units.js";
import type { ModelSpec } from "../../model/spec.js";
import type { VllmRelease } from "../engine-release.js";
import { formatCapability } from "../gpu-architecture.js";

/**
 * How vLLM holds MXFP4 mixture-of-experts weights (gpt-oss's checkpoint format) once loaded. The
 * checkpoint's bytes are not what "Model loading took" reports: each backend pads the expert
 * shapes to its kernel's tiles, and the Triton backend keeps a second, swizzled copy of the
 * scales beside the originals. Restated from vllm/model_executor/layers/quantization/mxfp4.py
 * (get_mxfp4_backend, Mxfp4MoEMethod.create_weights and process_weights_after_loading) and
 * triton_kernels' HopperMXScaleLayout (tensor_details/layout_details/hopper_scale.py).
 */
export type Mxfp4Backend = "triton" | "marlin" | "flashinfer-sm100";

const MXFP4_BLOCK = 32;
/** Mxfp4Config.get_min_capability. */
export const MXFP4_MIN_CAPABILITY = 80;

export interface Mxfp4BackendChoice {
  backend: Mxfp4Backend | null;
  /** Why this backend, in vLLM's terms; or why none applies. */
  why: string;
}

/**
 * get_mxfp4_backend without LoRA, as the CUDA images ship (FlashInfer and triton_kernels
 * installed, no VLLM_USE_FLASHINFER_MOE_* variables): Blackwell data-centre parts (SM100 family)
 * take FlashInfer's TRT-LLM kernels; Hopper the Triton kernels where the release brings
 * triton_kernels (the 0.10.1 log of vLLM issue #23278 shows Marlin on an H100); everything from
 * SM80 else Marlin. Below SM80 vLLM refuses the checkpoint.
 */
export function vllmMxfp4Backend(capability: number | null, release: VllmRelease): Mxfp4BackendChoice {
  if (capability === null) return { backend: null, why: "the GPU's compute capability is not known here, so vLLM's MXFP4 backend is not chosen: the experts are counted as the checkpoint stores them" };
  const sm = `SM${formatCapability(capability).replace(".", "")}`;
  if (capability < MXFP4_MIN_CAPABILITY) return { backend: null, why: `${sm} is below MXFP4's minimum capability 8.0` };
  if (capability >= 100 && capability < 110) return { backend: "flashinfer-sm100", why: `${sm}, FlashInfer TRT-LLM backend (SM100_FI_MXFP4_BF16)` };
  if (capability === 90 && release.hopperMxfp4 === "triton") return { backend: "triton", why: `${sm}, Triton backend` };
  return { backend: "marlin", why: `${sm}, Marlin backend${capability === 90 ? " (vLLM before 0.11 ran Hopper without triton_kernels)" : ""}` };
}

export interface Mxfp4ExpertLoad {
  /** The experts' bytes on one rank as the checkpoint stores them (blocks, scales, bf16 biases). */
  checkpointBytes: number;
  /** The same experts as the backend holds them after process_weights_after_loading. */
  loadedBytes: number;
  formula: string;
}

const roundUp = (value: number, multiple: number) => Math.ceil(value / multiple) * multiple;
const padding = (what: string, from: number, to: number, multiple: number) => (from === to ? `${what} ${from} (a multiple of ${multiple})` : `${what} ${from} padded to ${to} (${multiple})`);

/**
 * One rank's MXFP4 experts over all MoE layers. FusedMoE splits each expert's intermediate size
 * over tensor-parallel ranks (intermediate_size // tp); the backend then pads it (and, for Marlin
 * and FlashInfer, the hidden size). Per expert and layer, with P the padded per-rank intermediate
 * size and H' the padded hidden size:
 * - values: w13 2P × H'/2 and w2 H' × P/2 bytes (two FP4 values a byte);
 * - scales: one E8M0 byte per 32 values of each;
 * - biases: w13 2P and w2 H' values, bf16 (Marlin) or upcast to fp32 (Triton, FlashInfer);
 * - Triton only: the swizzled scale copy, each scale matrix's expert-rows dimension padded to
 *   256 (2 × num_warps 8 × 2 × 8) and its other dimension to 2, while the loaded scales stay.
 */
export function mxfp4ExpertLoad(spec: ModelSpec, tp: number, backend: Mxfp4Backend): Mxfp4ExpertLoad | null {
  const moe = spec.moe;
  if (!moe) return null;
  const moeLayers = spec.layers.filter((layer) => layer.mlp === "moe").length;
  const experts = moe.experts;
  const hidden = spec.hiddenSize;
  const intermediate = moe.expertIntermediate;
  const biasValues = (rows: number, columns: number) => (moe.expertBias ? 2 * rows + columns : 0);

  const perExpert = (p: number, h: number) => ({
    values: (2 * p * h) / 2 + (h * p) / 2,
    scales: (2 * p * h) / MXFP4_BLOCK + (h * p) / MXFP4_BLOCK,
    biases: biasValues(p, h),
  });
  const stored = perExpert(intermediate, hidden);
  const checkpointBytes = Math.ceil((moeLayers * experts * (stored.values + stored.scales + stored.biases * 2)) / tp);

  const partition = Math.floor(intermediate / tp);
  let padded: number;
  let paddedHidden: number;
  let biasBytes: number;
  let swizzledScales = 0;
  let rule: string;
  if (backend === "triton") {
    padded = roundUp(partition, 64);
    paddedHidden = hidden;
    biasBytes = 4;
    swizzledScales = roundUp(2 * padded, 256) * roundUp(hidden / MXFP4_BLOCK, 2) + roundUp(hidden, 256) * roundUp(padded / MXFP4_BLOCK, 2);
    rule = `${padding("intermediate", partition, padded, 64)}, biases upcast to fp32, and the scales swizzled into a second copy (HopperMXScaleLayout: ${2 * padded}→${roundUp(2 * padded, 256)} and ${hidden}→${roundUp(hidden, 256)} rows) while the loaded ones stay`;
  } else if (backend === "marlin") {
    padded = roundUp(partition, 128);
    paddedHidden = roundUp(hidden, 256);
    biasBytes = 2;
    rule = `${padding("intermediate", partition, padded, 128)} and ${padding("hidden", hidden, paddedHidden, 256)} for the Marlin MoE kernel`;
  } else {
    padded = roundUp(partition, 256);
    paddedHidden = roundUp(hidden, 256);
    biasBytes = 4;
    rule = `${padding("intermediate", partition, padded, 256)} and ${padding("hidden", hidden, paddedHidden, 256)}, biases in fp32`;
  }
  const held = perExpert(padded, paddedHidden);
  const perExpertBytes = held.values + held.scales + held.biases * biasBytes + swizzledScales;
  const loadedBytes = moeLayers * experts * perExpertBytes;
  const formula = `${moeLayers} MoE layers × ${experts} experts × ${formatInt(perExpertBytes)} B: ${rule}`;
  return { checkpointBytes, loadedBytes, formula };
}

export interface Mxfp4Layout {
  /** Loaded minus stored bytes on one rank (negative never happens: padding and copies only add). */
  extraBytes: number;
  formula: string | null;
  note: string;
  /** vLLM's refusal below SM80. */
  refusal: string | null;
}

/** The MXFP4 expert layout for a checkpoint stored in MXFP4 on a named GPU, or null where it does not apply. */
export function vllmMxfp4Layout(
  spec: ModelSpec,
  weightsAsStored: boolean,
  gpu: { name: string; vendor: string; capability: number | null },
  release: VllmRelease,
  tp: number,
): Mxfp4Layout | null {
  if (!weightsAsStored || spec.quantization !== "mxfp4" || !spec.moe || gpu.name === "") return null;
  if (gpu.vendor.toUpperCase() === "AMD") {
    return { extraBytes: 0, formula: null, note: `MXFP4 experts on ${gpu.name}: vLLM on ROCm pads them to its own alignment (get_padding_alignment) in a layout not modelled here; counted as stored`, refusal: null };
  }
  const choice = vllmMxfp4Backend(gpu.capability, release);
  if (choice.backend === null) {
    if (gpu.capability !== null && gpu.capability < MXFP4_MIN_CAPABILITY) {
      const refusal = `The quantization method mxfp4 is not supported for the current GPU. Minimum capability: ${MXFP4_MIN_CAPABILITY}. Current capability: ${gpu.capability}.`;
      return { extraBytes: 0, formula: null, note: `MXFP4 experts: ${choice.why}`, refusal };
    }
    return { extraBytes: 0, formula: null, note: `MXFP4 experts on ${gpu.name}: ${choice.why}`, refusal: null };
  }
  const load = mxfp4ExpertLoad(spec, tp, choice.backend);
  if (!load) return null;
  const extraBytes = Math.max(0, load.loadedBytes - load.checkpointBytes);
  return {
    extraBytes,
    formula: load.formula,
    note: `MXFP4 experts on ${gpu.name}, ${choice.why}: ${formatInt(load.loadedBytes)} B held for ${formatInt(load.checkpointBytes)} B stored`,
    refusal: null,
  };
}

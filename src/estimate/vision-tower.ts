import type { QwenVisionTower, SiglipVisionTower, VisionTowerSpec } from "../model/spec.js";

/** A vision tower's parameters counted from its config, module by module (VisionTowerSpec says which). */
export interface VisionTowerCount {
  parameters: number;
  patchEmbedding: number;
  perBlock: number;
  blocks: number;
  merger: number;
}

export function visionTowerParameters(tower: VisionTowerSpec): VisionTowerCount {
  return tower.kind === "siglip" ? siglip(tower) : qwenVision(tower);
}

const linear = (inputs: number, outputs: number) => inputs * outputs + outputs;

function qwenVision(tower: QwenVisionTower): VisionTowerCount {
  const { hidden: h, intermediate: i, depth } = tower;
  const patchEmbedding = tower.inChannels * tower.temporalPatch * tower.patch * tower.patch * h;
  // norm1 and norm2 (RMSNorm weights), qkv, proj, gate_proj, up_proj, down_proj.
  const perBlock = 2 * h + linear(h, 3 * h) + linear(h, h) + 2 * linear(h, i) + linear(i, h);
  // ln_q (RMSNorm over the vision width), then two linears over spatial_merge_size² patches.
  const context = h * tower.spatialMerge * tower.spatialMerge;
  const merger = h + linear(context, context) + linear(context, tower.outHidden);
  return { parameters: patchEmbedding + depth * perBlock + merger, patchEmbedding, perBlock, blocks: depth, merger };
}

function siglip(tower: SiglipVisionTower): VisionTowerCount {
  const { hidden: h, intermediate: i, depth } = tower;
  const positions = (tower.imageSize / tower.patch) ** 2;
  // The biased Conv2d over patch × patch pixels, and one learned position per patch.
  const patchEmbedding = tower.inChannels * tower.patch * tower.patch * h + h + positions * h;
  // layer_norm1/2 (weight and bias), q/k/v/out_proj, fc1 and fc2, all biased.
  const perBlock = 2 * 2 * h + 4 * linear(h, h) + linear(h, i) + linear(i, h);
  // post_layernorm; Gemma 3's projector: mm_soft_emb_norm (RMSNorm) and mm_input_projection_weight.
  const merger = 2 * h + h + h * tower.outHidden;
  return { parameters: patchEmbedding + depth * perBlock + merger, patchEmbedding, perBlock, blocks: depth, merger };
}

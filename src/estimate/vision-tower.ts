import type { VisionTowerSpec } from "../model/spec.js";

/** A vision tower's parameters counted from its config, module by module (VisionTowerSpec says which). */
export interface VisionTowerCount {
  parameters: number;
  patchEmbedding: number;
  perBlock: number;
  blocks: number;
  merger: number;
}

export function visionTowerParameters(tower: VisionTowerSpec): VisionTowerCount {
  const { hidden: h, intermediate: i, depth } = tower;
  const linear = (inputs: number, outputs: number) => inputs * outputs + outputs;
  const patchEmbedding = tower.inChannels * tower.temporalPatch * tower.patch * tower.patch * h;
  // norm1 and norm2 (RMSNorm weights), qkv, proj, gate_proj, up_proj, down_proj.
  const perBlock = 2 * h + linear(h, 3 * h) + linear(h, h) + 2 * linear(h, i) + linear(i, h);
  // ln_q (RMSNorm over the vision width), then two linears over spatial_merge_size² patches.
  const context = h * tower.spatialMerge * tower.spatialMerge;
  const merger = h + linear(context, context) + linear(context, tower.outHidden);
  return { parameters: patchEmbedding + depth * perBlock + merger, patchEmbedding, perBlock, blocks: depth, merger };
}

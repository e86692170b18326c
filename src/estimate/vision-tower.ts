import type { Llama4VisionTower, MoonVitTower, Qwen3VisionTower, QwenVisionTower, SiglipVisionTower, VisionTowerSpec } from "../model/spec.js";

/** A vision tower's parameters counted from its config, module by module (VisionTowerSpec says which). */
export interface VisionTowerCount {
  kind: VisionTowerSpec["kind"];
  parameters: number;
  patchEmbedding: number;
  perBlock: number;
  blocks: number;
  merger: number;
}

export function visionTowerParameters(tower: VisionTowerSpec): VisionTowerCount {
  switch (tower.kind) {
    case "siglip":
      return siglip(tower);
    case "llama4":
      return llama4Vision(tower);
    case "qwen3_vl":
      return qwen3Vision(tower);
    case "qwen2_5_vl":
      return qwenVision(tower);
    case "moonvit":
      return moonVit(tower);
  }
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
  return { kind: tower.kind, parameters: patchEmbedding + depth * perBlock + merger, patchEmbedding, perBlock, blocks: depth, merger };
}

function qwen3Vision(tower: Qwen3VisionTower): VisionTowerCount {
  const { hidden: h, intermediate: i, depth } = tower;
  // The Conv3d with its bias, and the learned position table (interpolated per image).
  const patchEmbedding = linear(tower.inChannels * tower.temporalPatch * tower.patch * tower.patch, h) + tower.positions * h;
  // norm1 and norm2 (LayerNorm weight and bias), qkv, proj, linear_fc1, linear_fc2.
  const perBlock = 2 * 2 * h + linear(h, 3 * h) + linear(h, h) + linear(h, i) + linear(i, h);
  const context = h * tower.spatialMerge * tower.spatialMerge;
  const mergerLinears = linear(context, context) + linear(context, tower.outHidden);
  // The final merger normalises before the shuffle (vision width); the deepstack ones after it.
  const merger = 2 * h + mergerLinears + tower.deepstackMergers * (2 * context + mergerLinears);
  return { kind: tower.kind, parameters: patchEmbedding + depth * perBlock + merger, patchEmbedding, perBlock, blocks: depth, merger };
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
  return { kind: tower.kind, parameters: patchEmbedding + depth * perBlock + merger, patchEmbedding, perBlock, blocks: depth, merger };
}

function llama4Vision(tower: Llama4VisionTower): VisionTowerCount {
  const { hidden: h, intermediate: i, depth } = tower;
  const positions = (tower.imageSize / tower.patch) ** 2 + 1;
  // patch_embedding.linear (no bias), class_embedding, positional_embedding_vlm.
  const patchEmbedding = tower.inChannels * tower.patch * tower.patch * h + h + positions * h;
  // q/k/v/o_proj and fc1/fc2 with biases, input and post-attention LayerNorms (weight and bias).
  const perBlock = 4 * linear(h, h) + linear(h, i) + linear(i, h) + 2 * 2 * h;
  // layernorm_pre and layernorm_post, the adapter's fc1 and fc2 (no bias), the projector's linear_1.
  const merger = 2 * 2 * h + i * tower.projectorInput + tower.projectorOutput * tower.projectorOutput + tower.visionOutput * tower.outHidden + (tower.projectorBias ? tower.outHidden : 0);
  return { kind: tower.kind, parameters: patchEmbedding + depth * perBlock + merger, patchEmbedding, perBlock, blocks: depth, merger };
}

function moonVit(tower: MoonVitTower): VisionTowerCount {
  const { hidden: h, intermediate: i, depth } = tower;
  // proj (a biased Conv2d over patch × patch pixels) and pos_emb.
  const patchEmbedding = linear(tower.inChannels * tower.patch * tower.patch, h) + tower.positions * h;
  // norm0 and norm1 (weight and bias), wqkv, wo, mlp.fc0 and mlp.fc1, all biased.
  const perBlock = 2 * 2 * h + linear(h, 3 * h) + linear(h, h) + linear(h, i) + linear(i, h);
  // The encoder's final LayerNorm; the projector's pre_norm and its two linears over the merged patches.
  const context = h * tower.mergedPatches;
  const merger = 2 * h + 2 * h + linear(context, context) + linear(context, tower.outHidden);
  return { kind: tower.kind, parameters: patchEmbedding + depth * perBlock + merger, patchEmbedding, perBlock, blocks: depth, merger };
}

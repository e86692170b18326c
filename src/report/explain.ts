import type { KvLayerGroup } from "../estimate/kv-cache.js";
import type { Plan } from "../plan.js";
import { formatInt as n } from "./units.js";

/**
 * Every number of the plan as a formula with its values substituted, e.g.
 * `KV = 2 × 28 layers × 4 KV heads × 128 head_dim × 2 B × 32,768 tokens × 1 = 1,879,048,192 B`.
 */
export function explainLines(plan: Plan): string[] {
  const activations = plan.encoderActivations;
  const encoder = activations
    ? [`~ activations (one forward pass, peak of one layer: its input with q, k, v and the context, or with fc1 and its GELU) = ${activations.formula} = ${n(activations.bytes)} B   [modeling_bert.py with SDPA attention; estimate, not in the total]`]
    : [];
  return [...weightLines(plan), ...parameterLines(plan), ...kvLines(plan), totalLine(plan), ...encoder];
}

function weightLines(plan: Plan): string[] {
  const { weights } = plan;
  if (weights.source === "config") {
    return [
      `weights = ${n(weights.parameters)} parameters (from config.json) × ${weights.assumedDtype} ${weights.bytes / weights.parameters} B = ${n(weights.bytes)} B   [derived, not read from the checkpoint]`,
    ];
  }
  const lines = [`weights = Σ stored bytes (data_offsets span) over ${n(weights.tensorCount)} tensors in ${weights.files} safetensors file(s) = ${n(weights.bytes)} B   [exact]`];
  for (const share of weights.byDtype) {
    const bytesEach = share.elements > 0 ? share.bytes / share.elements : 0;
    lines.push(`          ${share.dtype}: ${n(share.elements)} stored elements × ${bytesEach} B = ${n(share.bytes)} B (${n(share.tensors)} tensors)`);
  }
  if (weights.quantizationState.tensors > 0) {
    lines.push(`          of which ${n(weights.quantizationState.tensors)} quantization scale/zero tensors: ${n(weights.quantizationState.bytes)} B (bytes, not parameters)`);
  }
  if (weights.buffers.tensors > 0) {
    lines.push(`          of which ${n(weights.buffers.tensors)} stored buffers (not parameters): ${n(weights.buffers.elements)} elements, ${n(weights.buffers.bytes)} B`);
  }
  if (weights.components.length > 1) {
    for (const component of weights.components) lines.push(`          ${component.name}: ${n(component.parameters)} parameters, ${n(component.bytes)} B`);
  }
  return lines;
}

function parameterLines(plan: Plan): string[] {
  const { weights, model } = plan;
  const c = weights.fromConfig;
  if (!c) return [`parameters: ${n(weights.parameters)} from the safetensors headers (vramplan does not derive ${model.family} parameters from config.json)`];
  const terms = [`embeddings ${n(model.vocabSize)} × ${n(model.hiddenSize)}`];
  if (c.positionEmbeddings > 0) terms.push(`positions ${n(c.positionEmbeddings)}`);
  if (c.attentionLayers === model.layers) {
    terms.push(`${model.layers} layers × (${model.mla ? "MLA attention" : "attention"} ${n(c.attentionPerLayer)} + norms ${n(c.normsPerLayer)})`);
  } else {
    if (c.attentionLayers > 0) terms.push(`${c.attentionLayers} attention layers × ${n(c.attentionPerLayer)}`);
    terms.push(`SSM mixers ${n(c.ssmMixers)}`, `${model.layers} layers × norms ${n(c.normsPerLayer)}`);
  }
  if (c.denseLayers > 0) terms.push(`${c.denseLayers} dense MLPs × ${n(c.denseMlpPerLayer)}`);
  if (c.moeLayers > 0 && model.experts) {
    terms.push(`${c.moeLayers} MoE layers × (${model.experts.routed} experts × ${n(c.expertPerLayer)}${c.sharedExperts > 0 ? ` + shared ${n(c.sharedExperts / c.moeLayers)}` : ""} + router ${n(c.routers / c.moeLayers)})`);
  }
  terms.push(`final norm ${n(c.finalNorm)}`);
  terms.push(model.tiedEmbeddings ? "lm_head tied (0)" : `lm_head ${n(model.vocabSize)} × ${n(model.hiddenSize)}`);
  const lines = [`parameters (config.json, ${model.family} rules) = ${terms.join(" + ")} = ${n(c.total)}`];
  if (c.moeLayers > 0 && model.experts) {
    lines.push(`active per token = ${n(c.total)} − ${c.moeLayers} × (${model.experts.routed} − ${model.experts.perToken}) experts × ${n(c.expertPerLayer)} = ${n(c.active)}`);
  }
  if (c.multiTokenPrediction) {
    const mtpModules =
      model.family === "qwen3_next"
        ? `a full-attention ${model.experts ? "MoE" : "dense"} layer, fc ${n(2 * model.hiddenSize)} → ${n(model.hiddenSize)}, three norms`
        : `a decoder layer, eh_proj ${n(2 * model.hiddenSize)} → ${n(model.hiddenSize)}, enorm, hnorm and shared_head.norm, and its own embed_tokens and shared_head.head (2 × ${n(model.vocabSize)} × ${n(model.hiddenSize)})`;
    lines.push(`multi-token prediction (${model.family} rules: ${mtpModules}) = ${n(c.multiTokenPrediction)}: in the checkpoint, loaded only for speculative decoding, not active`);
  }
  const vision = weights.visionTowerFromConfig;
  if (vision) {
    const modules =
      model.modelType === "gemma3"
        ? ["SigLIP modules", "projector"]
        : model.modelType === "llama4"
          ? ["Llama 4 vision modules", "LayerNorms, pixel-shuffle adapter and projector"]
          : vision.kind === "qwen3_vl"
            ? ["Qwen3-VL modules", "patch merger and deepstack mergers"]
            : vision.kind === "moonvit"
              ? ["MoonViT modules", "final LayerNorm and patch-merger projector"]
              : ["Qwen2.5-VL modules", "patch merger"];
    lines.push(`vision tower (vision_config, ${modules[0]}) = patch embedding ${n(vision.patchEmbedding)} + ${vision.blocks} blocks × ${n(vision.perBlock)} + ${modules[1]} ${n(vision.merger)} = ${n(vision.parameters)}`);
    const inHeaders = weights.source === "safetensors" ? weights.components.find((component) => component.name === "vision tower")?.parameters : undefined;
    if (inHeaders !== undefined) lines.push(inHeaders === vision.parameters ? "          matches the vision tower in the safetensors headers" : `          the headers' vision tower holds ${n(inHeaders)} parameters against vision_config`);
  }
  if (weights.difference !== null && weights.source === "safetensors") {
    lines.push(
      weights.difference === 0
        ? `          matches the language-model parameters in the safetensors headers`
        : `          the headers' language model holds ${weights.difference > 0 ? "+" : ""}${n(weights.difference)} parameters against config.json`,
    );
  }
  return lines;
}

function kvLines(plan: Plan): string[] {
  const { kvCache } = plan;
  const lines = kvCache.groups.map((group) => kvLine(group, plan));
  if (kvCache.groups.length > 1) lines.push(`KV = ${kvCache.groups.map((group) => n(group.bytes)).join(" + ")} = ${n(kvCache.bytes)} B`);
  return lines;
}

function kvLine(group: KvLayerGroup, plan: Plan): string {
  const { kvCache } = plan;
  const dtype = `${group.bytesPerElement} B (${group.kind === "state" ? plan.model.dtype ?? kvCache.dtype : kvCache.dtype})`;
  const sequences = n(kvCache.sequences);
  if (group.kind === "state" && group.stateElements) {
    const { conv, ssm, ssmBytesPerElement } = group.stateElements;
    const perSequence =
      ssmBytesPerElement === group.bytesPerElement
        ? `(conv ${n(conv)} + SSM ${n(ssm)} elements) × ${dtype}`
        : `(conv ${n(conv)} × ${dtype} + SSM ${n(ssm)} × ${ssmBytesPerElement} B (the checkpoint's mamba_ssm_dtype, as vLLM keeps it))`;
    return `state = ${group.layers} layers × ${perSequence} × ${sequences} = ${n(group.bytes)} B   (per sequence, whatever the context)`;
  }
  const tokens =
    group.window === null
      ? `${n(group.tokensPerSequence ?? 0)} tokens`
      : `min(${n(kvCache.context)}, ${group.kind === "chunked" ? "chunk" : "window"} ${n(group.window)}) = ${n(group.tokensPerSequence ?? 0)} tokens`;
  if (group.kind === "mla" && plan.model.mla) {
    const mla = plan.model.mla;
    const line = `KV(mla) = ${group.layers} layers × (kv_lora_rank ${mla.kvLoraRank} + qk_rope_head_dim ${mla.qkRopeHeadDim}) × ${dtype} × ${tokens} × ${sequences} = ${n(group.bytes)} B`;
    const expanded = group.expandedBytes ?? 0;
    const ratio = group.bytes > 0 ? (expanded / group.bytes).toFixed(1) : "–";
    return `${line}\n          per-head K and V instead (plain MHA) would be ${group.layers} layers × ${plan.model.attentionHeads} heads × (${mla.qkNopeHeadDim} + ${mla.qkRopeHeadDim} + ${mla.vHeadDim}) dims × ${dtype} × ${tokens} × ${sequences} = ${n(expanded)} B, ${ratio}× more`;
  }
  const label = plan.kvCache.groups.length > 1 || group.kind !== "full" ? `KV(${group.kind})` : "KV";
  const widths =
    group.keyDim === group.valueDim
      ? `2 × ${group.layers} layers × ${group.kvHeads} KV heads × ${group.keyDim} head_dim`
      : `${group.layers} layers × ${group.kvHeads} KV heads × (${group.keyDim} + ${group.valueDim}) K and V dims`;
  return `${label} = ${widths} × ${dtype} × ${tokens} × ${sequences} = ${n(group.bytes)} B`;
}

function totalLine(plan: Plan): string {
  return `total = weights ${n(plan.weights.bytes)} + KV ${n(plan.kvCache.bytes)} = ${n(plan.total.bytes)} B   (activations and runtime overhead not included)`;
}

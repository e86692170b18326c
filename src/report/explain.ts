import type { Plan } from "../plan.js";
import { formatInt } from "./units.js";

/**
 * Every number of the plan as a formula with its values substituted, e.g.
 * `KV = 2 × 28 layers × 4 KV heads × 128 head_dim × 2 B × 32,768 tokens × 1 = 1,879,048,192 B`.
 */
export function explainLines(plan: Plan): string[] {
  const { weights, kvCache, model } = plan;
  const n = formatInt;
  const lines: string[] = [];

  if (weights.source === "safetensors") {
    lines.push(
      `weights = Σ stored bytes (data_offsets span) over ${n(weights.tensorCount)} tensors in ${weights.files} safetensors file(s) = ${n(weights.bytes)} B   [exact]`,
    );
    for (const share of weights.byDtype) {
      const bytesEach = share.elements > 0 ? share.bytes / share.elements : 0;
      lines.push(`          ${share.dtype}: ${n(share.elements)} elements × ${bytesEach} B = ${n(share.bytes)} B (${n(share.tensors)} tensors)`);
    }
    if (weights.buffers.tensors > 0) {
      lines.push(`          of which ${n(weights.buffers.tensors)} stored buffers (not parameters): ${n(weights.buffers.elements)} elements, ${n(weights.buffers.bytes)} B`);
    }
  } else {
    lines.push(
      `weights = ${n(weights.parameters)} parameters (from config.json) × ${weights.assumedDtype} ${weights.bytes / weights.parameters} B = ${n(weights.bytes)} B   [derived, not read from the checkpoint]`,
    );
  }

  const c = weights.fromConfig;
  const layerTerm = `${model.layers} layers × (attention ${n(c.attentionPerLayer)} + MLP ${n(c.mlpPerLayer)} + norms ${n(c.normsPerLayer)})`;
  const terms = [
    `embeddings ${n(model.vocabSize)} × ${n(model.hiddenSize)}`,
    ...(c.positionEmbeddings > 0 ? [`positions ${n(c.positionEmbeddings)}`] : []),
    layerTerm,
    `final norm ${n(c.finalNorm)}`,
    model.tiedEmbeddings ? "lm_head tied (0)" : `lm_head ${n(model.vocabSize)} × ${n(model.hiddenSize)}`,
  ];
  lines.push(`parameters (config.json, ${model.family} rules) = ${terms.join(" + ")} = ${n(c.total)}`);
  if (weights.difference !== null) {
    lines.push(
      weights.difference === 0
        ? `          matches the ${n(weights.parameters)} parameters in the safetensors headers`
        : `          the safetensors headers hold ${n(weights.parameters)} parameters, ${weights.difference > 0 ? "+" : ""}${n(weights.difference)} against config.json`,
    );
  }

  const kvTerms = kvCache.groups.map((group) => {
    const tokens =
      group.window === null ? `${n(group.tokensPerSequence)} tokens` : `min(${n(kvCache.context)}, window ${n(group.window)}) = ${n(group.tokensPerSequence)} tokens`;
    const label = kvCache.groups.length > 1 || group.kind !== "full" ? `KV(${group.kind})` : "KV";
    return `${label} = 2 × ${group.layers} layers × ${group.kvHeads} KV heads × ${group.headDim} head_dim × ${kvCache.bytesPerElement} B (${kvCache.dtype}) × ${tokens} × ${kvCache.sequences} = ${n(group.bytes)} B`;
  });
  lines.push(...kvTerms);
  if (kvCache.groups.length > 1) lines.push(`KV = ${kvCache.groups.map((group) => n(group.bytes)).join(" + ")} = ${n(kvCache.bytes)} B`);
  lines.push(`total = weights ${n(weights.bytes)} + KV ${n(kvCache.bytes)} = ${n(plan.total.bytes)} B   (activations and runtime overhead not included)`);
  return lines;
}

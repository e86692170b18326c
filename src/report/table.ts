import type { Plan } from "../plan.js";
import { explainLines } from "./explain.js";
import { explainServing, renderServing } from "./serving.js";
import { messageLines, renderTable, wrapParts, wrapText, type Column, type Layout } from "./layout.js";
import { formatBytes, formatCount, formatGB, formatGiB, formatInt } from "./units.js";

/** The human-readable report of one plan, fitted to `width` when given. */
export function renderPlanTable(plan: Plan, options: { explain?: boolean } & Layout = {}): string {
  const { model, kvCache } = plan;
  const layout: Layout = { width: options.width, words: options.words };
  const out: string[] = wrapParts(headerParts(plan), layout);
  const sequences = `${formatInt(kvCache.sequences)} sequence${kvCache.sequences === 1 ? "" : "s"}`;
  const maxNote = plan.options.contextSource === "model maximum" ? " (the model's maximum)" : model.maxContext ? ` (max ${formatInt(model.maxContext)})` : "";
  out.push(...wrapParts([`context ${formatInt(kvCache.context)} tokens${maxNote} × ${sequences}`, `KV cache in ${kvCache.dtype}`], layout));
  const prompt = plan.options.prompt;
  if (prompt) {
    const what = prompt.template ? `the conversation through the chat template (${prompt.template.file})` : "the prompt";
    out.push(...wrapText(`        = ${formatInt(prompt.promptTokens)} tokens of ${what} + ${formatInt(prompt.newTokens)} new tokens (\`maxNewTokens\`)`, layout));
  }
  out.push("");

  const rows = planRows(plan);
  const columns: Column[] = [
    { header: "", align: "left" },
    { header: "bytes", align: "right" },
    { header: "GiB (2^30)", align: "right" },
    { header: "GB (10^9)", align: "right" },
    { header: "", align: "left", prose: true },
  ];
  out.push(...renderTable(columns, rows.map(([name, bytes, detail]) => [name, formatInt(bytes), formatGiB(bytes), formatGB(bytes), detail]), { ...layout, gap: "   " }));
  out.push(...wrapText(notIncluded(plan), layout));
  out.push(...breakdownLines(plan).flatMap((line) => wrapText(line, layout, 4)));

  if (plan.serving) out.push(...renderServing(plan.serving, layout));
  if (options.explain) {
    const explained = [...explainLines(plan).flatMap((line) => line.split("\n")), ...(plan.serving ? explainServing(plan.serving) : [])];
    out.push("", "How each number is computed:", ...explained.flatMap((line) => wrapText(`  ${line}`, layout, 4)));
  }
  if (plan.notes.length > 0 || plan.warnings.length > 0) out.push("");
  out.push(...messageLines(plan.notes, plan.warnings, layout));
  return out.join("\n") + "\n";
}

/** What the table leaves out; an encoder's activations are estimated in their own row. */
export function notIncluded(plan: Plan): string {
  return plan.encoderActivations ? "Not included: CUDA context and framework overhead." : "Not included: activations, CUDA context and framework overhead (runtime estimates).";
}

/** The table's rows: what, exact bytes, how it was counted. */
export function planRows(plan: Plan): [string, number, string][] {
  const activations = plan.encoderActivations;
  const dense = plan.sentenceTransformers && plan.sentenceTransformers.dense.length > 0 ? plan.sentenceTransformers : null;
  return [
    ["weights", plan.weights.bytes, weightsDetail(plan)],
    ...(dense ? [["Dense layers", dense.denseBytes, `derived: ${formatInt(dense.denseParameters)} parameters in fp32 from ${dense.dense.map((layer) => `${layer.path}/config.json`).join(", ")} (sentence-transformers)`] as [string, number, string]] : []),
    ["KV cache", plan.kvCache.bytes, kvDetail(plan)],
    ["total", plan.total.bytes, dense ? "weights + Dense layers + KV cache" : "weights + KV cache"],
    ...(activations ? [["~activations", activations.bytes, `estimate, not in the total: one forward pass, ${activations.formula}`] as [string, number, string]] : []),
  ];
}

/** The facts of the first line: id, revision, type, size, shape. */
export function headerParts(plan: Plan): string[] {
  const { model } = plan;
  const commit = model.commit ? ` (${model.commit.slice(0, 7)})` : model.configSource === "builtin" ? " (built-in copy)" : "";
  const parameters =
    model.activeParameters !== model.parameters
      ? `${formatCount(model.parameters)} parameters (${formatCount(model.activeParameters)} active)`
      : `${formatCount(model.parameters)} parameters`;
  const parts = [`${model.id} @ ${model.revision}${commit}`, model.modelType, parameters, model.dtype ?? "dtype unknown", `${model.layers} layers`];
  if (model.mla) parts.push(`MLA, latent ${model.mla.kvLoraRank} + rope ${model.mla.qkRopeHeadDim}`);
  else if (model.attentionHeads > 0) {
    parts.push(model.kvHeads === model.attentionHeads ? `${model.attentionHeads} heads (MHA)` : `${model.attentionHeads} query / ${model.kvHeads} KV heads`);
    parts.push(`head_dim ${model.headDim}`);
  } else parts.push("state-space (no attention)");
  if (model.experts) parts.push(`${model.experts.routed} experts, ${model.experts.perToken} per token${model.experts.shared ? " + shared" : ""}`);
  return parts;
}

function weightsDetail(plan: Plan): string {
  const { weights } = plan;
  if (weights.source === "config") return `estimate: ${formatInt(weights.parameters)} parameters from config.json × ${weights.assumedDtype}`;
  const dtypes = weights.byDtype.map((share) => share.dtype).join("+");
  return `exact: ${formatInt(weights.tensorCount)} tensors (${dtypes}) in ${weights.files} safetensors file${weights.files === 1 ? "" : "s"}`;
}

function kvDetail(plan: Plan): string {
  const { kvCache } = plan;
  if (kvCache.groups.length === 0) return "none: an encoder keeps no KV cache";
  const parts = kvCache.groups.map((group) => {
    const layers = `${group.layers} ${group.kind === "state" ? "SSM" : group.kind} layer${group.layers === 1 ? "" : "s"}`;
    if (group.kind === "state") return `${layers} × ${formatInt(group.bytesPerSequencePerLayer)} B state`;
    const tokens = formatInt(group.tokensPerSequence ?? 0);
    return group.window === null ? `${layers} × ${tokens} tokens` : `${layers} × ${tokens} tokens (${group.kind === "chunked" ? "chunk" : "window"} ${formatInt(group.window)})`;
  });
  return `exact: ${parts.join(" + ")}${kvCache.bytesPerToken > 0 ? `, ${formatInt(kvCache.bytesPerToken)} B per token` : ""}`;
}

/** Weights by dtype, component and experts, when there is more than one. */
export function breakdownLines(plan: Plan): string[] {
  const { weights } = plan;
  const lines: string[] = [];
  if (weights.byDtype.length > 1 || weights.buffers.tensors > 0 || weights.quantizationState.tensors > 0) {
    for (const share of weights.byDtype) lines.push(`  ${share.dtype.padEnd(8)} ${formatInt(share.elements).padStart(16)} stored elements  ${formatBytes(share.bytes)}`);
    if (weights.quantizationState.tensors > 0) lines.push(`  quantization scales and zeros (${formatInt(weights.quantizationState.tensors)} tensors): ${formatBytes(weights.quantizationState.bytes)}`);
    if (weights.buffers.tensors > 0) lines.push(`  ${formatInt(weights.buffers.tensors)} stored buffers (not parameters): ${formatBytes(weights.buffers.bytes)}`);
  }
  if (weights.components.length > 1) {
    for (const component of weights.components) lines.push(`  ${component.name.padEnd(24)} ${formatCount(component.parameters).padStart(16)} parameters  ${formatBytes(component.bytes)}`);
  }
  if (weights.routedExperts && weights.bytes > 0) {
    const share = ((100 * weights.routedExperts.bytes) / weights.bytes).toFixed(1);
    lines.push(`  routed experts: ${formatBytes(weights.routedExperts.bytes)}, ${share}% of the weights (what expert offloading or expert parallelism moves)`);
  }
  if (weights.storedElements !== null && weights.storedElements !== weights.parameters) {
    // The Hub's "safetensors" parameter count is this figure: people compare against it.
    lines.push(`  stored values, scales and buffers included (what the Hub's safetensors count shows): ${formatInt(weights.storedElements)}`);
  }
  const c = weights.fromConfig;
  if (weights.difference !== null && weights.difference !== 0 && c) {
    const languageModel = weights.components.find((component) => component.name === "language model")?.parameters ?? 0;
    lines.push(`  parameters: ${formatInt(languageModel)} in the language model's headers, ${formatInt(c.total)} derived from config.json (${weights.difference > 0 ? "+" : ""}${formatInt(weights.difference)})`);
  }
  return lines.length > 0 ? ["", ...lines] : [];
}

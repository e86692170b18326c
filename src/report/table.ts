import type { Plan } from "../plan.js";
import { explainLines } from "./explain.js";
import { explainServing, renderServing } from "./serving.js";
import { formatBytes, formatCount, formatGB, formatGiB, formatInt } from "./units.js";

/** The human-readable report of one plan. */
export function renderPlanTable(plan: Plan, options: { explain?: boolean } = {}): string {
  const { model, weights, kvCache } = plan;
  const out: string[] = [headerLine(plan)];
  const sequences = `${formatInt(kvCache.sequences)} sequence${kvCache.sequences === 1 ? "" : "s"}`;
  const maxNote = plan.options.contextSource === "model maximum" ? " (the model's maximum)" : model.maxContext ? ` (max ${formatInt(model.maxContext)})` : "";
  out.push(`context ${formatInt(kvCache.context)} tokens${maxNote} × ${sequences} · KV cache in ${kvCache.dtype}`);
  const prompt = plan.options.prompt;
  if (prompt) {
    const what = prompt.template ? `the conversation through the chat template (${prompt.template.file})` : "the prompt";
    out.push(`        = ${formatInt(prompt.promptTokens)} tokens of ${what} + ${formatInt(prompt.newTokens)} new tokens (--max-new-tokens)`);
  }
  out.push("");

  const rows: [string, number, string][] = [
    ["weights", weights.bytes, weightsDetail(plan)],
    ["KV cache", kvCache.bytes, kvDetail(plan)],
    ["total", plan.total.bytes, "weights + KV cache"],
  ];
  const header: [string, string, string, string, string] = ["", "bytes", "GiB (2^30)", "GB (10^9)", ""];
  const table = [header, ...rows.map(([name, bytes, detail]): [string, string, string, string, string] => [name, formatInt(bytes), formatGiB(bytes), formatGB(bytes), detail])];
  const widths = [0, 1, 2, 3].map((column) => Math.max(...table.map((row) => row[column]?.length ?? 0)));
  for (const row of table) {
    out.push(
      [row[0].padEnd(widths[0] ?? 0), row[1].padStart(widths[1] ?? 0), row[2].padStart(widths[2] ?? 0), row[3].padStart(widths[3] ?? 0), row[4]]
        .join("   ")
        .trimEnd(),
    );
  }
  out.push("Not included: activations, CUDA context and framework overhead (runtime estimates).");
  out.push(...breakdownLines(plan));

  if (plan.serving) out.push(...renderServing(plan.serving));
  if (options.explain) {
    out.push("", "How each number is computed:", ...explainLines(plan).flatMap((line) => line.split("\n")).map((line) => `  ${line}`));
    if (plan.serving) out.push(...explainServing(plan.serving).map((line) => `  ${line}`));
  }
  if (plan.notes.length > 0 || plan.warnings.length > 0) out.push("");
  for (const note of plan.notes) out.push(`note: ${note}`);
  for (const warning of plan.warnings) out.push(`warning: ${warning.message}`);
  return out.join("\n") + "\n";
}

function headerLine(plan: Plan): string {
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
  return parts.join(" · ");
}

function weightsDetail(plan: Plan): string {
  const { weights } = plan;
  if (weights.source === "config") return `estimate: ${formatInt(weights.parameters)} parameters from config.json × ${weights.assumedDtype}`;
  const dtypes = weights.byDtype.map((share) => share.dtype).join("+");
  return `exact: ${formatInt(weights.tensorCount)} tensors (${dtypes}) in ${weights.files} safetensors file${weights.files === 1 ? "" : "s"}`;
}

function kvDetail(plan: Plan): string {
  const { kvCache } = plan;
  const parts = kvCache.groups.map((group) => {
    const layers = `${group.layers} ${group.kind === "state" ? "SSM" : group.kind} layer${group.layers === 1 ? "" : "s"}`;
    if (group.kind === "state") return `${layers} × ${formatInt(group.bytesPerSequencePerLayer)} B state`;
    const tokens = formatInt(group.tokensPerSequence ?? 0);
    return group.window === null ? `${layers} × ${tokens} tokens` : `${layers} × ${tokens} tokens (${group.kind === "chunked" ? "chunk" : "window"} ${formatInt(group.window)})`;
  });
  return `exact: ${parts.join(" + ")}${kvCache.bytesPerToken > 0 ? `, ${formatInt(kvCache.bytesPerToken)} B per token` : ""}`;
}

function breakdownLines(plan: Plan): string[] {
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
  const c = weights.fromConfig;
  if (weights.difference !== null && weights.difference !== 0 && c) {
    const languageModel = weights.components.find((component) => component.name === "language model")?.parameters ?? 0;
    lines.push(`  parameters: ${formatInt(languageModel)} in the language model's headers, ${formatInt(c.total)} derived from config.json (${weights.difference > 0 ? "+" : ""}${formatInt(weights.difference)})`);
  }
  return lines.length > 0 ? ["", ...lines] : [];
}

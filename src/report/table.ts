import type { Plan } from "../plan.js";
import { explainLines } from "./explain.js";
import { formatBytes, formatCount, formatGB, formatGiB, formatInt } from "./units.js";

/** The human-readable report of one plan. */
export function renderPlanTable(plan: Plan, options: { explain?: boolean } = {}): string {
  const { model, weights, kvCache } = plan;
  const out: string[] = [];
  const commit = model.commit ? ` (${model.commit.slice(0, 7)})` : model.configSource === "builtin" ? " (built-in copy)" : "";
  const heads = model.kvHeads === model.attentionHeads ? `${model.attentionHeads} heads (MHA)` : `${model.attentionHeads} query / ${model.kvHeads} KV heads`;
  out.push(
    `${model.id} @ ${model.revision}${commit} · ${model.modelType} · ${formatCount(model.parameters)} parameters · ${model.dtype ?? "dtype unknown"} · ${model.layers} layers · ${heads} · head_dim ${model.headDim}`,
  );
  const sequences = `${formatInt(kvCache.sequences)} sequence${kvCache.sequences === 1 ? "" : "s"}`;
  const maxNote = plan.options.contextSource === "model maximum" ? " (the model's maximum)" : model.maxContext ? ` (max ${formatInt(model.maxContext)})` : "";
  out.push(`context ${formatInt(kvCache.context)} tokens${maxNote} × ${sequences} · KV cache in ${kvCache.dtype}`);
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

  if (weights.byDtype.length > 1 || weights.buffers.tensors > 0) {
    out.push("");
    for (const share of weights.byDtype) out.push(`  ${share.dtype.padEnd(6)} ${formatInt(share.elements).padStart(16)} elements  ${formatBytes(share.bytes)}`);
    if (weights.buffers.tensors > 0) out.push(`  ${formatInt(weights.buffers.tensors)} stored buffers (not parameters): ${formatBytes(weights.buffers.bytes)}`);
  }
  if (weights.difference !== null && weights.difference !== 0) {
    out.push(`  parameters: ${formatInt(weights.parameters)} in the headers, ${formatInt(weights.fromConfig.total)} derived from config.json (${weights.difference > 0 ? "+" : ""}${formatInt(weights.difference)})`);
  }

  if (options.explain) {
    out.push("", "How each number is computed:", ...explainLines(plan).map((line) => `  ${line}`));
  }
  if (plan.notes.length > 0 || plan.warnings.length > 0) out.push("");
  for (const note of plan.notes) out.push(`note: ${note}`);
  for (const warning of plan.warnings) out.push(`warning: ${warning.message}`);
  return out.join("\n") + "\n";
}

function weightsDetail(plan: Plan): string {
  const { weights } = plan;
  if (weights.source === "config") return `estimate: ${formatInt(weights.parameters)} parameters from config.json × ${weights.assumedDtype}`;
  const dtypes = weights.byDtype.map((share) => share.dtype).join("+");
  return `exact: ${formatInt(weights.tensorCount)} tensors (${dtypes}) in ${weights.files} safetensors file${weights.files === 1 ? "" : "s"}`;
}

function kvDetail(plan: Plan): string {
  const { kvCache } = plan;
  const parts = kvCache.groups.map((group) =>
    group.window === null
      ? `${group.layers} full layers × ${formatInt(group.tokensPerSequence)} tokens`
      : `${group.layers} sliding layers × ${formatInt(group.tokensPerSequence)} tokens (window ${formatInt(group.window)})`,
  );
  return `exact: ${parts.join(" + ")}, ${formatInt(kvCache.bytesPerToken)} B per token`;
}

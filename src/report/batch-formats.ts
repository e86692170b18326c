import type { BatchRow } from "../batch/run-batch.js";
import { renderTable, type Column, type Layout } from "./layout.js";
import { formatGiB, formatInt } from "./units.js";

export const BATCH_FORMATS = ["table", "csv", "jsonl", "markdown"] as const;
export type BatchFormat = (typeof BATCH_FORMATS)[number];

/** The columns of a batch row; bytes stay exact integers, GiB are for reading. */
function columns(row: BatchRow): Record<string, string | number | boolean | null> {
  const plan = row.plan;
  const scheme = plan?.serving?.schemes[0];
  return {
    model: row.input,
    status: row.error ? "error" : "ok",
    commit: plan?.model.commit ?? null,
    model_type: plan?.model.modelType ?? null,
    parameters: plan?.model.parameters ?? null,
    active_parameters: plan?.model.activeParameters ?? null,
    dtype: plan?.model.dtype ?? null,
    layers: plan?.model.layers ?? null,
    kv_heads: plan?.model.kvHeads ?? null,
    head_dim: plan?.model.headDim ?? null,
    max_context: plan?.model.maxContext ?? null,
    context: plan?.options.context ?? null,
    batch: plan?.options.batch ?? null,
    weights_source: plan?.weights.source ?? null,
    weights_bytes: plan?.weights.bytes ?? null,
    kv_cache_bytes: plan?.kvCache.bytes ?? null,
    total_bytes: plan?.total.bytes ?? null,
    total_gib: plan ? Number(formatGiB(plan.total.bytes)) : null,
    serving_as: scheme?.scheme ?? null,
    fits: scheme?.fits ?? null,
    max_concurrency: scheme?.maxConcurrency === undefined || scheme.maxConcurrency === null ? null : Number(scheme.maxConcurrency.toFixed(2)),
    kv_budget_bytes: scheme?.kvBudgetBytes ?? null,
    kv_tokens: scheme?.kvTokens ?? null,
    refusal: scheme?.refusal ?? null,
    warnings: plan && plan.warnings.length > 0 ? plan.warnings.map((warning) => warning.message).join("; ") : null,
    error_code: row.error?.code ?? null,
    error: row.error?.message ?? null,
  };
}

/** `layout` fits the table view to a width; the other formats are for programs and are never wrapped. */
export function renderBatch(rows: readonly BatchRow[], format: BatchFormat, layout: Layout = {}): string {
  switch (format) {
    case "jsonl":
      return rows.map((row) => JSON.stringify(row.error ? { model: row.input, status: "error", error: row.error } : { model: row.input, status: "ok", plan: row.plan })).join("\n") + (rows.length ? "\n" : "");
    case "csv": {
      const table = rows.map(columns);
      const header = Object.keys(columns({ line: 0, input: "", plan: null, source: null, duplicate: false, error: null }));
      return [header.join(","), ...table.map((record) => header.map((key) => csvCell(record[key] ?? null)).join(","))].join("\n") + "\n";
    }
    case "markdown": {
      const { header, lines } = summary(rows, "markdown");
      const escape = (cell: string) => cell.replaceAll("|", "\\|");
      return [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`, ...lines.map((line) => `| ${line.map(escape).join(" | ")} |`)].join("\n") + "\n";
    }
    case "table": {
      const { header, lines } = summary(rows, "table");
      const last = header.length - 1;
      // The error or warning column is free text: moved under its row when the table is too wide.
      const columns: Column[] = header.map((cell, column) => ({ header: cell, align: column === 0 || column === last ? "left" : "right", prose: column === last }));
      return renderTable(columns, lines, layout).join("\n") + "\n";
    }
  }
}

/** The human-readable columns; "fits" only when a GPU was asked about. */
function summary(rows: readonly BatchRow[], style: "markdown" | "table"): { header: string[]; lines: string[][] } {
  const withFit = rows.some((row) => row.plan?.serving?.schemes[0]?.fits != null);
  const header = [
    "model",
    ...(style === "markdown" ? ["status"] : []),
    "parameters",
    "weights GiB",
    "KV cache GiB",
    "total GiB",
    ...(withFit ? ["fits"] : []),
    "error or warning",
  ];
  const lines = rows.map((row) => {
    const plan = row.plan;
    const fits = plan?.serving?.schemes[0]?.fits;
    return [
      row.input,
      ...(style === "markdown" ? [row.error ? "error" : "ok"] : []),
      plan ? formatInt(plan.model.parameters) : "",
      plan ? formatGiB(plan.weights.bytes) : "",
      plan ? formatGiB(plan.kvCache.bytes) : "",
      plan ? formatGiB(plan.total.bytes) : "",
      ...(withFit ? [fits == null ? "" : fits ? "yes" : "no"] : []),
      // A plan can be right and still need a word (a context past the model's maximum, an assumed GPU size).
      row.error?.message ?? plan?.warnings.map((warning) => `warning: ${warning.message}`).join("; ") ?? "",
    ];
  });
  return { header, lines };
}

function csvCell(value: string | number | boolean | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

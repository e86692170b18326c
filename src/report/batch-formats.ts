import type { BatchRow } from "../batch/run-batch.js";
import type { GgufFilePlan, GgufRepoPlan } from "../gguf/gguf-plan.js";
import { renderTable, type Column, type Layout } from "./layout.js";
import { formatGiB, formatInt } from "./units.js";

export const BATCH_FORMATS = ["table", "csv", "jsonl", "markdown"] as const;
export type BatchFormat = (typeof BATCH_FORMATS)[number];

/**
 * The file a GGUF repo's row speaks for: the largest that fits the GPU when one was asked about,
 * else Q4_K_M (what Ollama and LM Studio pick by default), else the first listed.
 */
export function ggufRowFile(plan: GgufRepoPlan): GgufFilePlan | undefined {
  if (plan.largestFitting) return plan.files.find((file) => file.name === plan.largestFitting);
  return plan.files.find((file) => (file.quant ?? file.fileType) === "Q4_K_M") ?? plan.files[0];
}

/** The figures every row has, whichever kind of repo it planned. */
interface RowFigures {
  parameters: number;
  weightsBytes: number;
  kvBytes: number;
  totalBytes: number;
  fits: boolean | null;
  warnings: string[];
}

function figuresOf(row: BatchRow): RowFigures | null {
  if (row.plan) {
    const scheme = row.plan.serving?.schemes[0];
    return { parameters: row.plan.model.parameters, weightsBytes: row.plan.weights.bytes, kvBytes: row.plan.kvCache.bytes, totalBytes: row.plan.total.bytes, fits: scheme?.fits ?? null, warnings: row.plan.warnings.map((warning) => warning.message) };
  }
  if (row.pipeline) {
    const pipeline = row.pipeline;
    return { parameters: pipeline.total.parameters, weightsBytes: pipeline.total.bytes, kvBytes: 0, totalBytes: pipeline.total.bytes, fits: pipeline.gpu?.allOnGpu.fits ?? null, warnings: pipeline.warnings };
  }
  const file = row.gguf ? ggufRowFile(row.gguf) : undefined;
  if (!row.gguf || !file) return null;
  return { parameters: row.gguf.model.parameters, weightsBytes: file.weights.bytes, kvBytes: file.kvBytes, totalBytes: file.weights.bytes + file.kvBytes, fits: file.fits, warnings: row.gguf.warnings };
}

/** A vision-language model's vision tower (in the weights above), as its own figure; null for other models. */
function visionTowerBytes(row: BatchRow): number | null {
  return row.plan?.weights.components.find((component) => component.name === "vision tower")?.bytes ?? null;
}

/** The columns of a batch row; bytes stay exact integers, GiB are for reading. */
function columns(row: BatchRow): Record<string, string | number | boolean | null> {
  const plan = row.plan;
  const gguf = row.gguf;
  const file = gguf ? ggufRowFile(gguf) : undefined;
  const figures = figuresOf(row);
  const scheme = plan?.serving?.schemes[0];
  return {
    model: row.input,
    status: row.error ? "error" : "ok",
    kind: row.kind,
    commit: plan?.model.commit ?? gguf?.model.commit ?? row.pipeline?.model.commit ?? null,
    model_type: plan?.model.modelType ?? gguf?.model.modelType ?? row.pipeline?.model.pipeline ?? null,
    parameters: figures?.parameters ?? null,
    active_parameters: plan?.model.activeParameters ?? gguf?.model.parameters ?? row.pipeline?.total.parameters ?? null,
    dtype: plan?.model.dtype ?? file?.quant ?? file?.fileType ?? null,
    gguf_file: file?.name ?? null,
    layers: plan?.model.layers ?? gguf?.model.layers ?? null,
    kv_heads: plan?.model.kvHeads ?? gguf?.model.kvHeads ?? null,
    head_dim: plan?.model.headDim ?? gguf?.model.headDim ?? null,
    max_context: plan?.model.maxContext ?? gguf?.model.maxContext ?? null,
    context: plan?.options.context ?? gguf?.options.context ?? null,
    batch: plan?.options.batch ?? gguf?.options.batch ?? null,
    weights_source: plan?.weights.source ?? (gguf ? "gguf" : row.pipeline ? "safetensors" : null),
    weights_bytes: figures?.weightsBytes ?? null,
    vision_tower_bytes: visionTowerBytes(row),
    kv_cache_bytes: figures?.kvBytes ?? null,
    total_bytes: figures?.totalBytes ?? null,
    total_gib: figures ? Number(formatGiB(figures.totalBytes)) : null,
    serving_as: scheme?.scheme ?? file?.quant ?? null,
    fits: figures?.fits ?? null,
    max_concurrency: scheme?.maxConcurrency === undefined || scheme.maxConcurrency === null ? null : Number(scheme.maxConcurrency.toFixed(2)),
    kv_budget_bytes: scheme?.kvBudgetBytes ?? null,
    kv_tokens: scheme?.kvTokens ?? null,
    refusal: scheme?.refusal ?? null,
    warnings: figures && figures.warnings.length > 0 ? figures.warnings.join("; ") : null,
    error_code: row.error?.code ?? null,
    error: row.error?.message ?? null,
  };
}

export function renderBatch(rows: readonly BatchRow[], format: BatchFormat, layout: Layout = {}): string {
  switch (format) {
    case "jsonl":
      return rows.map((row) => JSON.stringify(row.error ? { model: row.input, status: "error", error: row.error } : { model: row.input, status: "ok", kind: row.kind, plan: row.plan ?? row.gguf ?? row.pipeline })).join("\n") + (rows.length ? "\n" : "");
    case "csv": {
      const table = rows.map(columns);
      const header = Object.keys(columns({ line: 0, input: "", kind: null, plan: null, gguf: null, pipeline: null, source: null, duplicate: false, error: null }));
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
  const withFit = rows.some((row) => figuresOf(row)?.fits != null);
  const withVision = rows.some((row) => visionTowerBytes(row) !== null);
  const header = [
    "model",
    ...(style === "markdown" ? ["status"] : []),
    "kind",
    "parameters",
    "weights GiB",
    ...(withVision ? ["of which vision GiB"] : []),
    "KV cache GiB",
    "total GiB",
    ...(withFit ? ["fits"] : []),
    "error or warning",
  ];
  const lines = rows.map((row) => {
    const figures = figuresOf(row);
    const file = row.gguf ? ggufRowFile(row.gguf) : undefined;
    return [
      row.input,
      ...(style === "markdown" ? [row.error ? "error" : "ok"] : []),
      row.kind === "gguf" ? `GGUF ${file?.quant ?? file?.fileType ?? ""}`.trim() : row.kind === "diffusers" ? `diffusers ${row.pipeline?.model.pipeline ?? ""}`.trim() : row.kind ?? "",
      figures ? formatInt(figures.parameters) : "",
      figures ? formatGiB(figures.weightsBytes) : "",
      ...(withVision ? [((vision) => (vision === null ? "" : formatGiB(vision)))(visionTowerBytes(row))] : []),
      figures ? formatGiB(figures.kvBytes) : "",
      figures ? formatGiB(figures.totalBytes) : "",
      ...(withFit ? [figures?.fits == null ? "" : figures.fits ? "yes" : "no"] : []),
      // A plan can be right and still need a word (a context past the model's maximum, an assumed GPU size).
      row.error?.message ?? figures?.warnings.map((warning) => `warning: ${warning}`).join("; ") ?? "",
    ];
  });
  return { header, lines };
}

function csvCell(value: string | number | boolean | null): string {
  if (value === null) return "";
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

import type { SchemeServing } from "../serve/serving-plan.js";
import type { ServingPlan } from "../serve/serving.js";
import { formatGiB, formatInt } from "./units.js";

const BAR_WIDTH = 48;

/** The serving section of the table view: one row per weight format, a bar each, GPU fit. */
export function renderServing(serving: ServingPlan): string[] {
  const { engine, gpu } = serving;
  const where = gpu ? `${serving.gpus} × ${gpu.name} (${gpu.memoryGiB} GiB each)` : "no GPU chosen";
  const fraction = engine.memoryFractionFlag ? ` · ${engine.memoryFractionFlag.replace(/^--/, "").replaceAll("-", "_")} ${serving.memoryFraction}` : "";
  const out = [
    "",
    `Serving with ${engine.name} ${engine.version} on ${where}${fraction} · ${formatInt(serving.batch)} × ${formatInt(serving.context)} tokens   (~ = estimate; GiB = 2^30 B)`,
  ];
  const header = ["weights as", "bits/weight", "weights/GPU", "~activation", "~runtime", "KV/request", "KV budget", "fits", "max concurrency", "longest context"];
  const rows = serving.schemes.map((scheme) => [
    scheme.scheme,
    scheme.bitsPerWeight.toFixed(2),
    formatGiB(scheme.weightsPerGpu),
    formatGiB(scheme.activationBytes),
    formatGiB(scheme.runtimeBytes),
    formatGiB(scheme.kvPerRequestBytes),
    scheme.kvBudgetBytes === null ? "—" : formatGiB(Math.max(0, scheme.kvBudgetBytes)),
    scheme.fits === null ? "—" : scheme.fits ? "yes" : `no${scheme.smallestGpuCount ? ` (${scheme.smallestGpuCount} GPUs)` : ""}`,
    scheme.maxConcurrency === null ? "—" : `${scheme.maxConcurrency.toFixed(2)}×`,
    scheme.longestContext === null ? "—" : formatInt(scheme.longestContext),
  ]);
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) => `  ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ")}`.trimEnd();
  out.push(line(header), ...rows.map(line));
  if (gpu) {
    out.push("");
    const labelWidth = Math.max(...serving.schemes.map((scheme) => scheme.scheme.length));
    for (const scheme of serving.schemes) out.push(`  ${scheme.scheme.padEnd(labelWidth)} ${bar(scheme, serving.batch, gpu.bytes, serving.memoryFraction)}`);
    out.push(`  ${" ".repeat(labelWidth)} █ weights  ▓ KV cache  ▒ ~activations  ░ ~runtime  ┃ ${engine.memoryFractionFlag ? "memory the engine may use" : "GPU memory"}`);
  }
  if (serving.candidates) {
    const first = serving.candidates[0]?.scheme ?? "";
    out.push("", `Which GPUs fit ${first} at ${formatInt(serving.batch)} × ${formatInt(serving.context)} tokens (${engine.name}, ${serving.gpus} per model):`);
    const nameWidth = Math.max(...serving.candidates.map((fit) => `${fit.gpu.name} ${fit.gpu.memoryGiB} GiB`.length));
    for (const fit of serving.candidates) {
      const label = `${fit.gpu.name} ${fit.gpu.memoryGiB} GiB`.padEnd(nameWidth);
      const verdict = fit.fits
        ? `fits, max concurrency ${fit.maxConcurrency?.toFixed(2) ?? "—"}×`
        : fit.smallestGpuCount
          ? `does not fit; ${fit.smallestGpuCount} of them would`
          : "does not fit on up to 64";
      out.push(`  ${label}  ${verdict}`);
    }
    out.push("  (pass --gpu NAME for the full picture on one of them)");
  }
  return out;
}

/** weights █, KV ▓, activations ▒, runtime ░, against the GPU's memory with the engine's limit ┃. */
function bar(scheme: SchemeServing, batch: number, gpuBytes: number, fraction: number): string {
  const cells = (bytes: number) => Math.max(0, Math.round((bytes / gpuBytes) * BAR_WIDTH));
  const kv = scheme.kvPerRequestBytes * batch;
  const parts = [
    "█".repeat(cells(scheme.weightsPerGpu)),
    "▓".repeat(cells(kv)),
    "▒".repeat(cells(scheme.activationBytes)),
    "░".repeat(cells(scheme.runtimeBytes)),
  ].join("");
  const limit = Math.min(BAR_WIDTH, Math.round(fraction * BAR_WIDTH));
  const filled = parts.length > BAR_WIDTH ? `${parts.slice(0, BAR_WIDTH)}»` : parts.padEnd(BAR_WIDTH, " ");
  const withLimit = limit < BAR_WIDTH ? `${filled.slice(0, limit)}┃${filled.slice(limit)}` : `${filled}┃`;
  return `[${withLimit}] ${formatGiB(scheme.totalPerGpu)} of ${formatGiB(gpuBytes)} GiB`;
}

/** --explain: the engine's assumptions, tensor-parallel facts, and each scheme's arithmetic. */
export function explainServing(serving: ServingPlan): string[] {
  const lines = [`serving estimates (${serving.engine.name} ${serving.engine.version} profile):`, ...serving.engine.assumptions.map((assumption) => `  - ${assumption}`)];
  if (serving.gpu) {
    lines.push(`  - GPU memory: ${serving.gpu.name} sold as ${serving.gpu.memoryGiB} GB, taken as ${serving.gpu.memoryGiB} GiB = ${formatInt(serving.gpu.bytes)} B (drivers report slightly less)`);
    if (serving.gpu.otherSizes.length > 0) lines.push(`  - ${serving.gpu.name} also comes with ${serving.gpu.otherSizes.join(", ")} GiB: say e.g. ${serving.gpu.name}-${serving.gpu.otherSizes[0]}`);
  }
  for (const note of serving.notes) lines.push(`  - ${note}`);
  for (const scheme of serving.schemes) {
    lines.push(`  ${scheme.scheme}: ${scheme.description}`);
    lines.push(`    weights ${formatInt(scheme.weightsBytes)} B / ${serving.gpus} GPU(s) = ${formatInt(scheme.weightsPerGpu)} B per GPU`);
    if (scheme.kvBudgetBytes !== null && scheme.usableBytes !== null) {
      const activationTerms = serving.engine.budget === "fraction-after-weights" ? "" : ` − ~activation ${formatInt(scheme.activationBytes)} − ~runtime ${formatInt(scheme.runtimeBytes)}`;
      lines.push(`    KV budget = ${formatInt(scheme.usableBytes)} − weights ${formatInt(scheme.weightsPerGpu)}${activationTerms} = ${formatInt(scheme.kvBudgetBytes)} B per GPU`);
      if (scheme.maxConcurrency !== null) {
        lines.push(`    max concurrency = budget / KV per request ${formatInt(scheme.kvPerRequestBytes)} B = ${scheme.maxConcurrency.toFixed(2)}×; KV cache holds ${formatInt(scheme.kvTokens ?? 0)} tokens`);
      }
    }
  }
  return lines;
}

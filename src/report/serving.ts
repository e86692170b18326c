import type { SchemeServing, ServingPlan } from "../serve/serving.js";
import { renderTable, wrapParts, wrapText, type Column, type Layout } from "./layout.js";
import { formatGiB, formatInt } from "./units.js";

const BAR_WIDTH = 48;
/** A bar narrower than this says too little: below it the terminal folds the line instead. */
const MIN_BAR_WIDTH = 16;

/** The knob each engine sizes its cache with, as its command line spells it. */
const FRACTION_NAMES: Readonly<Record<string, string>> = { vllm: "gpu_memory_utilization", sglang: "mem_fraction_static" };

export function setupParts(serving: ServingPlan): string[] {
  const { engine, gpu, device } = serving;
  const where = gpu && device ? `${serving.gpus} × ${gpu.name} ${gpu.memoryGiB} GB (${formatGiB(device.bytes)} GiB ${device.basis === "nominal" ? "assumed" : device.basis === "override" ? "given" : "as CUDA reports it"})` : "no GPU chosen";
  const fractionName = FRACTION_NAMES[engine.name];
  return [
    `Serving with ${engine.label} on ${where}`,
    ...(fractionName ? [`${fractionName} ${serving.memoryFraction ?? (engine.name === "vllm" ? 0.9 : "auto")}`] : []),
    `${formatInt(serving.batch)} × ${formatInt(serving.context)} tokens`,
    "~ = estimate; GiB = 2^30 B",
  ];
}

const gibOrDash = (bytes: number | null) => (bytes === null ? "—" : formatGiB(bytes));

/** The serving table's cells, one row per weight format: the terminal and the web page print the same. */
export function servingTable(serving: ServingPlan): { header: string[]; rows: string[][] } {
  const header = ["weights as", "bits/weight", "weights/GPU", "~activation", "~runtime", "~graphs", "KV budget", "KV tokens", "KV/request", "max concurrency", "longest context", "fits"];
  const rows = serving.schemes.map((scheme) => [
    scheme.scheme,
    scheme.bitsPerWeight.toFixed(2),
    formatGiB(scheme.weightsPerGpu),
    gibOrDash(scheme.activationBytes),
    gibOrDash(scheme.runtimeBytes),
    scheme.cudaGraphBytes === null || scheme.cudaGraphBytes === 0 ? "—" : `${formatGiB(scheme.cudaGraphBytes)}${scheme.cudaGraphReserved ? "" : "*"}`,
    scheme.kvBudgetBytes === null ? "—" : formatGiB(scheme.kvBudgetBytes),
    scheme.kvTokens === null ? "—" : formatInt(scheme.kvTokens),
    formatGiB(scheme.kvPerRequestBytes),
    scheme.maxConcurrency === null ? "—" : `${scheme.maxConcurrency.toFixed(2)}×`,
    scheme.longestContext === null ? "—" : formatInt(scheme.longestContext),
    fitsCell(scheme),
  ]);
  return { header, rows };
}

/** "yes", "no (3 GPUs)", "refused": the verdict a user acts on. */
export function fitsCell(scheme: SchemeServing): string {
  if (scheme.fits === null) return "—";
  const more = scheme.smallestGpuCount ? ` (${scheme.smallestGpuCount} GPUs)` : "";
  return scheme.refusal ? `refused${more}` : scheme.fits ? "yes" : `no${more}`;
}

/** The serving section of the table view: one row per weight format, a bar each, GPU fit. */
export function renderServing(serving: ServingPlan, layout: Layout = {}): string[] {
  const out = ["", ...wrapParts(setupParts(serving), layout)];
  const { header, rows } = servingTable(serving);
  const columns: Column[] = header.map((cell, column) => ({ header: cell, align: column === 0 ? "left" : "right" }));
  out.push(...renderTable(columns, rows, { ...layout, indent: "  " }));
  if (serving.schemes.some((scheme) => scheme.cudaGraphBytes !== null && scheme.cudaGraphBytes > 0 && !scheme.cudaGraphReserved)) {
    out.push(...wrapText("  * CUDA graphs are captured after the KV cache is sized: they live in the headroom, outside the KV budget", layout, 2));
  }
  for (const scheme of serving.schemes) {
    if (scheme.refusal) out.push(...wrapText(`  ${scheme.scheme}: ${serving.engine.name} would refuse to start: ${scheme.refusal}`, layout, 2));
  }
  const { gpu, device } = serving;
  if (gpu && device) {
    out.push("");
    const labelWidth = Math.max(...serving.schemes.map((scheme) => scheme.scheme.length));
    // "  label [bar┃] 123.45 of 139.81 GiB": what is left of the line after the label and figures.
    const figures = "] 0000.00 of 0000.00 GiB".length + 2;
    const barWidth = layout.width === undefined ? BAR_WIDTH : Math.max(MIN_BAR_WIDTH, Math.min(BAR_WIDTH, layout.width - labelWidth - 4 - figures));
    for (const scheme of serving.schemes) out.push(`  ${scheme.scheme.padEnd(labelWidth)} ${bar(scheme, serving.batch, device.bytes, barWidth)}`);
    const legend = ["█ weights", "▓ KV cache at this batch", "▒ ~activations", "░ ~runtime and graphs", "┃ memory the engine sizes against"];
    out.push(...wrapParts(legend, { width: layout.width === undefined ? undefined : layout.width - labelWidth - 3 }, "  ", 0).map((line) => `  ${" ".repeat(labelWidth)} ${line}`));
  }
  if (serving.candidates) {
    const first = serving.candidates[0]?.scheme ?? "";
    out.push("", ...wrapText(`Which GPUs fit ${first} at ${formatInt(serving.batch)} × ${formatInt(serving.context)} tokens (${serving.engine.label}, ${serving.gpus} per model):`, layout));
    const nameWidth = Math.max(...serving.candidates.map((fit) => `${fit.gpu.name} ${fit.gpu.memoryGiB} GB`.length));
    for (const fit of serving.candidates) {
      const label = `${fit.gpu.name} ${fit.gpu.memoryGiB} GB`.padEnd(nameWidth);
      const verdict = fit.fits
        ? `fits, max concurrency ${fit.maxConcurrency?.toFixed(2) ?? "—"}×`
        : fit.smallestGpuCount
          ? `does not fit; ${fit.smallestGpuCount} of them would`
          : "does not fit on up to 64";
      out.push(`  ${label}  ${verdict}`);
    }
    out.push(...wrapText("  (pass `gpu` with one of these names for the full picture on it)", layout));
  }
  return out;
}

/** weights █, KV ▓, activations ▒, runtime and graphs ░, against the GPU with the engine's limit ┃. */
function bar(scheme: SchemeServing, batch: number, gpuBytes: number, width: number): string {
  const cells = (bytes: number) => Math.max(0, Math.round((bytes / gpuBytes) * width));
  const parts = [
    "█".repeat(cells(scheme.weightsPerGpu)),
    "▓".repeat(cells(scheme.kvPerRequestBytes * batch)),
    "▒".repeat(cells(scheme.activationBytes ?? 0)),
    "░".repeat(cells((scheme.runtimeBytes ?? 0) + (scheme.cudaGraphBytes ?? 0))),
  ].join("");
  const limit = Math.min(width, Math.round(((scheme.usableBytes ?? gpuBytes) / gpuBytes) * width));
  const filled = parts.length > width ? `${parts.slice(0, width)}»` : parts.padEnd(width, " ");
  const withLimit = limit < width ? `${filled.slice(0, limit)}┃${filled.slice(limit)}` : `${filled}┃`;
  return `[${withLimit}] ${gibOrDash(scheme.totalPerGpu)} of ${formatGiB(gpuBytes)} GiB`;
}

/** --explain: every term of the engine's arithmetic with its numbers and the engine file it restates. */
export function explainServing(serving: ServingPlan): string[] {
  const lines = [`serving (${serving.engine.label}): ${serving.engine.changes}`];
  if (serving.gpu && serving.device) {
    lines.push(`  - GPU memory: ${serving.gpu.name} sold as ${serving.gpu.memoryGiB} GB; the engine sees ${formatInt(serving.device.bytes)} B = ${formatGiB(serving.device.bytes)} GiB (${serving.device.source})`);
    if (serving.gpu.otherSizes.length > 0) lines.push(`  - ${serving.gpu.name} also comes with ${serving.gpu.otherSizes.join(", ")} GB: say e.g. ${serving.gpu.name}-${serving.gpu.otherSizes[0]}`);
  }
  for (const note of serving.notes) lines.push(`  - ${note}`);
  for (const scheme of serving.schemes) {
    lines.push(`  ${scheme.scheme}: ${scheme.description}`);
    for (const note of scheme.notes) lines.push(`    - ${note}`);
    for (const term of scheme.terms) lines.push(`    ${term.exact ? " " : "~"} ${term.name}: ${term.formula}   [${term.source}]`);
    if (scheme.refusal) lines.push(`    refused: ${scheme.refusal}`);
  }
  return lines;
}

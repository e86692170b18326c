import type { SchemeServing, ServingPlan } from "../serve/serving.js";
import { formatGiB, formatInt } from "./units.js";

const BAR_WIDTH = 48;

/** The knob each engine sizes its cache with, as its command line spells it. */
const FRACTION_NAMES: Readonly<Record<string, string>> = { vllm: "gpu_memory_utilization", sglang: "mem_fraction_static" };

function setupLine(serving: ServingPlan): string {
  const { engine, gpu, device } = serving;
  const where = gpu && device ? `${serving.gpus} × ${gpu.name} ${gpu.memoryGiB} GB (${formatGiB(device.bytes)} GiB ${device.basis === "nominal" ? "assumed" : device.basis === "override" ? "given" : "as CUDA reports it"})` : "no GPU chosen";
  const fractionName = FRACTION_NAMES[engine.name];
  const fraction = fractionName ? ` · ${fractionName} ${serving.memoryFraction ?? (engine.name === "vllm" ? 0.9 : "auto")}` : "";
  return `Serving with ${engine.label} on ${where}${fraction} · ${formatInt(serving.batch)} × ${formatInt(serving.context)} tokens   (~ = estimate; GiB = 2^30 B)`;
}

const gibOrDash = (bytes: number | null) => (bytes === null ? "—" : formatGiB(bytes));

/** The serving section of the table view: one row per weight format, a bar each, GPU fit. */
export function renderServing(serving: ServingPlan): string[] {
  const out = ["", setupLine(serving)];
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
    scheme.fits === null ? "—" : scheme.refusal ? `refused${scheme.smallestGpuCount ? ` (${scheme.smallestGpuCount} GPUs)` : ""}` : scheme.fits ? "yes" : `no${scheme.smallestGpuCount ? ` (${scheme.smallestGpuCount} GPUs)` : ""}`,
  ]);
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) => `  ${cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ")}`.trimEnd();
  out.push(line(header), ...rows.map(line));
  if (serving.schemes.some((scheme) => scheme.cudaGraphBytes !== null && scheme.cudaGraphBytes > 0 && !scheme.cudaGraphReserved)) {
    out.push("  * CUDA graphs are captured after the KV cache is sized: they live in the headroom, outside the KV budget");
  }
  for (const scheme of serving.schemes) {
    if (scheme.refusal) out.push(`  ${scheme.scheme}: ${serving.engine.name} would refuse to start: ${scheme.refusal}`);
  }
  const { gpu, device } = serving;
  if (gpu && device) {
    out.push("");
    const labelWidth = Math.max(...serving.schemes.map((scheme) => scheme.scheme.length));
    for (const scheme of serving.schemes) out.push(`  ${scheme.scheme.padEnd(labelWidth)} ${bar(scheme, serving.batch, device.bytes)}`);
    out.push(`  ${" ".repeat(labelWidth)} █ weights  ▓ KV cache at this batch  ▒ ~activations  ░ ~runtime and graphs  ┃ memory the engine sizes against`);
  }
  if (serving.candidates) {
    const first = serving.candidates[0]?.scheme ?? "";
    out.push("", `Which GPUs fit ${first} at ${formatInt(serving.batch)} × ${formatInt(serving.context)} tokens (${serving.engine.label}, ${serving.gpus} per model):`);
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
    out.push("  (pass --gpu NAME for the full picture on one of them)");
  }
  return out;
}

/** weights █, KV ▓, activations ▒, runtime and graphs ░, against the GPU with the engine's limit ┃. */
function bar(scheme: SchemeServing, batch: number, gpuBytes: number): string {
  const cells = (bytes: number) => Math.max(0, Math.round((bytes / gpuBytes) * BAR_WIDTH));
  const parts = [
    "█".repeat(cells(scheme.weightsPerGpu)),
    "▓".repeat(cells(scheme.kvPerRequestBytes * batch)),
    "▒".repeat(cells(scheme.activationBytes ?? 0)),
    "░".repeat(cells((scheme.runtimeBytes ?? 0) + (scheme.cudaGraphBytes ?? 0))),
  ].join("");
  const limit = Math.min(BAR_WIDTH, Math.round(((scheme.usableBytes ?? gpuBytes) / gpuBytes) * BAR_WIDTH));
  const filled = parts.length > BAR_WIDTH ? `${parts.slice(0, BAR_WIDTH)}»` : parts.padEnd(BAR_WIDTH, " ");
  const withLimit = limit < BAR_WIDTH ? `${filled.slice(0, limit)}┃${filled.slice(limit)}` : `${filled}┃`;
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

import type { Plan } from "../plan.js";
import { sequenceBytesAt } from "../estimate/kv-cache.js";
import { formatGiB, formatInt, GIB } from "./units.js";

export interface ChartSeries {
  label: string;
  points: { context: number; bytes: number }[];
}

const WIDTH = 860;
const HEIGHT = 520;
const MARGIN = { left: 78, right: 200, top: 56, bottom: 64 };
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#7f7f7f"];

/** Context lengths to plot: powers of two from 512 up to the model's maximum, plus the request. */
function contexts(plan: Plan): number[] {
  const top = Math.max(plan.options.context, plan.model.maxContext ?? plan.options.context);
  const values = new Set<number>();
  for (let context = 512; context < top; context *= 2) values.add(context);
  values.add(top);
  values.add(plan.options.context);
  return [...values].sort((a, b) => a - b);
}

/**
 * Memory per GPU against context, one series per weight format: weights + KV + activations +
 * runtime. The engine's KV per request at the planned context is scaled along the model's own need,
 * which is how its pages grow (block rounding aside).
 */
export function chartSeries(plan: Plan): ChartSeries[] {
  const batch = plan.options.batch;
  if (!plan.serving) {
    // No serving plan: the model's need, weights and KV, as the main table reports it.
    return [{ label: `${plan.model.dtype ?? "weights"} (weights + KV)`, points: contexts(plan).map((context) => ({ context, bytes: plan.weights.bytes + sequenceBytesAt(plan.kvCache, context) * batch })) }];
  }
  const planned = Math.max(1, sequenceBytesAt(plan.kvCache, plan.options.context));
  return plan.serving.schemes.map((scheme) => {
    const fixed = scheme.weightsPerGpu + (scheme.activationBytes ?? 0) + (scheme.runtimeBytes ?? 0) + (scheme.cudaGraphBytes ?? 0);
    return {
      label: scheme.scheme,
      points: contexts(plan).map((context) => ({ context, bytes: fixed + Math.round((scheme.kvPerRequestBytes * sequenceBytesAt(plan.kvCache, context)) / planned) * batch })),
    };
  });
}

const escape = (text: string) => text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");
const tokens = (context: number) => (context >= 1024 && context % 1024 === 0 ? `${formatInt(context / 1024)}k` : formatInt(context));

/** An SVG a person reads without the numbers: memory (GiB) against context (log scale) with the GPU's capacity. */
export function renderMemoryChart(plan: Plan): string {
  const series = chartSeries(plan);
  const gpu = plan.serving?.gpu ?? null;
  const device = plan.serving?.device ?? null;
  const usable = plan.serving?.schemes[0]?.usableBytes ?? null;
  const xs = series[0]?.points.map((point) => point.context) ?? [plan.options.context];
  const xMin = Math.log2(xs[0] ?? 1);
  const xMax = Math.log2(xs[xs.length - 1] ?? 2);
  const capacity = device?.bytes ?? null;
  const yTop = Math.max(capacity ?? 0, ...series.flatMap((line) => line.points.map((point) => point.bytes))) * 1.08;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (context: number) => MARGIN.left + ((Math.log2(context) - xMin) / Math.max(1e-9, xMax - xMin)) * plotWidth;
  const y = (bytes: number) => MARGIN.top + plotHeight - (bytes / yTop) * plotHeight;
  const parts: string[] = [];
  const title = `${plan.model.id}: GPU memory against context${plan.serving ? ` (${plan.serving.engine.name}, ${plan.options.batch} × sequence${plan.options.batch > 1 ? "s" : ""}${plan.serving.gpus > 1 ? `, per GPU of ${plan.serving.gpus}` : ""})` : ""}`;
  parts.push(`<text class="title" x="${MARGIN.left}" y="28" font-size="17" font-weight="bold">${escape(title)}</text>`);

  // Y axis: GiB gridlines.
  const step = niceStep(yTop / GIB / 6);
  for (let gib = 0; gib * GIB <= yTop; gib += step) {
    const yy = y(gib * GIB).toFixed(1);
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`);
    parts.push(`<text class="y-tick" x="${MARGIN.left - 8}" y="${yy}" font-size="12" text-anchor="end" dominant-baseline="middle">${Number(gib.toFixed(2))}</text>`);
  }
  // X axis: each plotted context.
  for (const context of xs) {
    const xx = x(context).toFixed(1);
    parts.push(`<line class="grid" x1="${xx}" x2="${xx}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#f0f0f0"/>`);
    parts.push(`<text class="x-tick" x="${xx}" y="${MARGIN.top + plotHeight + 18}" font-size="12" text-anchor="middle">${tokens(context)}</text>`);
  }
  parts.push(`<line class="axis" id="x-axis" x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${MARGIN.top + plotHeight}" y2="${MARGIN.top + plotHeight}" stroke="#333"/>`);
  parts.push(`<line class="axis" id="y-axis" x1="${MARGIN.left}" x2="${MARGIN.left}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#333"/>`);
  parts.push(`<text class="axis-label" x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 18}" font-size="13" text-anchor="middle">context length, tokens per sequence (log scale)</text>`);
  parts.push(`<text class="axis-label" transform="translate(22 ${MARGIN.top + plotHeight / 2}) rotate(-90)" font-size="13" text-anchor="middle">memory per GPU, GiB (2^30 bytes)</text>`);

  // Capacity: the GPU, and what the engine may use of it.
  if (gpu && capacity !== null) {
    const capacityY = y(capacity).toFixed(1);
    parts.push(`<line class="capacity" x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${capacityY}" y2="${capacityY}" stroke="#d62728" stroke-width="2.5"/>`);
    parts.push(`<text class="capacity-label" x="${MARGIN.left + plotWidth + 8}" y="${capacityY}" font-size="12" fill="#d62728" dominant-baseline="middle">${escape(`${gpu.name} ${formatGiB(capacity)} GiB`)}</text>`);
    if (usable !== null && usable < capacity) {
      const usableY = y(usable).toFixed(1);
      parts.push(`<line class="usable" x1="${MARGIN.left}" x2="${MARGIN.left + plotWidth}" y1="${usableY}" y2="${usableY}" stroke="#d62728" stroke-dasharray="6 4"/>`);
      parts.push(`<text class="usable-label" x="${MARGIN.left + plotWidth + 8}" y="${usableY}" font-size="11" fill="#d62728" dominant-baseline="hanging">${escape(`usable at ${plan.serving?.memoryFraction ?? 0.9}`)}</text>`);
    }
  }
  // The requested context.
  const requested = x(plan.options.context).toFixed(1);
  parts.push(`<line class="requested" x1="${requested}" x2="${requested}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#555" stroke-dasharray="2 3"/>`);
  // Inside the plot, beside its line: above the plot it ran into the caption.
  parts.push(`<text x="${(Number(requested) + 4).toFixed(1)}" y="${MARGIN.top + 12}" font-size="11" fill="#555">requested ${tokens(plan.options.context)}</text>`);

  // The legend sits in the right margin clear of the capacity labels: mid-height if free, else below them, else above.
  const legendHeight = 22 + series.length * 20;
  const labelYs = [capacity, usable].flatMap((bytes) => (gpu && bytes !== null ? [y(bytes)] : []));
  const clear = (top: number) => labelYs.every((labelY) => labelY < top - 16 || labelY > top + legendHeight + 4);
  const below = Math.max(...labelYs, MARGIN.top) + 24;
  const legendTop = [MARGIN.top + plotHeight * 0.45, below, MARGIN.top + 12].find((top) => clear(top) && top + legendHeight <= HEIGHT - MARGIN.bottom) ?? below;
  series.forEach((line, index) => {
    const color = COLORS[index % COLORS.length];
    const points = line.points.map((point) => `${x(point.context).toFixed(1)},${y(point.bytes).toFixed(1)}`).join(" ");
    parts.push(`<polyline class="series" data-label="${escape(line.label)}" points="${points}" fill="none" stroke="${color}" stroke-width="2.5"/>`);
    for (const point of line.points) parts.push(`<circle cx="${x(point.context).toFixed(1)}" cy="${y(point.bytes).toFixed(1)}" r="3" fill="${color}"/>`);
    const legendY = legendTop + 22 + index * 20;
    parts.push(`<line x1="${MARGIN.left + plotWidth + 10}" x2="${MARGIN.left + plotWidth + 34}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="3"/>`);
    parts.push(`<text class="legend" x="${MARGIN.left + plotWidth + 40}" y="${legendY}" font-size="12" dominant-baseline="middle">${escape(line.label)}</text>`);
  });
  parts.push(`<text class="legend-title" x="${MARGIN.left + plotWidth + 10}" y="${legendTop}" font-size="12" font-weight="bold">weights as</text>`);
  const caption = plan.serving ? "weights + KV cache + estimated activations and runtime" : "weights + KV cache";
  parts.push(`<text x="${MARGIN.left}" y="46" font-size="12" fill="#555">${escape(caption)}</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join("\n")}\n</svg>\n`;
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  for (const multiple of [1, 2, 5, 10]) if (multiple * power >= raw) return multiple * power;
  return 10 * power;
}

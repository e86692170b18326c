import type { GgufRepoPlan } from "../gguf/gguf-plan.js";
import type { Plan } from "../plan.js";
import type { SchemeServing, ServingPlan } from "../serve/serving.js";
import type { TrainReport } from "../train.js";
import { renderMemoryChart } from "./chart-svg.js";
import { explainLines } from "./explain.js";
import { explainGguf, ggufFileTable, ggufIntro, ggufNotes, ggufVerdict } from "./gguf.js";
import { Html, html, htmlTable, prose, type HtmlColumn } from "./html.js";
import { explainServing, fitsCell, servingTable, setupParts } from "./serving.js";
import { breakdownLines, headerParts, notIncluded, planRows } from "./table.js";
import { explainTrain, trainFitParts, trainIntro, trainRows } from "./train.js";
import type { PipelinePlan } from "../diffusers/pipeline-plan.js";
import { explainPipeline, OFFLOAD_NOTE, pipelineFitLines, pipelineHeaderParts, pipelineTable } from "./pipeline.js";
import { formatGB, formatGiB, formatInt } from "./units.js";

/**
 * The web page's view of a plan: the terminal's tables as HTML tables (the same cells), a stacked
 * bar per weight format against the GPU, the memory-vs-context chart, and `--explain` one click
 * away. `words` spells the library's option names as the page's fields do.
 */
export interface HtmlWords {
  words: (text: string) => string;
}

const BYTE_COLUMNS: HtmlColumn[] = [{ header: "bytes", numeric: true }, { header: "GiB (2^30)", numeric: true }, { header: "GB (10^9)", numeric: true }];
const byteCells = (bytes: number) => [formatInt(bytes), formatGiB(bytes), formatGB(bytes)];

export function renderPlanHtml(plan: Plan, { words }: HtmlWords): Html {
  const { kvCache } = plan;
  const sequences = `${formatInt(kvCache.sequences)} sequence${kvCache.sequences === 1 ? "" : "s"}`;
  const context = `context ${formatInt(kvCache.context)} tokens${plan.model.maxContext ? ` (max ${formatInt(plan.model.maxContext)})` : ""} × ${sequences} · KV cache in ${kvCache.dtype}`;
  const needs = htmlTable(
    "What the model needs",
    [{ header: "" }, ...BYTE_COLUMNS, { header: "how it is counted" }],
    planRows(plan).map(([name, bytes, detail]) => [name, ...byteCells(bytes), prose(words(detail))]),
    "needs",
  );
  const breakdown = breakdownLines(plan).filter((line) => line.trim() !== "");
  const explained = [...explainLines(plan).flatMap((line) => line.split("\n")), ...(plan.serving ? explainServing(plan.serving) : [])];
  return html`<section class="result" aria-labelledby="result-heading">
<h2 id="result-heading">${plan.model.id}</h2>
<p class="facts">${headerParts(plan).slice(1).join(" · ")}</p>
<p class="facts">${context}</p>
${plan.serving ? verdict(plan.serving) : ""}
${needs}
<p class="aside">${notIncluded(plan)}${plan.serving ? " The serving table estimates them, marked ~." : ""}</p>
${breakdown.length > 0 ? html`<pre class="breakdown">${breakdown.map((line) => line.replace(/^ {2}/, "")).join("\n")}</pre>` : ""}
${plan.serving ? servingSection(plan.serving) : ""}
<figure class="chart">
${chartMarkup(plan)}
<figcaption>Memory per GPU against context length, one line per weight format${plan.serving?.gpu ? `, with the ${plan.serving.gpu.name}'s capacity` : ""}.</figcaption>
</figure>
${explainBlock(explained, words)}
${messages(plan.notes, plan.warnings, words)}
</section>`;
}

/** The chart is vramplan's own SVG (every text in it escaped there); it is labelled for screen readers here. */
function chartMarkup(plan: Plan): Html {
  const svg = renderMemoryChart(plan).replace("<svg ", '<svg role="img" aria-label="Memory against context length" ');
  return new Html(svg);
}

/** The sentence a user acts on, for the first weight format. */
function verdict(serving: ServingPlan): Html {
  const scheme = serving.schemes[0];
  if (!scheme || scheme.fits === null || !serving.gpu) return html``;
  const where = `${serving.gpus} × ${serving.gpu.name} ${serving.gpu.memoryGiB} GB`;
  const request = `${formatInt(serving.batch)} × ${formatInt(serving.context)} tokens`;
  const text = scheme.fits
    ? `Fits: ${scheme.scheme} on ${where} holds ${request}${scheme.maxConcurrency !== null ? `, up to ${scheme.maxConcurrency.toFixed(2)}× concurrency at this context` : ""}.`
    : scheme.refusal
      ? `Refused: ${serving.engine.name} would not start ${scheme.scheme} on ${where}: ${scheme.refusal}${scheme.smallestGpuCount ? ` (${scheme.smallestGpuCount} GPUs would do)` : ""}.`
      : `Does not fit: ${scheme.scheme} on ${where} cannot hold ${request}${scheme.smallestGpuCount ? `; ${scheme.smallestGpuCount} of them would` : ""}.`;
  return html`<p id="verdict" class="verdict ${scheme.fits ? "fits" : "no-fit"}" role="status">${text}</p>`;
}

function servingSection(serving: ServingPlan): Html {
  const { header, rows } = servingTable(serving);
  const columns = header.map((cell, index) => ({ header: cell, numeric: index > 0 && index < header.length - 1 }));
  const [setup, ...conditions] = setupParts(serving);
  const table = htmlTable(conditions.join(" · "), columns, rows, "serving");
  return html`<section aria-labelledby="serving-heading">
<h3 id="serving-heading">${setup}</h3>
${table}
${serving.gpu && serving.device ? bars(serving) : ""}
${serving.candidates ? candidates(serving) : ""}
</section>`;
}

const SEGMENTS = [
  { key: "weights", label: "weights", color: "#1f5fa8" },
  { key: "kv", label: "KV cache at this batch", color: "#d9730d" },
  { key: "activations", label: "~activations", color: "#2f8a3b" },
  { key: "runtime", label: "~runtime and graphs", color: "#7d4fb0" },
] as const;

function segmentBytes(scheme: SchemeServing, batch: number): Record<(typeof SEGMENTS)[number]["key"], number> {
  return {
    weights: scheme.weightsPerGpu,
    kv: scheme.kvPerRequestBytes * batch,
    activations: scheme.activationBytes ?? 0,
    runtime: (scheme.runtimeBytes ?? 0) + (scheme.cudaGraphBytes ?? 0),
  };
}

/** One bar per weight format: its parts stacked against the GPU, the engine's limit as a dashed line. */
function bars(serving: ServingPlan): Html {
  const capacity = serving.device?.bytes ?? 1;
  const widest = Math.max(capacity, ...serving.schemes.map((scheme) => Object.values(segmentBytes(scheme, serving.batch)).reduce((a, b) => a + b, 0)));
  const width = 600;
  const scale = (bytes: number) => (bytes / widest) * width;
  const rows = serving.schemes.map((scheme) => {
    const parts = segmentBytes(scheme, serving.batch);
    let x = 0;
    const rects = SEGMENTS.map((segment) => {
      const w = scale(parts[segment.key]);
      const rect = html`<rect x="${x.toFixed(1)}" y="4" width="${Math.max(0, w).toFixed(1)}" height="22" fill="${segment.color}"><title>${segment.label}: ${formatGiB(parts[segment.key])} GiB</title></rect>`;
      x += w;
      return rect;
    });
    const total = Object.values(parts).reduce((a, b) => a + b, 0);
    const label = `${scheme.scheme}: ${SEGMENTS.map((segment) => `${segment.label} ${formatGiB(parts[segment.key])} GiB`).join(", ")}; ${formatGiB(total)} of ${formatGiB(capacity)} GiB (${fitsCell(scheme)})`;
    const usable = scheme.usableBytes ?? capacity;
    return html`<div class="bar-row"><span class="bar-label">${scheme.scheme}</span><svg class="bar" viewBox="0 0 ${width} 30" preserveAspectRatio="none" role="img" aria-label="${label}">
<rect x="0" y="4" width="${scale(capacity).toFixed(1)}" height="22" fill="#eef0f3" stroke="#6b7280"/>
${rects}
<line x1="${scale(capacity).toFixed(1)}" x2="${scale(capacity).toFixed(1)}" y1="0" y2="30" stroke="#111827" stroke-width="2"/>
<line x1="${scale(usable).toFixed(1)}" x2="${scale(usable).toFixed(1)}" y1="0" y2="30" stroke="#b42318" stroke-width="2" stroke-dasharray="4 3"/>
</svg><span class="bar-figure">${formatGiB(total)} of ${formatGiB(capacity)} GiB · ${fitsCell(scheme)}</span></div>`;
  });
  return html`<div class="bars" aria-label="Memory per GPU by weight format">
${rows}
<p class="legend">${SEGMENTS.map((segment) => html`<span><i class="seg-${segment.key}"></i>${segment.label}</span>`)}<span><i class="limit"></i>the memory the engine sizes against</span><span><i class="capacity"></i>the GPU</span></p>
</div>`;
}

function candidates(serving: ServingPlan): Html {
  const list = serving.candidates ?? [];
  const first = list[0]?.scheme ?? "";
  const rows = list.map((fit) => [
    `${fit.gpu.name} ${fit.gpu.memoryGiB} GB`,
    fit.fits ? `fits, max concurrency ${fit.maxConcurrency?.toFixed(2) ?? "—"}×` : fit.smallestGpuCount ? `does not fit; ${fit.smallestGpuCount} of them would` : "does not fit on up to 64",
  ]);
  return htmlTable(`Which GPUs fit ${first} at ${formatInt(serving.batch)} × ${formatInt(serving.context)} tokens (${serving.gpus} per model); choose one above for the full picture`, [{ header: "GPU" }, { header: "verdict" }], rows, "candidates");
}

function explainBlock(lines: readonly string[], words: (text: string) => string): Html {
  return html`<details class="explain"><summary>How each number is computed</summary>
<pre>${prose(words(lines.join("\n")))}</pre>
</details>`;
}

function messages(notes: readonly string[], warnings: readonly { message: string }[], words: (text: string) => string): Html {
  if (notes.length === 0 && warnings.length === 0) return html``;
  return html`<ul class="messages">
${warnings.map((warning) => html`<li class="warning"><strong>warning:</strong> ${prose(words(warning.message))}</li>\n`)}${notes.map((note) => html`<li class="note"><strong>note:</strong> ${prose(words(note))}</li>\n`)}</ul>`;
}

/** A GGUF repo: its file table, each file's fit and llama.cpp's layer split. */
export function renderGgufHtml(plan: GgufRepoPlan, { words }: HtmlWords): Html {
  const [first, ...rest] = ggufIntro(plan);
  const { header, rows } = ggufFileTable(plan);
  const columns = header.map((cell, index) => ({ header: cell, numeric: index >= 2 && cell !== "fits" }));
  const best = ggufVerdict(plan);
  return html`<section class="result" aria-labelledby="result-heading">
<h2 id="result-heading">${plan.model.id}</h2>
<p class="facts">${(first ?? []).slice(1).join(" · ")}</p>
${rest.map((parts) => html`<p class="facts">${parts.join(" · ")}</p>`)}
${best ? html`<p id="verdict" class="verdict ${plan.largestFitting ? "fits" : "no-fit"}" role="status">${best}</p>` : ""}
${htmlTable("GGUF files in this repo", columns, rows, "gguf-files")}
<p class="aside">Weights are exact: every tensor's rows × ceil(row / block) × block bytes, from the GGUF tensor table.</p>
${explainBlock(explainGguf(plan).map((line) => line.replace(/^ {2}/, "")), words)}
${messages(ggufNotes(plan), plan.warnings.map((message) => ({ message })), words)}
</section>`;
}

/** A training step's memory per GPU, with the verdict on the chosen GPU. */
export function renderTrainHtml(report: TrainReport, { words }: HtmlWords): Html {
  const [first, ...rest] = trainIntro(report);
  const fit = trainFitParts(report);
  const rows = trainRows(report).map(([label, detail, bytes]) => {
    const nested = label.startsWith("  ");
    return [html`<span class="${nested ? "sub" : ""}">${label.trim()}</span>`, prose(words(detail)), ...byteCells(bytes)];
  });
  const lora = report.lora;
  return html`<section class="result" aria-labelledby="result-heading">
<h2 id="result-heading">${report.model.id}</h2>
<p class="facts">${(first ?? []).slice(1).join(" · ")}</p>
${rest.map((parts) => html`<p class="facts">${parts.join(" · ")}</p>`)}
${fit ? html`<p id="verdict" class="verdict ${report.fit?.fits ? "fits" : "no-fit"}" role="status">${fit.join(" · ")}</p>` : ""}
${htmlTable("Memory per GPU for one training step", [{ header: "" }, { header: "how it is counted" }, ...BYTE_COLUMNS], rows, "train")}
${
  lora
    ? htmlTable(
        `LoRA adapters, r = ${lora.rank}: ${formatInt(lora.parameters)} parameters`,
        [{ header: "module" }, { header: "modules", numeric: true }, { header: "r × (in + out)" }, { header: "parameters", numeric: true }],
        lora.modules.map((module) => [module.name, formatInt(module.modules), `${lora.rank} × (${formatInt(module.inFeatures)} + ${formatInt(module.outFeatures)})`, formatInt(module.parameters)]),
        "lora",
      )
    : ""
}
${explainBlock(explainTrain(report), words)}
${messages([...report.sources, ...report.notes], report.warnings, words)}
</section>`;
}

/** A diffusers pipeline: each component's exact bytes, and how it runs on the GPU asked about. */
export function renderPipelineHtml(plan: PipelinePlan, { words }: HtmlWords): Html {
  const { header, rows } = pipelineTable(plan);
  const columns = header.map((cell, index) => ({ header: cell, numeric: index >= 3 && index <= 6 }));
  const fit = pipelineFitLines(plan);
  const allFit = plan.gpu?.allOnGpu.fits;
  return html`<section class="result" aria-labelledby="result-heading">
<h2 id="result-heading">${plan.model.id}</h2>
<p class="facts">${pipelineHeaderParts(plan).slice(1).join(" · ")}</p>
${fit && plan.gpu ? html`<p id="verdict" class="verdict ${allFit || plan.gpu.modelCpuOffload.fits ? "fits" : "no-fit"}" role="status">${allFit ? `Fits: every component's weights on 1 × ${plan.gpu.name} (${formatGiB(plan.gpu.allOnGpu.bytes)} of ${formatGiB(plan.gpu.device.bytes)} GiB).` : plan.gpu.modelCpuOffload.fits ? `Fits with offloading: ${plan.gpu.withoutTextEncoders.fits ? "free the text encoders after encoding the prompt, or " : ""}use enable_model_cpu_offload (${formatGiB(plan.gpu.modelCpuOffload.bytes)} GiB at a time).` : `Does not fit: even its largest component (${plan.gpu.modelCpuOffload.component}, ${formatGiB(plan.gpu.modelCpuOffload.bytes)} GiB) is more than the ${plan.gpu.name} holds.`}</p>` : ""}
${htmlTable("Components of this diffusers pipeline", columns, rows, "pipeline")}
${plan.components.some((component) => component.commonlyOffloaded) ? html`<p class="aside">${OFFLOAD_NOTE}</p>` : ""}
${fit ? htmlTable(fit.heading, [{ header: "how it runs" }, { header: "GiB", numeric: true }, { header: "weights" }], fit.rows, "pipeline-fit") : ""}
${explainBlock(explainPipeline(plan), words)}
${messages(plan.notes, plan.warnings.map((message) => ({ message })), words)}
</section>`;
}

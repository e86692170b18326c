import { isVramplanError, spellOptions } from "../errors.js";
import { inQueryWords, queryParameter } from "../cli/flags.js";
import { KV_DTYPE_CHOICES } from "../model/dtypes.js";
import type { RepoPlan } from "../plan-repo.js";
import { ENGINE_NAMES } from "../serve/engine-release.js";
import type { TrainReport } from "../train.js";
import { CHECKPOINTING } from "../train/activations.js";
import { OPTIMIZERS, PRECISIONS } from "../train/model-states.js";
import { TRAIN_METHODS } from "../train/train-plan.js";
import { Html, html } from "../report/html.js";
import { renderGgufHtml, renderPipelineHtml, renderPlanHtml, renderTrainHtml } from "../report/plan-html.js";

/**
 * The web page: one form per tab (inference at `/`, training at `/train`), submitted with GET so the
 * inputs live in the URL and a plan is a link. The server renders the result into the page, so it
 * works without scripts; page.js only adds presets, a busy state and "copy link". Query names are
 * the API's (`kv-dtype`, `micro-batch`), read through the CLI's option definitions like the API's.
 */
export interface PageGpu {
  name: string;
  vendor: string;
  memoryGiB: number;
}

export interface PageContext {
  gpus: readonly PageGpu[];
  plan: (model: string, query: Record<string, string>) => Promise<RepoPlan>;
  train: (model: string, query: Record<string, string>) => Promise<TrainReport>;
  /** HTTP status for an error the planner raised. */
  statusOf: (error: unknown) => number;
  scrub: (text: string) => string;
}

export interface PageAnswer {
  status: number;
  body: string;
}

/** The query a form sent, as the API reads it: empty fields dropped, repeated checkboxes joined. */
export function formQuery(params: URLSearchParams): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [name, value] of params) {
    if (value.trim() === "") continue;
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  }
  return query;
}

interface FieldError {
  field: string;
  message: string;
}

const PLAN_FIELDS = ["model", "context", "batch", "kv-dtype", "gpu", "gpus", "engine", "compare"];
const TRAIN_FIELDS = ["model", "method", "seq", "micro-batch", "grad-accum", "gpus", "gpu", "zero", "offload", "checkpointing", "precision", "optimizer", "lora-rank"];
/** Errors that are about the model the box names, whatever they say. */
const MODEL_CODES = new Set(["notFound", "accessDenied", "offlineNotCached", "malformed", "unsupported", "network", "chatTemplate"]);

/** The field an error belongs next to: the option it names, or the model box for the Hub's answers. */
function fieldError(error: unknown, fields: readonly string[]): FieldError {
  if (!isVramplanError(error)) return { field: "", message: error instanceof Error ? error.message : String(error) };
  const named: string[] = [];
  const message = spellOptions(error.template, (option) => {
    named.push(queryParameter(option));
    return queryParameter(option);
  }).replace(/(^|[\s(`"])--([a-z][a-z-]*)/g, (_match, before: string, flag: string) => {
    named.push(flag);
    return `${before}${flag}`;
  });
  const field = named.find((name) => fields.includes(name)) ?? (MODEL_CODES.has(error.code) || /model|repo/i.test(message) ? "model" : "");
  return { field, message };
}

/** One tab: its form filled from the query, and the result (or the error beside its field) when a model is named. */
interface Tab {
  name: "plan" | "train";
  fields: readonly string[];
  titles: { empty: string; model: (model: string) => string };
  form: (query: Record<string, string>, gpus: readonly PageGpu[], error: FieldError | null) => Html;
  render: (model: string, options: Record<string, string>, context: PageContext) => Promise<Html>;
}

const WORDS = { words: inQueryWords };

const PLAN_TAB: Tab = {
  name: "plan",
  fields: PLAN_FIELDS,
  titles: { empty: "vramplan: how much GPU memory does this model need?", model: (model) => `${model} · vramplan` },
  form: (query, gpus, error) => planForm(query, gpus, error),
  render: async (model, options, context) => {
    const answer = await context.plan(model, options);
    return answer.kind === "gguf" ? renderGgufHtml(answer.plan, WORDS) : answer.kind === "diffusers" ? renderPipelineHtml(answer.plan, WORDS) : renderPlanHtml(answer.plan, WORDS);
  },
};

const TRAIN_TAB: Tab = {
  name: "train",
  fields: TRAIN_FIELDS,
  titles: { empty: "vramplan: memory to train or fine-tune a model", model: (model) => `${model} training · vramplan` },
  form: (query, gpus, error) => trainForm(query, gpus, error),
  render: async (model, options, context) => renderTrainHtml(await context.train(model, options), WORDS),
};

async function answerTab(tab: Tab, params: URLSearchParams, context: PageContext): Promise<PageAnswer> {
  const query = formQuery(params);
  const model = query["model"];
  let result: Html = html``;
  let status = 200;
  let error: FieldError | null = null;
  if (model) {
    const { model: _model, ...options } = query;
    try {
      result = await tab.render(model, options, context);
    } catch (caught) {
      error = fieldError(caught, tab.fields);
      status = context.statusOf(caught);
    }
  }
  const title = model ? tab.titles.model(model) : tab.titles.empty;
  return { status, body: context.scrub(shell(tab.name, title, tab.form(query, context.gpus, error), result, error).markup) };
}

export const planPage = (params: URLSearchParams, context: PageContext): Promise<PageAnswer> => answerTab(PLAN_TAB, params, context);
export const trainPage = (params: URLSearchParams, context: PageContext): Promise<PageAnswer> => answerTab(TRAIN_TAB, params, context);

function shell(tab: "plan" | "train", title: string, form: Html, result: Html, error: FieldError | null): Html {
  const tabLink = (name: "plan" | "train", href: string, label: string) => html`<a href="${href}"${new Html(tab === name ? ' aria-current="page"' : "")}>${label}</a>`;
  // An error with no field of its own is said above the result, where a screen reader hears it.
  const general = error && error.field === "" ? html`<p class="error" role="alert" id="form-error">${error.message}</p>` : "";
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="/page.css">
<script src="/page.js" defer></script>
</head>
<body>
<a class="skip" href="#result">Skip to the result</a>
<header>
<p class="brand"><strong>vramplan</strong> — exact GPU memory for Hugging Face models: weights and KV cache counted from the checkpoint, serving engines' budgets, training.</p>
<nav aria-label="Tabs">${tabLink("plan", "/", "Inference")} ${tabLink("train", "/train", "Training")}</nav>
</header>
<main>
<h1>${tab === "plan" ? "How much GPU memory does this model need to serve?" : "How much GPU memory does training need?"}</h1>
${form}
${general}
<div id="result" tabindex="-1">${result}</div>
</main>
<footer><p>Bytes are exact where the checkpoint says so; figures marked ~ are estimates of the engine's own accounting, explained under “How each number is computed”. GiB = 2^30 bytes, GB = 10^9 bytes. The same plans as JSON: <a href="/v1/plan?model=Qwen/Qwen2.5-7B&amp;context=32k">/v1/plan</a>.</p></footer>
</body>
</html>
`;
}

function modelField(query: Record<string, string>, error: FieldError | null): Html {
  return field("model", "Model (Hugging Face id)", error, (describedBy) =>
    html`<input id="model" name="model" type="text" required autocomplete="off" spellcheck="false" placeholder="Qwen/Qwen2.5-7B" value="${query["model"] ?? ""}"${describedBy}>`,
  );
}

/** A labelled control with its hint and, when the last request failed there, its error. */
function field(name: string, label: string, error: FieldError | null, control: (describedBy: Html) => Html, hint?: string): Html {
  const failed = error?.field === name;
  const ids = [...(hint ? [`${name}-hint`] : []), ...(failed ? [`${name}-error`] : [])];
  const describedBy = new Html(`${ids.length > 0 ? ` aria-describedby="${ids.join(" ")}"` : ""}${failed ? ' aria-invalid="true"' : ""}`);
  return html`<div class="field${failed ? " invalid" : ""}">
<label for="${name}">${label}</label>
${control(describedBy)}
${hint ? html`<small id="${name}-hint">${hint}</small>` : ""}
${failed ? html`<p class="error" id="${name}-error" role="alert">${error?.message ?? ""}</p>` : ""}
</div>`;
}

function select(name: string, choices: readonly { value: string; label: string }[], chosen: string | undefined, describedBy: Html): Html {
  return html`<select id="${name}" name="${name}"${describedBy}>${choices.map(
    (choice) => html`<option value="${choice.value}"${new Html(choice.value === (chosen ?? "") ? " selected" : "")}>${choice.label}</option>`,
  )}</select>`;
}

function gpuSelect(gpus: readonly PageGpu[], chosen: string | undefined, describedBy: Html): Html {
  const vendors = [...new Set(gpus.map((gpu) => gpu.vendor))];
  const known = gpus.some((gpu) => gpuValue(gpu) === chosen);
  return html`<select id="gpu" name="gpu"${describedBy}>
<option value="">none: which common GPUs fit</option>
${chosen && !known ? html`<option value="${chosen}" selected>${chosen}</option>` : ""}
${vendors.map(
  (vendor) => html`<optgroup label="${vendor}">${gpus
    .filter((gpu) => gpu.vendor === vendor)
    .map((gpu) => html`<option value="${gpuValue(gpu)}"${new Html(gpuValue(gpu) === chosen ? " selected" : "")}>${gpu.name} ${gpu.memoryGiB} GB</option>`)}</optgroup>`,
)}
</select>`;
}

/** How the page names a GPU size: the CLI's `--gpu "A100 40"` (a trailing size picks it). */
export const gpuValue = (gpu: PageGpu) => `${gpu.name} ${gpu.memoryGiB}`;

const CONTEXT_PRESETS = ["4k", "8k", "32k", "128k"];
const COMPARE_FORMATS = ["bf16", "fp8", "int8", "int4", "nf4", "mxfp4", "nvfp4", "Q8_0", "Q4_K_M"];

function planForm(query: Record<string, string>, gpus: readonly PageGpu[], error: FieldError | null): Html {
  const compared = new Set((query["compare"] ?? "").split(",").map((name) => name.trim()).filter(Boolean));
  return html`<form id="plan-form" class="planner" method="get" action="/">
<fieldset><legend>Model</legend>
${modelField(query, error)}
</fieldset>
<fieldset><legend>Request</legend>
${field(
  "context",
  "Context (tokens per sequence)",
  error,
  (describedBy) => html`<input id="context" name="context" type="text" inputmode="numeric" placeholder="the model's maximum" value="${query["context"] ?? ""}"${describedBy}>
<span class="presets" role="group" aria-label="Context presets">${CONTEXT_PRESETS.map((preset) => html`<button type="button" class="preset" data-context="${preset}">${preset}</button>`)}<button type="button" class="preset" data-context="">max</button></span>`,
  "e.g. 32768 or 32k; empty: the model's maximum",
)}
${field("batch", "Batch (concurrent sequences)", error, (describedBy) => html`<input id="batch" name="batch" type="number" min="1" step="1" placeholder="1" value="${query["batch"] ?? ""}"${describedBy}>`)}
${field("kv-dtype", "KV cache type", error, (describedBy) => select("kv-dtype", KV_DTYPE_CHOICES.map((choice) => ({ value: choice === "auto" ? "" : choice, label: choice === "auto" ? "auto (the model's dtype)" : choice })), query["kv-dtype"], describedBy))}
</fieldset>
<fieldset><legend>Hardware</legend>
${field("gpu", "GPU", error, (describedBy) => gpuSelect(gpus, query["gpu"], describedBy))}
${field("gpus", "GPUs per model", error, (describedBy) => html`<input id="gpus" name="gpus" type="number" min="1" max="64" step="1" placeholder="1" value="${query["gpus"] ?? ""}"${describedBy}>`, "tensor parallel (llama.cpp: layer split)")}
${field("engine", "Engine", error, (describedBy) => select("engine", [{ value: "", label: "vllm (newest profile)" }, ...ENGINE_NAMES.filter((name) => name !== "vllm").map((name) => ({ value: name, label: name }))], query["engine"], describedBy))}
</fieldset>
<fieldset class="formats${error?.field === "compare" ? " invalid" : ""}"><legend>Weight formats to compare</legend>
${COMPARE_FORMATS.map(
  (format) => html`<label class="check"><input type="checkbox" name="compare" value="${format}"${new Html(compared.has(format) ? " checked" : "")}> ${format}</label>`,
)}
${[...compared].filter((format) => !COMPARE_FORMATS.includes(format)).map((format) => html`<label class="check"><input type="checkbox" name="compare" value="${format}" checked> ${format}</label>`)}
${error?.field === "compare" ? html`<p class="error" id="compare-error" role="alert">${error.message}</p>` : ""}
<small>None: the checkpoint's own format.</small>
</fieldset>
<div class="actions"><button type="submit" class="primary">Plan</button> <button type="button" id="copy-link" hidden>Copy link to this plan</button> <span id="busy" role="status" aria-live="polite"></span></div>
</form>`;
}

function trainForm(query: Record<string, string>, gpus: readonly PageGpu[], error: FieldError | null): Html {
  const choices = (values: readonly (string | number)[], fallback: string) => values.map((value) => ({ value: String(value) === fallback ? "" : String(value), label: String(value) === fallback ? `${value} (default)` : String(value) }));
  return html`<form id="train-form" class="planner" method="get" action="/train">
<fieldset><legend>Model</legend>
${modelField(query, error)}
${field("method", "Method", error, (describedBy) => select("method", choices(TRAIN_METHODS, "full"), query["method"], describedBy), "full fine-tune, LoRA, or QLoRA (NF4 base)")}
${field("lora-rank", "LoRA rank", error, (describedBy) => html`<input id="lora-rank" name="lora-rank" type="number" min="1" step="1" placeholder="16" value="${query["lora-rank"] ?? ""}"${describedBy}>`)}
</fieldset>
<fieldset><legend>Batch</legend>
${field("seq", "Sequence length", error, (describedBy) => html`<input id="seq" name="seq" type="text" inputmode="numeric" placeholder="4096" value="${query["seq"] ?? ""}"${describedBy}>`, "e.g. 4096 or 8k")}
${field("micro-batch", "Micro-batch per GPU", error, (describedBy) => html`<input id="micro-batch" name="micro-batch" type="number" min="1" step="1" placeholder="1" value="${query["micro-batch"] ?? ""}"${describedBy}>`)}
${field("grad-accum", "Gradient accumulation", error, (describedBy) => html`<input id="grad-accum" name="grad-accum" type="number" min="1" step="1" placeholder="1" value="${query["grad-accum"] ?? ""}"${describedBy}>`)}
</fieldset>
<fieldset><legend>Hardware and memory savers</legend>
${field("gpu", "GPU", error, (describedBy) => gpuSelect(gpus, query["gpu"], describedBy))}
${field("gpus", "Data-parallel GPUs", error, (describedBy) => html`<input id="gpus" name="gpus" type="number" min="1" max="1024" step="1" placeholder="1" value="${query["gpus"] ?? ""}"${describedBy}>`)}
${field("zero", "ZeRO stage", error, (describedBy) => select("zero", choices([0, 1, 2, 3], "0"), query["zero"], describedBy))}
${field("offload", "Offload to CPU", error, (describedBy) => select("offload", [{ value: "none", label: "none" }, { value: "optimizer", label: "optimizer states (ZeRO 1–3)" }, { value: "all", label: "optimizer and parameters (ZeRO 3)" }], query["offload"], describedBy))}
${field("checkpointing", "Activation checkpointing", error, (describedBy) => select("checkpointing", [{ value: "", label: "default (none; full for QLoRA)" }, ...CHECKPOINTING.map((value) => ({ value, label: value }))], query["checkpointing"], describedBy))}
${field("precision", "Precision", error, (describedBy) => select("precision", choices(PRECISIONS, "mixed-bf16"), query["precision"], describedBy))}
${field("optimizer", "Optimizer", error, (describedBy) => select("optimizer", choices(OPTIMIZERS, "adamw"), query["optimizer"], describedBy))}
</fieldset>
<div class="actions"><button type="submit" class="primary">Plan training</button> <button type="button" id="copy-link" hidden>Copy link to this plan</button> <span id="busy" role="status" aria-live="polite"></span></div>
</form>`;
}

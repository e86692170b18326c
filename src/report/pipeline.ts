import type { PipelinePlan } from "../diffusers/pipeline-plan.js";
import { messageLines, renderTable, wrapParts, wrapText, type Column, type Layout } from "./layout.js";
import { formatCount, formatGB, formatGiB, formatInt } from "./units.js";

/** The facts of a pipeline's first line. */
export function pipelineHeaderParts(plan: PipelinePlan): string[] {
  const { model } = plan;
  const origin = model.commit ? ` (${model.commit.slice(0, 7)})` : "";
  return [
    `${model.id} @ ${model.revision}${origin}`,
    `diffusers ${model.pipeline}${model.diffusersVersion ? ` (saved by diffusers ${model.diffusersVersion})` : ""}`,
    `${formatCount(plan.total.parameters)} parameters`,
    `${plan.components.length} components with weights`,
  ];
}

/** One row per component, then the total: the same cells in the terminal and on the web page. */
export function pipelineTable(plan: PipelinePlan): { header: string[]; rows: string[][] } {
  const header = ["component", "class", "role", "parameters", "bytes", "GiB (2^30)", "GB (10^9)", "stored as"];
  const rows = plan.components.map((component) => [
    component.name,
    component.className,
    `${component.role}${component.commonlyOffloaded ? " *" : ""}`,
    formatInt(component.parameters),
    formatInt(component.bytes),
    formatGiB(component.bytes),
    formatGB(component.bytes),
    component.byDtype.map((share) => share.dtype).join("+"),
  ]);
  rows.push(["total", "", "", formatInt(plan.total.parameters), formatInt(plan.total.bytes), formatGiB(plan.total.bytes), formatGB(plan.total.bytes), ""]);
  return { header, rows };
}

/** The ways to run it on the GPU asked about, weights only; null without a GPU. */
export function pipelineFitLines(plan: PipelinePlan): { heading: string; rows: string[][] } | null {
  const gpu = plan.gpu;
  if (!gpu) return null;
  const basis = gpu.device.basis === "nominal" ? "assumed" : gpu.device.basis === "override" ? "given" : "as CUDA reports it";
  const verdict = (fits: boolean) => (fits ? "fits" : "does not fit");
  return {
    heading: `On 1 × ${gpu.name} ${gpu.memoryGiB} GB (${formatGiB(gpu.device.bytes)} GiB ${basis}), weights only:`,
    rows: [
      ['all on the GPU (pipe.to("cuda"))', formatGiB(gpu.allOnGpu.bytes), verdict(gpu.allOnGpu.fits)],
      ["text encoders freed after encoding the prompt", formatGiB(gpu.withoutTextEncoders.bytes), verdict(gpu.withoutTextEncoders.fits)],
      [`pipe.enable_model_cpu_offload() (one at a time; largest: ${gpu.modelCpuOffload.component})`, formatGiB(gpu.modelCpuOffload.bytes), verdict(gpu.modelCpuOffload.fits)],
    ],
  };
}

/** --explain: each component's bytes by dtype, summed from its headers. */
export function explainPipeline(plan: PipelinePlan): string[] {
  const lines: string[] = [];
  for (const component of plan.components) {
    const terms = component.byDtype.map((share) => `${share.dtype} ${formatInt(share.elements)} elements ${formatInt(share.bytes)} B`).join(" + ");
    lines.push(`${component.name}: Σ stored bytes (data_offsets spans) of ${formatInt(component.tensors)} tensor${component.tensors === 1 ? "" : "s"} in ${component.files} safetensors file${component.files === 1 ? "" : "s"} = ${terms} = ${formatInt(component.bytes)} B`);
  }
  lines.push(`total = ${plan.components.map((component) => formatInt(component.bytes)).join(" + ")} = ${formatInt(plan.total.bytes)} B`);
  if (plan.gpu) lines.push("enable_model_cpu_offload keeps only the component running on the GPU (diffusers moves each to the GPU when called and back when the next one is): the largest component is what must fit at a time   [diffusers pipeline_utils.py enable_model_cpu_offload]");
  return lines;
}

export const OFFLOAD_NOTE = "* commonly offloaded: text and image encoders run once per prompt (encode, then free them, or let enable_model_cpu_offload move them)";

export function renderPipelinePlan(plan: PipelinePlan, options: { explain?: boolean } & Layout = {}): string {
  const layout: Layout = { width: options.width, words: options.words };
  const out = [...wrapParts(pipelineHeaderParts(plan), layout), ""];
  const { header, rows } = pipelineTable(plan);
  const columns: Column[] = header.map((cell, index) => ({ header: cell, align: index >= 3 && index <= 6 ? "right" : "left" }));
  out.push(...renderTable(columns, rows, { ...layout, indent: "  " }));
  if (plan.components.some((component) => component.commonlyOffloaded)) out.push(...wrapText(`  ${OFFLOAD_NOTE}`, layout, 4));
  const fit = pipelineFitLines(plan);
  if (fit) {
    out.push("", ...wrapText(fit.heading, layout));
    out.push(...renderTable([{ header: "", align: "left" }, { header: "GiB", align: "right" }, { header: "", align: "left" }], fit.rows, { ...layout, indent: "  " }));
  }
  if (options.explain) out.push("", "How each number is computed:", ...explainPipeline(plan).flatMap((line) => wrapText(`  ${line}`, layout, 4)));
  const messages = messageLines(plan.notes, plan.warnings.map((message) => ({ message })), layout);
  if (messages.length > 0) out.push("", ...messages);
  return out.join("\n") + "\n";
}

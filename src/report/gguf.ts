import type { GgufRepoPlan } from "../gguf/gguf-plan.js";
import { messageLines, renderTable, wrapParts, wrapText, type Column, type Layout } from "./layout.js";
import { formatBytes, formatCount, formatGiB, formatInt } from "./units.js";

/** A GGUF repo: one row per quantization file, with its fit on the GPU and llama.cpp's layer split. */
export function renderGgufPlan(plan: GgufRepoPlan, options: { explain?: boolean } & Layout = {}): string {
  const layout: Layout = { width: options.width, words: options.words };
  const out = ggufIntro(plan).flatMap((parts) => wrapParts(parts, layout));
  out.push("");

  const { header, rows } = ggufFileTable(plan);
  const columns: Column[] = header.map((cell, column) => ({ header: cell, align: column <= 1 ? "left" : "right" }));
  out.push(...renderTable(columns, rows, { ...layout, indent: "  " }));
  const verdict = ggufVerdict(plan);
  if (verdict) out.push("", ...wrapText(verdict, layout));
  out.push(...wrapText("Weights are exact: every tensor's rows × ceil(row / block) × block bytes, from the GGUF tensor table.", layout));
  if (options.explain) out.push("", "How each number is computed:", ...explainGguf(plan).flatMap((line) => wrapText(line, layout, 4)));
  out.push(...messageLines(ggufNotes(plan), plan.warnings.map((message) => ({ message })), layout));
  return out.join("\n") + "\n";
}

/** One row per quantization file; with a GPU, its fit and llama.cpp's layer split. */
export function ggufFileTable(plan: GgufRepoPlan): { header: string[]; rows: string[][] } {
  const { model } = plan;
  const gpu = plan.options.gpu;
  const header = ["file", "quant", "bits/weight", "weights (bytes)", "weights GiB", ...(gpu ? ["~all on GPU GiB", "fits", "--n-gpu-layers", "~RAM GiB"] : [])];
  const rows = plan.files.map((file) => {
    const cells = [
      file.files.length > 1 ? `${file.name} (${file.files.length} shards)` : file.name,
      file.quant ?? file.fileType ?? "?",
      file.weights.bitsPerWeight.toFixed(2),
      formatInt(file.weights.bytes),
      formatGiB(file.weights.bytes),
    ];
    if (gpu) {
      const split = file.gpuLayers === null ? "" : file.gpuLayers > model.layers ? `all (${file.gpuLayers})` : `${file.gpuLayers} of ${model.layers}`;
      const ram = file.ramBytes === null ? "" : `${formatGiB(file.ramBytes)}${file.fitsRam === false ? " (over --ram)" : ""}`;
      cells.push(formatGiB(file.fullOffloadBytes), file.fits ? "yes" : "no", split, ram);
    }
    return cells;
  });
  return { header, rows };
}

/** The lines above the file table: the model, its KV cache, the GPU (each a list of facts). */
export function ggufIntro(plan: GgufRepoPlan): string[][] {
  const { model } = plan;
  const origin = model.commit ? ` (${model.commit.slice(0, 7)})` : model.source === "builtin" ? " (built-in copy)" : "";
  const heads = model.kvHeads === model.attentionHeads ? `${model.attentionHeads} heads (MHA)` : `${model.attentionHeads} query / ${model.kvHeads} KV heads`;
  const out = [[`${model.id} @ ${model.revision}${origin}`, "GGUF", model.architecture, `${formatCount(model.parameters)} parameters`, `${model.layers} layers`, heads, `head_dim ${model.headDim}`]];
  const first = plan.files[0];
  const maxNote = model.maxContext ? ` (max ${formatInt(model.maxContext)})` : "";
  const sequences = `${formatInt(plan.options.batch)} sequence${plan.options.batch === 1 ? "" : "s"}`;
  if (first) {
    const { kvLayout } = plan;
    const cells = `${formatInt(kvLayout.cells)} cells${kvLayout.streams > 1 ? ` × ${kvLayout.streams} slots` : ""}${kvLayout.swaCells !== null ? `, SWA layers ${formatInt(kvLayout.swaCells)}` : ""}`;
    out.push([`context ${formatInt(plan.options.context)} tokens${maxNote} × ${sequences}`, `KV cache ${plan.options.kvType}: ${formatBytes(first.kvBytes)} exact; llama.cpp allocates ${formatGiB(first.kvAllocatedBytes)} GiB (${cells})`]);
  }
  const gpu = plan.options.gpu;
  if (gpu) {
    const capacity = plan.device ? `${formatGiB(plan.device.bytes)} GiB ${plan.device.basis === "nominal" ? "assumed" : plan.device.basis === "override" ? "given" : "as CUDA reports it"}` : `${gpu.memoryGiB} GB`;
    out.push([
      `on ${plan.options.gpus} × ${gpu.name} (${capacity}) with ${plan.options.engine}`,
      `n_ubatch ${plan.options.ubatch}, flash attention ${plan.options.flashAttention ? "on" : "off"}`,
      `~ = estimate: compute buffer ~${formatInt(Math.round((first?.computeBytes ?? 0) / 2 ** 20))} MiB, CUDA context ~${formatGiB(first?.runtimeBytes ?? 0)} GiB`,
      "GiB = 2^30 B",
    ]);
  }
  return out;
}

/** With a GPU: the largest file that fits entirely, or what to do when none does. */
export function ggufVerdict(plan: GgufRepoPlan): string | null {
  const gpu = plan.options.gpu;
  if (!gpu) return null;
  const best = plan.files.find((file) => file.name === plan.largestFitting);
  return best
    ? `largest that fits entirely: ${best.name} (${best.quant ?? best.fileType ?? "?"}, ${formatGiB(best.fullOffloadBytes)} GiB of ${formatGiB((gpu.bytes ?? 0) * plan.options.gpus)})`
    : "none fits entirely on the GPU: --n-gpu-layers shows how many layers llama.cpp can offload, the rest runs from system memory";
}

/** --explain for a GGUF repo: each file's tensor types, its buffers, llama.cpp's KV and compute arithmetic. */
export function explainGguf(plan: GgufRepoPlan): string[] {
  const explained: string[] = [];
  for (const file of plan.files) {
    const types = file.weights.byType.map((entry) => `${entry.type} ${formatInt(entry.tensors)} tensors ${formatInt(entry.bytes)} B`).join(", ");
    explained.push(`  ${file.name}: ${types} = ${formatInt(file.weights.bytes)} B for ${formatInt(file.weights.parameters)} parameters`);
  }
  for (const file of plan.files) {
    explained.push(`  ${file.name}: model buffers ${formatInt(file.gpuModelBufferBytes)} B on the GPU(s), ${formatInt(file.cpuModelBufferBytes)} B (token_embd) in system memory   [src/llama-model.cpp load_tensors]`);
  }
  explained.push(
    "  KV: per layer, K and V rows of head_count_kv × key_length values in the cache type's blocks (f16 2 B; q8_0 34 B / 32; q4_0 18 B / 32), × cells: n_ctx padded to 256, one stream per slot unless unified, SWA layers PAD_256(window + n_ubatch)   [src/llama-kv-cache.cpp, llama-kv-cache-iswa.cpp]",
    `  ~ compute buffer: ${plan.compute.formula}   [src/llama-context.cpp graph_reserve, src/llama-graph.cpp]`,
    "  all on GPU = weights − token_embd (llama.cpp keeps the input layer in system memory; with tied embeddings the output copy is on the GPU) + KV + compute buffer + CUDA context",
    "  --n-gpu-layers N offloads the last N repeating layers and their KV; N = layers + 1 offloads the output layer too",
  );
  return explained;
}

export function ggufNotes(plan: GgufRepoPlan): string[] {
  return [...(plan.projectors.length > 0 ? [`vision projector files (${plan.projectors.join(", ")}) are not planned`] : []), ...plan.notes];
}

import type { TrainReport } from "../train.js";
import { messageLines, renderTable, wrapParts, wrapText, type Column, type Layout } from "./layout.js";
import { formatCount, formatGB, formatGiB, formatInt } from "./units.js";

/** The table view of a training plan. */
export function renderTrainTable(report: TrainReport, options: { explain?: boolean } & Layout = {}): string {
  const o = report.options;
  const layout: Layout = { width: options.width, words: options.words };
  const out = [...trainIntro(report).flatMap((parts) => wrapParts(parts, layout)), ""];
  const rows = trainRows(report);
  const columns: Column[] = [
    { header: "", align: "left" },
    { header: "", align: "left", prose: true },
    { header: "bytes", align: "right" },
    { header: "GiB (2^30)", align: "right" },
    { header: "GB (10^9)", align: "right" },
  ];
  out.push(...renderTable(columns, rows.map(([label, detail, bytes]) => [label, detail, formatInt(bytes), formatGiB(bytes), formatGB(bytes)]), layout));
  const trainableBytes = report.modelStates.lines.filter((line) => line.kind !== "frozen").reduce((sum, line) => sum + line.bytes * (line.sharded ? o.gpus : 1), 0);
  if (report.parameters.trainable > 0 && o.zero === 0) {
    // The model states of what trains, not the total above: LoRA's frozen base is not in it.
    out.push(...wrapText(`  (trainable parameters' states: ${trimNumber(trainableBytes / report.parameters.trainable)} B each${report.lora ? "; the frozen base is billed apart" : ""})`, layout, 1));
  }
  const hostBytes = report.modelStates.lines.reduce((sum, line) => sum + (line.hostBytes ?? 0), 0);
  if (hostBytes > 0) out.push(...wrapText(`  in CPU memory instead (offload), per GPU's process: ${formatInt(hostBytes)} B = ${formatGiB(hostBytes)} GiB`, layout, 1));
  if (report.lora) {
    out.push("", `LoRA adapters, r = ${report.lora.rank}: ${formatInt(report.lora.parameters)} parameters`);
    for (const module of report.lora.modules) {
      out.push(`  ${module.name.padEnd(22)} ${formatInt(module.modules).padStart(6)} × ${report.lora.rank} × (${formatInt(module.inFeatures)} + ${formatInt(module.outFeatures)}) = ${formatInt(module.parameters)}`);
    }
  }
  const fit = trainFitParts(report);
  if (fit) out.push("", ...wrapParts(fit.slice(0, -1), layout), ...wrapText(fit[fit.length - 1] ?? "", layout));
  if (options.explain) out.push("", "How each number is computed:", ...explainTrain(report).flatMap((line) => wrapText(`  ${line}`, layout, 4)));
  const messages = messageLines([...report.sources, ...report.notes], report.warnings, layout);
  if (messages.length > 0) out.push("", ...messages);
  return out.join("\n") + "\n";
}

function describeActivations(report: TrainReport): string {
  const o = report.options;
  return `checkpointing ${o.checkpointing}, FlashAttention ${o.flashAttention ? "on" : "off"}`;
}

function trimNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(3).replace(/0+$/, "");
}

export function explainTrain(report: TrainReport): string[] {
  const o = report.options;
  const a = report.activations;
  const lines = [
    "model states (ZeRO, Rajbhandari et al. 2020): bytes per trainable parameter by precision and optimizer; ZeRO 1 shards the optimizer and fp32 master, 2 also gradients, 3 also weights",
    `activations per layer (Korthikanti et al. 2022, generalised to this model's shapes): ${formatInt(a.perLayer.linear)} B of s·b·h terms${a.perLayer.scores ? ` + ${formatInt(a.perLayer.scores)} B of attention scores` : ""}${a.perLayer.flashStatistics ? ` + ${formatInt(a.perLayer.flashStatistics)} B FlashAttention log-sum-exp` : ""} = ${formatInt(a.perLayer.total)} B at s = ${formatInt(o.seq)}, b = ${o.microBatch}`,
  ];
  if (o.zero === 3 && !o.fsdp && report.parameters.trainable === report.parameters.total) {
    lines.push("DeepSpeed ZeRO 3 (runtime/zero/stage3.py): gradients are reduced into fp32 partitions (18 B per parameter with AdamW over the GPUs, as estimate_zero3_model_states_mem_needs counts), and the largest module's 16-bit weights and gradients are gathered whole (4 B × its parameters)");
  }
  if (o.offload && o.offload !== "none") lines.push(`offload ${o.offload}: ${o.offload === "optimizer" ? "the fp32 master, moments and fp32 gradients live in CPU memory (DeepSpeed offload_optimizer)" : "every sharded state lives in CPU memory (DeepSpeed offload_param + offload_optimizer, or FSDP CPUOffload)"}; the GPU keeps what the step gathers`);
  if (o.method === "qlora") lines.push("QLoRA: PEFT's prepare_model_for_kbit_training casts embeddings and norms to fp32, so the hidden states between layers (and the norms' values) are fp32 while autocast runs the linears in 16 bits");
  if (o.checkpointing === "full") lines.push(`full checkpointing keeps each layer's input (${a.residualBytes}·s·b·h) and recomputes one layer at a time: ${formatInt(a.layersBytes)} B`);
  else lines.push(`${a.layers} layers × ${formatInt(a.perLayer.total)} = ${formatInt(a.layersBytes)} B${o.checkpointing === "selective" ? " (selective recomputation drops the score terms)" : ""}`);
  if (o.loss === "naive") lines.push(`logits and loss: ${formatInt(o.seq * o.microBatch)} positions × vocabulary × (2 B bf16 logits + 4 B fp32 copy + 4 B log-softmax + 4 B gradient) = ${formatInt(a.logitsBytes)} B; --loss chunked avoids it`);
  lines.push("gradient accumulation adds no activation memory: each micro-batch's activations are freed after its backward pass");
  return lines;
}

/** Per-GPU memory of a training step: label, how it is counted, bytes (sub-lines indented by two spaces). */
export function trainRows(report: TrainReport): [string, string, number][] {
  const o = report.options;
  const rows: [string, string, number][] = report.modelStates.lines.map((line) => [
    `  ${line.label}${line.sharded ? " (sharded)" : ""}`,
    `${trimNumber(line.bytesPerParameter)} B × ${formatInt(line.parameters)}`,
    line.bytes,
  ]);
  rows.unshift(["model states, per GPU", "", report.modelStates.bytes]);
  const activations = report.activations;
  rows.push(["~activations (estimate)", describeActivations(report), activations.total]);
  rows.push([`  layers (× ${activations.layers})`, "", activations.layersBytes]);
  rows.push(["  embeddings and final norm", "", activations.embeddingBytes]);
  rows.push([`  logits and loss`, o.loss === "naive" ? `b·s·V × ${o.precision === "fp32" ? 16 : 14} B` : "chunked loss", activations.logitsBytes]);
  rows.push(["~runtime (CUDA context, allocator)", "", report.runtimeBytes]);
  rows.push(["total per GPU", "", report.totalPerGpu]);
  return rows;
}

/** The lines above the table: the model and method, the batch arithmetic, what trains (each a list of facts). */
export function trainIntro(report: TrainReport): string[][] {
  const { options: o, batch } = report;
  const method = o.method === "full" ? "full fine-tune" : o.method === "lora" ? `LoRA r=${o.loraRank}` : `QLoRA r=${o.loraRank}`;
  return [
    [`${report.model.id} @ ${report.model.revision}${report.model.commit ? ` (${report.model.commit.slice(0, 7)})` : ""}`, report.model.modelType, `${formatCount(report.model.parameters)} parameters`, method, o.precision, o.optimizer],
    [`seq ${formatInt(o.seq)} × micro-batch ${batch.microBatch} × grad-accum ${batch.gradAccum} × ${batch.dataParallel} GPU${batch.dataParallel > 1 ? "s" : ""} (${o.fsdp ? "FSDP" : `ZeRO ${o.zero}`}${o.offload && o.offload !== "none" ? `, offload ${o.offload}` : ""}) = effective batch ${formatInt(batch.effective)} sequences, ${formatInt(batch.tokensPerStep)} tokens per step`],
    [`trainable: ${formatInt(report.parameters.trainable)} parameters`, ...(report.parameters.frozen ? [`frozen: ${formatInt(report.parameters.frozen)}`] : [])],
  ];
}

/** The verdict on the chosen GPU: fits, largest micro-batch, longest sequence, then the fewest GPUs (last). */
export function trainFitParts(report: TrainReport): string[] | null {
  const fit = report.fit;
  if (!fit) return null;
  const o = report.options;
  return [
    `on ${o.gpus} × ${fit.gpu.name} (${fit.gpu.memoryGiB} GB, ${formatGiB(fit.capacityBytes)} GiB as CUDA reports it): ${fit.fits ? "fits" : "does not fit"}`,
    `largest micro-batch at seq ${formatInt(o.seq)}: ${fit.largestMicroBatch > 0 ? fit.largestMicroBatch : "— (not even 1)"}`,
    `longest seq at micro-batch ${o.microBatch}: ${fit.longestSeq > 0 ? formatInt(fit.longestSeq) : "— (none fits)"}`,
    `fewest ${fit.gpu.name}s for this run: ${fit.smallestGpuCount === null ? "more than 64" : fit.smallestGpuCount}${fit.smallestGpuCount !== null && fit.smallestGpuCount > 1 ? ` with ${o.fsdp ? "FSDP" : `ZeRO ${fit.smallestGpuCountZero}`}${fit.smallestGpuCountFsdp !== null && fit.smallestGpuCountFsdp !== fit.smallestGpuCount ? `, ${fit.smallestGpuCountFsdp} with FSDP` : ""}${o.zero === 0 ? " (ZeRO 0 replicates every state, so it cannot use more GPUs)" : ""}` : ""}`,
  ];
}

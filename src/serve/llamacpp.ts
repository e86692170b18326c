import type { KvCacheEstimate, KvLayerGroup } from "../estimate/kv-cache.js";
import type { ModelSpec } from "../model/spec.js";
import { formatInt } from "../report/units.js";

/** llama.cpp pads KV cells to 256 (llama_kv_cache::get_padding, n_ctx rounding in llama-context.cpp). */
export const LLAMA_CPP_CELL_PADDING = 256;
/** The default micro-batch (n_ubatch) llama.cpp reserves its compute graph for. */
export const LLAMA_CPP_UBATCH = 512;
/** The KQ mask's token dimension is padded to this (GGML_KQ_MASK_PAD). */
const KQ_MASK_PAD = 64;

const pad = (value: number, to: number) => Math.ceil(value / to) * to;

export interface LlamaCppKvLayout {
  /** Cells per stream for full-context layers, and for sliding-window layers. */
  cells: number;
  swaCells: number | null;
  /** One stream shared by all slots (unified) or one per slot. */
  streams: number;
  bytes: number;
}

/**
 * What llama_kv_cache allocates for `slots` sequences of `context` tokens (llama-context.cpp,
 * llama-kv-cache.cpp, llama-kv-cache-iswa.cpp): n_ctx = context × slots padded to 256; without
 * --kv-unified each slot gets its own stream of n_ctx / slots cells (padded to 256); SWA layers
 * keep PAD_256(min(cells, n_swa × (unified ? slots : 1) + n_ubatch)) cells per stream; recurrent
 * layers one f32 state per slot.
 */
export function llamaCppKvLayout(kv: KvCacheEstimate, context: number, slots: number, options: { unified: boolean; ubatch: number }): LlamaCppKvLayout {
  const nCtx = pad(context * slots, LLAMA_CPP_CELL_PADDING);
  const streams = options.unified ? 1 : slots;
  const cells = options.unified ? nCtx : pad(nCtx / slots, LLAMA_CPP_CELL_PADDING);
  let swaCells: number | null = null;
  let bytes = 0;
  for (const group of kv.groups) {
    bytes += group.layers * groupBytesPerStream(group, cells, slots, options) * (group.kind === "state" ? 1 : streams);
    if (group.kind === "sliding" || group.kind === "chunked") swaCells = swaCellsFor(group, cells, slots, options);
  }
  return { cells, swaCells, streams, bytes };
}

function swaCellsFor(group: KvLayerGroup, cells: number, slots: number, options: { unified: boolean; ubatch: number }): number {
  const window = group.window ?? cells;
  return Math.min(cells, pad(window * (options.unified ? slots : 1) + options.ubatch, LLAMA_CPP_CELL_PADDING));
}

function groupBytesPerStream(group: KvLayerGroup, cells: number, slots: number, options: { unified: boolean; ubatch: number }): number {
  if (group.kind === "state") return group.bytesPerSequencePerLayer * Math.max(1, slots);
  const kept = group.kind === "sliding" || group.kind === "chunked" ? swaCellsFor(group, cells, slots, options) : cells;
  return group.bytesPerTokenPerLayer * kept;
}

export interface ComputeBuffer {
  bytes: number;
  peak: "attention scores" | "attention" | "output logits" | "feed-forward";
  formula: string;
}

/** Families whose GGUF keeps q, k and v in one attn_qkv tensor (Phi-3, GPT-NeoX, Falcon, GPT-2, StarCoder…). */
const FUSED_QKV_TYPES = new Set(["phi3", "phi", "gpt_neox", "falcon", "gpt2", "gpt_bigcode", "bloom", "mpt", "starcoder2", "stablelm", "chatglm", "internlm2", "dbrx"]);

/**
 * The compute buffer llama.cpp reserves for one n_ubatch of tokens (ggml-alloc's worst case over
 * the graph, llama-graph.cpp build_attn_mha / build_ffn / the output layer), all in f32:
 * - attention without flash attention: the scores KQ (n_kv × n_ubatch × n_head), the KQ mask
 *   (n_kv × n_ubatch padded to 64), and alive beside them the residual, the norm output, the q (or
 *   fused qkv) projection and the roped q, each n_ubatch rows wide;
 * - with flash attention no score matrix (the mask is f16);
 * - the output: logits for every token of the ubatch and the final norm output;
 * - the feed-forward: residual, norm output, gate, up and activation.
 * Checked against four logs to the MiB (docs/engines.md; test/serve/realworld.test.ts).
 */
export function llamaCppComputeBuffer(spec: ModelSpec, options: { kvCells: number; ubatch: number; flashAttention: boolean }): ComputeBuffer {
  const n = options.ubatch;
  const heads = spec.numAttentionHeads;
  const d = spec.headDim;
  const h = spec.hiddenSize;
  const fused = FUSED_QKV_TYPES.has(spec.modelType);
  const qProjection = fused ? (heads + 2 * spec.numKeyValueHeads) * d : heads * d;
  const beside = 4 * n * (2 * h + qProjection + heads * d);
  const maskRows = pad(n, KQ_MASK_PAD);
  const attention = options.flashAttention
    ? beside + options.kvCells * maskRows * 2
    : options.kvCells * n * heads * 4 + options.kvCells * maskRows * 4 + beside;
  const output = 4 * n * (spec.vocabSize + h);
  const moe = spec.moe;
  const ffnWidth = moe ? moe.expertsPerToken * 3 * moe.expertIntermediate + 3 * moe.sharedIntermediate : 3 * spec.intermediateSize;
  const ffn = 4 * n * (2 * h + ffnWidth);
  const candidates: [ComputeBuffer["peak"], number][] = [
    [options.flashAttention ? "attention" : "attention scores", attention],
    ["output logits", output],
    ["feed-forward", ffn],
  ];
  const [peak, bytes] = candidates.reduce((best, candidate) => (candidate[1] > best[1] ? candidate : best));
  const formula =
    peak === "attention scores"
      ? `KQ ${formatInt(options.kvCells)} cells × ${n} tokens × ${heads} heads × 4 B + mask ${formatInt(options.kvCells)} × ${maskRows} × 4 B + ${n} tokens × (2 × ${h} + ${qProjection} + ${heads * d}) × 4 B`
      : peak === "output logits"
        ? `${n} tokens × (vocab ${formatInt(spec.vocabSize)} + hidden ${h}) × 4 B`
        : peak === "feed-forward"
          ? `${n} tokens × (2 × ${h} + ${ffnWidth}) × 4 B`
          : `${n} tokens × (2 × ${h} + ${qProjection} + ${heads * d}) × 4 B + f16 mask ${formatInt(options.kvCells)} × ${maskRows} × 2 B`;
  return { bytes, peak, formula: `${formula} = ${formatInt(bytes)} B (one ubatch of ${n}, flash attention ${options.flashAttention ? "on" : "off"})` };
}

import type { ModelSpec } from "../model/spec.js";

/**
 * Parameter count derived from config.json alone, term by term (formulas.md "Parameter count",
 * engines.md §2.3). `active` is what one token passes through: everything but the routed experts,
 * plus `num_experts_per_tok` of them in each MoE layer (embeddings included, as Mixtral's 12.9 B).
 */
export interface ConfigParameters {
  total: number;
  active: number;
  embeddings: number;
  positionEmbeddings: number;
  lmHead: number;
  finalNorm: number;
  /** Summed over layers. */
  attention: number;
  /** Mamba / gated delta-net mixers of hybrid and state-space layers, and SambaY's cache-sharing ones. */
  ssmMixers: number;
  attentionLayers: number;
  denseMlp: number;
  routedExperts: number;
  sharedExperts: number;
  routers: number;
  norms: number;
  /** Per layer, for the explanation: the first layer of each kind. */
  attentionPerLayer: number;
  denseMlpPerLayer: number;
  expertPerLayer: number;
  normsPerLayer: number;
  denseLayers: number;
  moeLayers: number;
  /** The multi-token-prediction module the checkpoint ships (not in `total`: engines load it only to speculate); null where vramplan does not know its modules. */
  multiTokenPrediction: number | null;
}

/** Null for the SSM families, whose mixers vramplan counts from the safetensors headers only. */
export function configParameters(spec: ModelSpec): ConfigParameters | null {
  if (!spec.parametersFromConfig) return null;
  const h = spec.hiddenSize;
  const { layout } = spec;

  const attentionPerLayer = spec.numAttentionHeads === 0 ? 0 : spec.mla ? mlaAttention(spec) : standardAttention(spec);
  const gatedProjections = (intermediate: number) => (layout.mlp === "gated" ? 3 * h * intermediate : 2 * h * intermediate);
  const mlpBias = (intermediate: number) => (layout.mlpBias ? (layout.mlp === "gated" ? 2 * intermediate : intermediate) + h : 0);
  const denseMlpPerLayer = gatedProjections(spec.intermediateSize) + mlpBias(spec.intermediateSize);

  const normWidth = layout.norm === "layer" ? 2 * h : h;
  const normsPerLayer = layout.normsPerLayer * normWidth;

  let expertPerLayer = 0;
  let sharedPerLayer = 0;
  let routerPerLayer = 0;
  if (spec.moe) {
    const moe = spec.moe;
    // gpt-oss experts carry a bias on the fused gate_up (2 × f) and on down (h).
    expertPerLayer = 3 * h * moe.expertIntermediate + (moe.expertBias ? 2 * moe.expertIntermediate + h : 0);
    sharedPerLayer = moe.sharedIntermediate > 0 ? 3 * h * moe.sharedIntermediate + (moe.sharedExpertGate ? h : 0) : 0;
    routerPerLayer = h * moe.experts + (moe.routerBias ? moe.experts : 0);
  }

  const moeLayers = spec.layers.filter((layer) => layer.mlp === "moe").length;
  const denseLayers = spec.layers.filter((layer) => layer.mlp === "dense").length;
  // Hybrids: attention only where a layer attends; SSM mixers where it carries a state.
  const attentionLayers = spec.layers.filter((layer) => layer.caches.some((cache) => cache.kind !== "state")).length;
  let mixers = 0;
  for (const layer of spec.layers) {
    for (const cache of layer.caches) if (cache.kind === "state") mixers += cache.mixerParameters ?? 0;
    mixers += layer.sharedMixer?.parameters ?? 0;
  }
  const experts = spec.moe?.experts ?? 0;
  const perToken = spec.moe?.expertsPerToken ?? 0;

  const embeddings = spec.vocabSize * h;
  const positionEmbeddings = layout.learnedPositions * h;
  const lmHead = spec.tiedEmbeddings ? 0 : spec.vocabSize * h;
  const attention = attentionLayers * attentionPerLayer;
  const denseMlp = denseLayers * denseMlpPerLayer;
  const routedExperts = moeLayers * experts * expertPerLayer;
  const sharedExperts = moeLayers * sharedPerLayer;
  const routers = moeLayers * routerPerLayer;
  const norms = spec.numLayers * normsPerLayer;
  const always = embeddings + positionEmbeddings + lmHead + normWidth + attention + mixers + denseMlp + sharedExperts + routers + norms;
  // Qwen3-Next's module: a full-attention MoE layer, fc (2h → h) and three norms. DeepSeek-V3's
  // and GLM-4.5's: the same decoder layer, enorm, hnorm, eh_proj (2h → h), shared_head.norm, and
  // their own embed_tokens and shared_head.head (vocab × h each), stored beside the model's.
  // Its MLP is the model's: routed and shared experts with a router, or Qwen3.5's dense one.
  const mtpMlp = experts > 0 ? experts * expertPerLayer + sharedPerLayer + routerPerLayer : denseMlpPerLayer;
  const mtpLayer = attentionPerLayer + normsPerLayer + mtpMlp + 2 * h * h + 3 * normWidth;
  const multiTokenPrediction =
    spec.multiTokenPredictionLayers === 0
      ? 0
      : spec.multiTokenPredictionKind === "qwen3_next"
        ? spec.multiTokenPredictionLayers * mtpLayer
        : spec.multiTokenPredictionKind === "deepseek" && experts > 0
          ? spec.multiTokenPredictionLayers * (mtpLayer + 2 * spec.vocabSize * h)
          : null;
  return {
    total: always + routedExperts,
    active: always + moeLayers * perToken * expertPerLayer,
    embeddings,
    positionEmbeddings,
    lmHead,
    finalNorm: normWidth,
    attention,
    ssmMixers: mixers,
    attentionLayers,
    denseMlp,
    routedExperts,
    sharedExperts,
    routers,
    norms,
    attentionPerLayer,
    denseMlpPerLayer,
    expertPerLayer,
    normsPerLayer,
    denseLayers,
    moeLayers,
    multiTokenPrediction,
  };
}


function standardAttention(spec: ModelSpec): number {
  const h = spec.hiddenSize;
  const { layout } = spec;
  const qWidth = spec.numAttentionHeads * spec.headDim;
  const kvWidth = spec.numKeyValueHeads * spec.headDim;
  return (
    h * qWidth * (layout.gatedAttention ? 2 : 1) + // q (and Qwen3-Next's output gate)
    2 * h * kvWidth + // k, v
    qWidth * h + // o
    (layout.qkvBias ? qWidth + 2 * kvWidth : 0) +
    (layout.outputBias ? h : 0) +
    (layout.qkNorm ? (layout.qkNormAcrossHeads ? qWidth + kvWidth : 2 * spec.headDim) : 0) +
    (layout.attentionSinks ? spec.numAttentionHeads : 0) +
    (layout.differentialAttention ? 6 * spec.headDim : 0)
  );
}

/** DeepSeek MLA, as Megatron counts it: latent projections with their norms (engines.md §2.3). */
function mlaAttention(spec: ModelSpec): number {
  const mla = spec.mla;
  if (!mla) return 0;
  const h = spec.hiddenSize;
  const a = spec.numAttentionHeads;
  const qHead = mla.qkNopeHeadDim + mla.qkRopeHeadDim;
  const q = mla.qLoraRank === null ? h * a * qHead : h * mla.qLoraRank + mla.qLoraRank + mla.qLoraRank * a * qHead;
  const kv = h * (mla.kvLoraRank + mla.qkRopeHeadDim) + mla.kvLoraRank + mla.kvLoraRank * a * (mla.qkNopeHeadDim + mla.vHeadDim);
  const o = a * mla.vHeadDim * h;
  // DeepSeek-V3.2's indexer (vLLM deepseek_v2.py Indexer): wq_b from the q latent, wk, a k_norm
  // LayerNorm (weight and bias) and weights_proj scoring its heads.
  const indexer = mla.indexer;
  const lightning = indexer ? (mla.qLoraRank ?? h) * indexer.heads * indexer.headDim + h * indexer.headDim + 2 * indexer.headDim + h * indexer.heads : 0;
  return q + kv + o + lightning;
}

import type { TensorManifest } from "./manifest.js";
import type { LayerCache, ModelSpec } from "./spec.js";

/**
 * A config.json that contradicts its own checkpoint (head_dim 1e6 while k_proj is [1024, 4096])
 * would give an "exact" KV cache off by any factor. Where the checkpoint's headers are known, the
 * text model's k_proj and v_proj rows are checked against KV heads × head size; on disagreement
 * the headers win, and the plan says so.
 */
export interface HeaderCheck {
  spec: ModelSpec;
  warning: string | undefined;
}

/** Tensors of the text model's attention, not a vision or audio tower's, nor an MTP module's. */
const PROJECTION = /(?:^|\.)layers\.(\d+)\.self_attn\.([kqv])_proj\.weight$/;
const OTHER_TOWER = /vision|visual|image|audio|encoder|mtp/;
/** Dtypes whose stored shape is the logical one (packed GPTQ/AWQ/NF4 tensors are not). */
const PLAIN_DTYPES = new Set(["F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2"]);

type Attention = Extract<LayerCache, { kvHeads: number }>;

export function checkAttentionAgainstHeaders(spec: ModelSpec, manifest: TensorManifest | undefined): HeaderCheck {
  if (!manifest) return { spec, warning: undefined };
  const rows = new Map<string, number>();
  for (const file of manifest.files) {
    for (const tensor of file.tensors) {
      const match = PROJECTION.exec(tensor.name);
      if (!match || OTHER_TOWER.test(tensor.name) || !PLAIN_DTYPES.has(tensor.dtype) || tensor.shape.length !== 2) continue;
      rows.set(`${match[1]}.${match[2]}`, tensor.shape[0] as number);
    }
  }
  const layerIndex = spec.layers.findIndex((layer, index) => rows.has(`${index}.k`) && layer.caches.some(isAttention));
  if (layerIndex < 0) return { spec, warning: undefined };
  const cache = spec.layers[layerIndex]?.caches.find(isAttention) as Attention;
  const kRows = rows.get(`${layerIndex}.k`) as number;
  const vRows = rows.get(`${layerIndex}.v`);
  if (kRows === cache.kvHeads * cache.keyDim && (vRows === undefined || vRows === cache.kvHeads * cache.valueDim)) return { spec, warning: undefined };

  const said = `config.json gives ${cache.kvHeads} KV heads × head size ${cache.keyDim} (${cache.kvHeads * cache.keyDim} rows), but layer ${layerIndex}'s k_proj has ${kRows}`;
  // The query projection names the head size: q rows / attention heads.
  const qRows = rows.get(`${layerIndex}.q`);
  const headDim = qRows !== undefined && qRows % spec.numAttentionHeads === 0 ? qRows / spec.numAttentionHeads : undefined;
  const kvHeads = headDim !== undefined && kRows % headDim === 0 ? kRows / headDim : undefined;
  if (headDim === undefined || kvHeads === undefined || kvHeads < 1 || (vRows !== undefined && vRows % kvHeads !== 0)) {
    return { spec, warning: `${said}: the headers do not say which is right, so the KV cache follows config.json and may be wrong` };
  }
  const valueDim = vRows === undefined ? headDim : vRows / kvHeads;
  const fix = (layerCache: LayerCache): LayerCache =>
    isAttention(layerCache) && layerCache.kvHeads === cache.kvHeads && layerCache.keyDim === cache.keyDim ? { ...layerCache, kvHeads, keyDim: headDim, valueDim } : layerCache;
  const corrected: ModelSpec = {
    ...spec,
    numKeyValueHeads: spec.numKeyValueHeads === cache.kvHeads ? kvHeads : spec.numKeyValueHeads,
    headDim: spec.headDim === cache.keyDim ? headDim : spec.headDim,
    layers: spec.layers.map((layer) => ({ ...layer, caches: layer.caches.map(fix) })),
  };
  return { spec: corrected, warning: `${said}: planned from the checkpoint's headers, ${kvHeads} KV heads × head size ${headDim}` };
}

function isAttention(cache: LayerCache): cache is Attention {
  return cache.kind === "full" || cache.kind === "sliding" || cache.kind === "chunked";
}

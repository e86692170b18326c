import type { ModelSpec } from "../model/spec.js";

/**
 * An encoder's activations in one inference forward pass (no gradients kept), at their peak. A
 * BERT-style layer (modeling_bert.py with SDPA attention, no s × s score matrix stored) holds
 * its input x while computing either attention (q, k, v and the context: 4 more b·s·h) or the
 * MLP (the fc1 output and the GELU of it: 2 × b·s·i); the larger of the two is the peak, one layer
 * at a time, since each layer's input replaces the previous one's. An estimate: masks, the
 * framework's workspace and the pooler's small tensors are left out.
 */
export interface EncoderActivations {
  bytes: number;
  /** Values held at the peak, per token of the batch. */
  perToken: number;
  bytesPerElement: number;
  formula: string;
}

export function encoderForwardActivations(spec: ModelSpec, batch: number, sequence: number, bytesPerElement: number): EncoderActivations {
  const h = spec.hiddenSize;
  const i = spec.intermediateSize;
  const attention = 5 * h;
  const mlp = h + 2 * i;
  const perToken = Math.max(attention, mlp);
  const tokens = batch * sequence;
  const bytes = tokens * perToken * bytesPerElement;
  const which = mlp >= attention ? `MLP peak h + 2·i = ${h} + 2 × ${i}` : `attention peak 5·h = 5 × ${h}`;
  return {
    bytes,
    perToken,
    bytesPerElement,
    formula: `${batch} × ${sequence} tokens × ${perToken} values (${which}) × ${bytesPerElement} B`,
  };
}

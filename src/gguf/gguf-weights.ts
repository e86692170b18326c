import { UnsupportedModelError } from "../errors.js";
import type { GgufFileHeader } from "./gguf-header.js";
import { GGML_TYPES, ggmlTensorBytes } from "./ggml-types.js";

/** The exact bytes of a GGUF file's tensors, and where llama.cpp puts them. */
export interface GgufWeights {
  /** Σ over tensors of rows × ceil(row / block values) × block bytes. */
  bytes: number;
  /** Σ of tensor elements: GGUF stores logical shapes, so these are the parameters. */
  parameters: number;
  byType: { type: string; tensors: number; elements: number; bytes: number }[];
  /** Bytes of each repeating block `blk.N.*`, by N: what `--n-gpu-layers` moves. */
  layerBytes: number[];
  /** token_embd: llama.cpp keeps the input layer in system memory. */
  tokenEmbeddingBytes: number;
  /** output.weight, or with tied embeddings the copy of token_embd llama.cpp makes for it. */
  outputBytes: number;
  tiedEmbeddings: boolean;
  /** Everything else (output norm, rope frequencies…), on the GPU with the output. */
  otherBytes: number;
}

export function ggufWeights(headers: readonly GgufFileHeader[], display: string): GgufWeights {
  const byType = new Map<string, { type: string; tensors: number; elements: number; bytes: number }>();
  const layerBytes: number[] = [];
  let bytes = 0;
  let parameters = 0;
  let tokenEmbeddingBytes = 0;
  let outputBytes: number | undefined;
  let otherBytes = 0;
  for (const header of headers) {
    for (const tensor of header.tensors) {
      const type = GGML_TYPES.get(tensor.type);
      if (!type) throw new UnsupportedModelError(`${display}: tensor ${tensor.name} has ggml type id ${tensor.type}, which vramplan does not know`);
      const tensorBytes = ggmlTensorBytes(type, tensor.shape);
      const elements = tensor.shape.reduce((product, dim) => product * dim, 1);
      bytes += tensorBytes;
      parameters += elements;
      const entry = byType.get(type.name) ?? { type: type.name, tensors: 0, elements: 0, bytes: 0 };
      entry.tensors += 1;
      entry.elements += elements;
      entry.bytes += tensorBytes;
      byType.set(type.name, entry);
      const layer = /^blk\.(\d+)\./.exec(tensor.name);
      if (layer) {
        const index = Number(layer[1]);
        layerBytes[index] = (layerBytes[index] ?? 0) + tensorBytes;
      } else if (tensor.name === "token_embd.weight") tokenEmbeddingBytes += tensorBytes;
      else if (tensor.name === "output.weight") outputBytes = tensorBytes;
      else otherBytes += tensorBytes;
    }
  }
  for (let index = 0; index < layerBytes.length; index++) layerBytes[index] ??= 0;
  return {
    bytes,
    parameters,
    byType: [...byType.values()].sort((a, b) => b.bytes - a.bytes),
    layerBytes,
    tokenEmbeddingBytes,
    outputBytes: outputBytes ?? tokenEmbeddingBytes,
    tiedEmbeddings: outputBytes === undefined,
    otherBytes,
  };
}

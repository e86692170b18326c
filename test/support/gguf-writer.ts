import { VirtualFile } from "./virtual-file.js";

/**
 * Writes GGUF files for tests, from the format's specification (ggml docs/gguf.md), independently
 * of any parser: "GGUF", version 3, tensor and key-value counts (u64), the key-values, the tensor
 * infos (name, n_dims, dims in ggml order, ggml type id, offset into the data), padding to the
 * alignment; then the data region, here virtual zeros of each tensor's real size.
 */
export type GgufValue =
  | { type: "u32"; value: number }
  | { type: "i32"; value: number }
  | { type: "f32"; value: number }
  | { type: "bool"; value: boolean }
  | { type: "string"; value: string }
  | { type: "u64"; value: number }
  | { type: "array-string"; value: string[] }
  | { type: "array-i32"; value: number[] };

export interface GgufTensorSpec {
  name: string;
  /** ggml type id (0 F32, 1 F16, 8 Q8_0, 12 Q4_K, 14 Q6_K, …). */
  type: number;
  /** ggml order: the row length first. */
  shape: number[];
  /** Bytes of the tensor's data, worked out by the caller from the type's block layout. */
  bytes: number;
}

const VALUE_TYPE = { u32: 4, i32: 5, f32: 6, bool: 7, string: 8, array: 9, u64: 10 } as const;
const ALIGNMENT = 32;

class Writer {
  private chunks: Uint8Array[] = [];
  length = 0;
  private push(bytes: Uint8Array) {
    this.chunks.push(bytes);
    this.length += bytes.length;
  }
  u32(value: number) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, value, true);
    this.push(bytes);
  }
  i32(value: number) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setInt32(0, value, true);
    this.push(bytes);
  }
  f32(value: number) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setFloat32(0, value, true);
    this.push(bytes);
  }
  u64(value: number) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(value), true);
    this.push(bytes);
  }
  u8(value: number) {
    this.push(new Uint8Array([value]));
  }
  string(value: string) {
    const bytes = new TextEncoder().encode(value);
    this.u64(bytes.length);
    this.push(bytes);
  }
  raw(bytes: Uint8Array) {
    this.push(bytes);
  }
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

function writeValue(writer: Writer, value: GgufValue) {
  switch (value.type) {
    case "u32":
      writer.u32(VALUE_TYPE.u32);
      return writer.u32(value.value);
    case "i32":
      writer.u32(VALUE_TYPE.i32);
      return writer.i32(value.value);
    case "f32":
      writer.u32(VALUE_TYPE.f32);
      return writer.f32(value.value);
    case "bool":
      writer.u32(VALUE_TYPE.bool);
      return writer.u8(value.value ? 1 : 0);
    case "string":
      writer.u32(VALUE_TYPE.string);
      return writer.string(value.value);
    case "u64":
      writer.u32(VALUE_TYPE.u64);
      return writer.u64(value.value);
    case "array-string":
      writer.u32(VALUE_TYPE.array);
      writer.u32(VALUE_TYPE.string);
      writer.u64(value.value.length);
      for (const item of value.value) writer.string(item);
      return;
    case "array-i32":
      writer.u32(VALUE_TYPE.array);
      writer.u32(VALUE_TYPE.i32);
      writer.u64(value.value.length);
      for (const item of value.value) writer.i32(item);
      return;
  }
}

const pad = (offset: number) => Math.ceil(offset / ALIGNMENT) * ALIGNMENT;

/** The file as a VirtualFile: the real header, then zeros for the data, at the real total size. */
export function buildGguf(metadata: Record<string, GgufValue>, tensors: GgufTensorSpec[]): VirtualFile {
  const writer = new Writer();
  writer.raw(new TextEncoder().encode("GGUF"));
  writer.u32(3);
  writer.u64(tensors.length);
  writer.u64(Object.keys(metadata).length);
  for (const [key, value] of Object.entries(metadata)) {
    writer.string(key);
    writeValue(writer, value);
  }
  let dataOffset = 0;
  for (const tensor of tensors) {
    writer.string(tensor.name);
    writer.u32(tensor.shape.length);
    for (const dim of tensor.shape) writer.u64(dim);
    writer.u32(tensor.type);
    writer.u64(dataOffset);
    dataOffset = pad(dataOffset + tensor.bytes);
  }
  const header = writer.bytes();
  const dataStart = pad(header.length);
  const padded = new Uint8Array(dataStart);
  padded.set(header);
  return new VirtualFile(padded, dataStart + dataOffset);
}

export const u32 = (value: number): GgufValue => ({ type: "u32", value });
export const f32 = (value: number): GgufValue => ({ type: "f32", value });
export const str = (value: string): GgufValue => ({ type: "string", value });

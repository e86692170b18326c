/** A large file as bytes-on-demand: a real header, then zeros up to `size` (weights are never read). */
export class VirtualFile {
  constructor(
    readonly header: Uint8Array,
    readonly size: number,
  ) {}

  /** Bytes [start, end] inclusive; past the header they are zeros. */
  read(start: number, end: number): Uint8Array {
    const out = new Uint8Array(end - start + 1);
    if (start < this.header.length) out.set(this.header.subarray(start, Math.min(end + 1, this.header.length)));
    return out;
  }
}

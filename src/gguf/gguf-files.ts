/**
 * The quantization files of a GGUF repo, from its file list: one entry per .gguf file, a sharded
 * set (`name-00001-of-00003.gguf`, …) as one entry, vision projectors (`mmproj-*.gguf`) apart.
 */
export interface GgufSet {
  /** The file name without `.gguf`, or a shard set's common prefix. */
  name: string;
  files: string[];
  /** The quantization the name says (Q4_K_M, Q8_0, F16, UD-Q4_K_XL…), or null. */
  quant: string | null;
}

const SHARD = /^(?<prefix>.*?)-(?<shard>\d{5})-of-(?<total>\d{5})\.gguf$/;

export function groupGgufFiles(paths: readonly string[], quantLabel: (name: string) => string | undefined): { sets: GgufSet[]; projectors: string[] } {
  const sets = new Map<string, GgufSet>();
  const projectors: string[] = [];
  for (const path of [...paths].sort()) {
    if (!path.toLowerCase().endsWith(".gguf")) continue;
    const file = path.slice(path.lastIndexOf("/") + 1);
    if (/mmproj/i.test(file)) {
      projectors.push(path);
      continue;
    }
    const shard = SHARD.exec(path);
    const name = shard?.groups ? (shard.groups["prefix"] as string) : path.slice(0, -".gguf".length);
    const set = sets.get(name) ?? { name, files: [], quant: quantLabel(name.slice(name.lastIndexOf("/") + 1)) ?? null };
    set.files.push(path);
    sets.set(name, set);
  }
  return { sets: [...sets.values()], projectors };
}

/** The set `--file` names: a file of it, its name, or its quantization label (case-insensitive). */
export function findGgufSet<Set extends GgufSet>(sets: readonly Set[], wanted: string): Set | undefined {
  const key = wanted.trim().toLowerCase().replace(/\.gguf$/, "");
  return (
    sets.find((set) => set.files.some((file) => file.toLowerCase().replace(/\.gguf$/, "") === key) || set.name.toLowerCase() === key) ??
    sets.find((set) => set.quant?.toLowerCase() === key)
  );
}

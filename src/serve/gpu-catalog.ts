import { UsageError } from "../errors.js";

/** A GPU (or unified-memory SoC) with one of its memory sizes. */
export interface Gpu {
  name: string;
  vendor: string;
  /** Nominal memory as sold, in GiB (GPU memory comes in binary sizes: "80GB" is 80 GiB). */
  memoryGiB: number;
  bytes: number;
  /** Other memory sizes the same SKU comes in. */
  otherSizes: number[];
}

interface CatalogEntry {
  name: string;
  vendor: string;
  memory: number[];
  key: string;
}

type Skus = Record<string, Record<string, Record<string, { memory?: number[] }>>>;

let catalog: Promise<CatalogEntry[]> | undefined;

/** @huggingface/tasks's hardware catalog, loaded on first use (it is 40 ms of module loading). */
export function loadCatalog(): Promise<CatalogEntry[]> {
  catalog ??= import("@huggingface/tasks").then(({ SKUS }) => {
    const entries: CatalogEntry[] = [];
    for (const [kind, vendors] of Object.entries(SKUS as unknown as Skus)) {
      if (kind !== "GPU" && kind !== "Apple Silicon") continue;
      for (const [vendor, models] of Object.entries(vendors)) {
        for (const [name, spec] of Object.entries(models)) {
          // Apple SoCs are listed under a "-" vendor.
          const vendorName = vendor === "-" ? "Apple" : vendor;
          if (spec.memory && spec.memory.length > 0) entries.push({ name, vendor: vendorName, memory: [...spec.memory].sort((a, b) => a - b), key: normalize(name) });
        }
      }
    }
    return entries;
  });
  return catalog;
}

const normalize = (text: string) => text.toLowerCase().replace(/nvidia|geforce|apple|amd|radeon|instinct/g, "").replace(/[^a-z0-9]/g, "");

/**
 * Finds a GPU by the names people type: "h100", "A100-40", "4090", "rtx 4090", "M3 Max 128",
 * "mi300x". A trailing number that is one of the SKU's memory sizes picks that size; otherwise the
 * largest size is assumed and the others are reported.
 */
/** Names people use that the catalog spells otherwise. */
const ALIASES: Readonly<Record<string, string>> = { mi300x: "mi300", h100sxm: "h100", h100pcie: "h100", a100sxm: "a100", rtx6000pro: "rtxpro6000ws" };

export async function findGpu(query: string): Promise<Gpu> {
  const entries = await loadCatalog();
  const alias = (key: string) => ALIASES[key] ?? key;
  const attempts: { key: string; memory?: number }[] = [{ key: alias(normalize(query)) }];
  const sized = /^(.*?)[\s_-]*(\d+)\s*(gb|g|gib)?$/i.exec(query.trim());
  if (sized?.[1] && sized[2]) attempts.push({ key: alias(normalize(sized[1])), memory: Number(sized[2]) });
  for (const attempt of attempts) {
    if (!attempt.key) continue;
    const ranked = entries
      .map((entry) => ({ entry, rank: entry.key === attempt.key ? 0 : entry.key.endsWith(attempt.key) ? 1 : entry.key.startsWith(attempt.key) ? 2 : -1 }))
      .filter((candidate) => candidate.rank >= 0 && (attempt.memory === undefined || candidate.entry.memory.includes(attempt.memory)))
      .sort((a, b) => a.rank - b.rank || a.entry.key.length - b.entry.key.length);
    const best = ranked[0]?.entry;
    if (best) {
      const memoryGiB = attempt.memory ?? (best.memory[best.memory.length - 1] as number);
      return { name: best.name, vendor: best.vendor, memoryGiB, bytes: memoryGiB * 2 ** 30, otherSizes: best.memory.filter((size) => size !== memoryGiB) };
    }
  }
  const key = normalize(query);
  const near = entries.filter((entry) => key.length > 1 && (entry.key.includes(key.slice(0, 3)) || key.includes(entry.key))).slice(0, 6);
  throw new UsageError(`unknown GPU "${query}"${near.length ? `: did you mean ${near.map((entry) => entry.name).join(", ")}?` : ": name it as the catalog does, e.g. H100, A100-40, RTX 4090, L4"}`);
}

/** A GPU known only by the memory the user gives (--gpu-memory without --gpu). */
export function customGpu(bytes: number): Gpu {
  const memoryGiB = Math.round((bytes / 2 ** 30) * 100) / 100;
  return { name: "GPU", vendor: "", memoryGiB, bytes, otherSizes: [] };
}

/** The GPUs people plan for, smallest first, for "which GPUs fit" without --gpu. */
export const COMMON_GPUS = ["RTX 3090", "RTX 4090", "L4", "A10", "RTX 5090", "L40s", "A100-40", "A100-80", "H100", "H200", "B200", "MI300X"];

export async function commonGpus(): Promise<Gpu[]> {
  const found: Gpu[] = [];
  for (const name of COMMON_GPUS) {
    try {
      found.push(await findGpu(name));
    } catch {
      // A catalog without this SKU: leave it out of the list.
    }
  }
  return found;
}

import type { CacheInventory } from "../hub/cache-inventory.js";
import { formatGiB, formatInt } from "./units.js";

/** `vramplan cache ls`: one line per cached model revision, and what each cache holds for it. */
export function renderCacheList(inventory: CacheInventory): string {
  const out = [`HF cache:       ${inventory.hfCacheDir}`, `vramplan cache: ${inventory.cacheDir}`, ""];
  if (inventory.revisions.length === 0) {
    out.push("Nothing cached yet. Fill it with: vramplan cache prefetch <model-id|file>");
    return out.join("\n") + "\n";
  }
  const header = ["model", "commit", "refs", "config", "tensor headers", "weights (from headers)", "HF cache files"];
  const lines = inventory.revisions.map((revision) => {
    const manifest = revision.manifest;
    return [
      revision.id,
      revision.commit.slice(0, 12),
      revision.refs.join(",") || "-",
      revision.files.includes("config.json") ? "yes" : "no",
      manifest === null ? "no" : "corrupt" in manifest ? "corrupt (will refetch)" : `${formatInt(manifest.tensors)} tensors`,
      manifest && !("corrupt" in manifest) ? `${formatInt(manifest.weightBytes)} B (${formatGiB(manifest.weightBytes)} GiB)` : "-",
      revision.files.length ? `${revision.files.length} (${formatInt(revision.hfCacheBytes)} B)` : "-",
    ];
  });
  const widths = header.map((cell, column) => Math.max(cell.length, ...lines.map((line) => line[column]?.length ?? 0)));
  for (const line of [header, ...lines]) out.push(line.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join("  ").trimEnd());
  for (const warning of inventory.warnings) out.push(`warning: ${warning}`);
  if (inventory.warnings.length > 0) out.push("(huggingface-cli scan-cache skips these too; `huggingface-cli delete-cache` or removing the folder clears them)");
  return out.join("\n") + "\n";
}

/** How this CLI spells the library's options: as flags. */

/** The library's option names as this CLI's flags: `kvDtype` → `--kv-dtype`. */
export function cliFlag(option: string): string {
  return FLAG_NAMES[option] ?? `--${option.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** Options whose flag is not simply their name in kebab case. */
const FLAG_NAMES: Readonly<Record<string, string>> = { memoryFraction: "--gpu-memory-utilization", gpuMemoryBytes: "--gpu-memory", microBatch: "--micro-batch" };

/** The library options its notes and warnings name (in backticks), each a flag here. */
const LIBRARY_OPTIONS = new Set([
  ...Object.keys(FLAG_NAMES),
  "context", "batch", "kvDtype", "seq", "gradAccum", "gpus", "gpu", "zero", "fsdp", "maxNewTokens", "promptFile", "messages",
  "engine", "offline", "file", "ram", "revision", "dtype", "compare", "strict", "precision", "method", "loraRank", "loraTargets",
  "checkpointing", "loss", "optimizer", "maxNumSeqs", "maxNumBatchedTokens", "blockSize", "enforceEager", "kvCacheMemoryBytes", "enablePrefixCaching",
]);

/**
 * A text view in this CLI's words: the library writes an option as `seq` (in backticks), the
 * terminal reader types --seq. Only names of library options are turned; other code spans stay.
 */
export function inCliWords(text: string): string {
  return text.replace(/`([A-Za-z]+)`/g, (match, name: string) => (LIBRARY_OPTIONS.has(name) ? cliFlag(name) : match));
}

/** The same text as the HTTP API and web page spell options: their query parameters, the flags without dashes. */
export function inQueryWords(text: string): string {
  return text.replace(/`([A-Za-z]+)`/g, (match, name: string) => (LIBRARY_OPTIONS.has(name) ? `\`${queryParameter(name)}\`` : match));
}

/** An option as a query parameter: `kvDtype` → `kv-dtype`, `memoryFraction` → `gpu-memory-utilization`. */
export function queryParameter(option: string): string {
  return cliFlag(option).slice(2);
}

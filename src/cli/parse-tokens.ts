import { UsageError } from "../errors.js";

/**
 * The largest count a flag takes: a billion tokens (or sequences, or GPUs) keeps every byte total a
 * plan adds up far below 2^53, so it stays exact in a double.
 */
export const MAX_COUNT = 1 << 30;

/** Token counts as people say them: `32768`, `32k` (= 32,768), `128K`, `1m` (= 1,048,576). */
export function parseTokenCount(value: unknown, flag: string, options: { allowZero?: boolean; unit?: string } = {}): number | undefined {
  if (value === undefined) return undefined;
  const unitName = options.unit ?? "tokens";
  const text = String(value).trim().replaceAll(",", "").replaceAll("_", "");
  const match = /^(\d+)([kKmM]?)$/.exec(text);
  if (!match) {
    const example = unitName === "tokens" ? "32768 or 32k" : "4";
    throw new UsageError(`${flag} must be a whole number of ${unitName} such as ${example}, got "${String(value)}"`);
  }
  const unit = match[2]?.toLowerCase() === "k" ? 1024 : match[2]?.toLowerCase() === "m" ? 1024 * 1024 : 1;
  const count = Number(match[1]) * unit;
  if (!Number.isSafeInteger(count) || count > MAX_COUNT) {
    throw new UsageError(`${flag} ${String(value).trim()} is too large: vramplan plans up to ${MAX_COUNT.toLocaleString("en-US")} ${unitName}`);
  }
  if (count < (options.allowZero ? 0 : 1)) throw new UsageError(`${flag} must be at least ${options.allowZero ? 0 : 1}, got "${String(value)}"`);
  return count;
}

/** Memory as people write it: `64GB` (10^9), `64GiB` or `64G` or `64` (2^30), `512MB`, `512MiB`. */
export function parseMemorySize(value: string, flag: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(([kKmMgGtT])(i?)[bB]?)?\s*$/.exec(value);
  if (!match) throw new UsageError(`${flag} must be a memory size such as 64GB or 64GiB, got "${value}"`);
  const unit = (match[3] ?? "g").toLowerCase();
  const power = { k: 1, m: 2, g: 3, t: 4 }[unit] as number;
  // A bare number or "G" means GiB, like nvidia-smi's and the GPU catalog's sizes; "GB" is decimal.
  const binary = match[4] === "i" || match[2] === undefined || !/[bB]$/.test(match[2]);
  return Math.round(Number(match[1]) * (binary ? 1024 : 1000) ** power);
}

/** A size in bytes as vLLM's byte flags take it: a bare number is bytes; 640MiB, 8GiB and 8GB as parseMemorySize reads them. */
export function parseByteCount(value: string, flag: string): number {
  const refuse = () => new UsageError(`${flag} must be a positive number of bytes (or 640MiB, 8GiB), got "${value}"`);
  let bytes: number;
  try {
    bytes = /^\s*\d+\s*$/.test(value) ? Number(value) : parseMemorySize(value, flag);
  } catch {
    throw refuse();
  }
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw refuse();
  return bytes;
}

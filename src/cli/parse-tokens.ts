import { UsageError } from "../errors.js";

/** Token counts as people say them: `32768`, `32k` (= 32,768), `128K`, `1m` (= 1,048,576). */
export function parseTokenCount(value: unknown, flag: string, options: { allowZero?: boolean } = {}): number | undefined {
  if (value === undefined) return undefined;
  const text = String(value).trim().replaceAll(",", "").replaceAll("_", "");
  const match = /^(\d+)([kKmM]?)$/.exec(text);
  if (!match) throw new UsageError(`${flag} must be a whole number of tokens such as 32768 or 32k, got "${String(value)}"`);
  const unit = match[2]?.toLowerCase() === "k" ? 1024 : match[2]?.toLowerCase() === "m" ? 1024 * 1024 : 1;
  const count = Number(match[1]) * unit;
  if (!Number.isSafeInteger(count) || count < (options.allowZero ? 0 : 1)) throw new UsageError(`${flag} must be at least 1, got "${String(value)}"`);
  return count;
}

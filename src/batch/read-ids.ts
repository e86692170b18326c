import { isVramplanError } from "../errors.js";
import { parseModelRef, type ModelRef } from "../model-id.js";

/** One line of a batch input: a model to plan, or why the line is not one. */
export interface BatchEntry {
  line: number;
  input: string;
  ref: ModelRef | null;
  error: string | null;
}

/**
 * Model ids, one per line (`org/name` or `org/name@revision`); blank lines and `#` comments are
 * skipped, a comment may also follow an id. A malformed id is kept as an entry with its error, so
 * it becomes a row of the output rather than the end of the run. `revision` applies to ids
 * without their own `@revision`.
 */
export function readModelIds(text: string, revision?: string): BatchEntry[] {
  const entries: BatchEntry[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const input = raw.replace(/(^|\s)#.*$/, "").trim();
    if (input.length === 0) return;
    try {
      entries.push({ line: index + 1, input, ref: parseModelRef(input, input.includes("@") ? undefined : revision), error: null });
    } catch (error) {
      entries.push({ line: index + 1, input, ref: null, error: isVramplanError(error) ? error.message : String(error) });
    }
  });
  return entries;
}

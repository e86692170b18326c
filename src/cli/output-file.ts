import { stat } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.js";
import { writeFileAtomic } from "../util/atomic-write.js";
import type { CliIo } from "./output.js";

/**
 * A file a command writes (`batch --out`, `plan --chart`): checked before any work is done, so a bad
 * path costs nothing, and written atomically. It names a file in an existing directory: not a
 * directory, not a path through a file.
 */
export async function checkOutputFile(flag: string, path: string, example: string): Promise<void> {
  const existing = await stat(path).catch(() => null);
  if (existing?.isDirectory()) throw new UsageError(`${flag} ${path} is a directory: name a file in it, e.g. ${join(path, example)}`);
  const directory = await stat(dirname(resolve(path))).catch(() => null);
  if (!directory) throw new UsageError(`${flag} ${path}: the directory ${dirname(resolve(path))} does not exist; create it first`);
  if (!directory.isDirectory()) throw new UsageError(`${flag} ${path}: ${dirname(resolve(path))} is not a directory`);
}

export async function writeOutputFile(io: CliIo, flag: string, path: string, content: string): Promise<void> {
  try {
    await writeFileAtomic(path, io.scrub ? io.scrub(content) : content);
  } catch (error) {
    throw new UsageError(`cannot write ${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; name a writable file`);
  }
}

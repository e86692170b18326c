import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Writes a file so that readers see either the old content or the new, never a half: the bytes go
 * to a temporary named for this process (a sibling, or in `temporaryDir` on the same file system),
 * which is renamed over the target (atomic within a file system). Two runs writing the same entry
 * at once each rename a complete file.
 */
let sequence = 0;

/** Unique per process and call; node:crypto is not loaded for this, it costs start-up time. */
export function temporarySuffix(): string {
  return `${process.pid}.${Date.now().toString(36)}${(sequence++).toString(36)}`;
}

export async function writeFileAtomic(path: string, content: string | Uint8Array, options: { temporaryDir?: string } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const suffix = temporarySuffix();
  let temporary = `${path}.${suffix}.tmp`;
  if (options.temporaryDir) {
    await mkdir(options.temporaryDir, { recursive: true });
    temporary = join(options.temporaryDir, `${basename(path)}.${suffix}.incomplete`);
  }
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

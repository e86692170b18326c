import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Writes a file so that readers see either the old content or the new, never a half: the bytes go
 * to a temporary sibling named for this process, which is renamed over the target (atomic within a
 * filesystem). Two runs writing the same entry at once each rename a complete file.
 */
let sequence = 0;

export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  // Unique per process and call; node:crypto is not loaded for this, it costs start-up time.
  const temporary = `${path}.${process.pid}.${Date.now().toString(36)}${(sequence++).toString(36)}.tmp`;
  try {
    await writeFile(temporary, content);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

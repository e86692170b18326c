import { mkdir, symlink, writeFile } from "node:fs/promises";
import { createHash } from "node:crypto";
import { dirname, join, relative } from "node:path";

/**
 * Puts files into a Hugging Face cache by hand, the way `huggingface-cli download` lays them out:
 * blobs named by hash, snapshot symlinks, and refs/<revision>.
 */
export async function placeInHfCache(
  hfCacheDir: string,
  id: string,
  commit: string,
  files: Record<string, string | Uint8Array>,
  revision: string | undefined = "main",
): Promise<string> {
  const repo = join(hfCacheDir, `models--${id.replaceAll("/", "--")}`);
  const snapshot = join(repo, "snapshots", commit);
  await mkdir(join(repo, "blobs"), { recursive: true });
  await mkdir(snapshot, { recursive: true });
  for (const [path, content] of Object.entries(files)) {
    const blob = createHash("sha256").update(content).digest("hex");
    await writeFile(join(repo, "blobs", blob), content);
    // A file in a folder (a pipeline's vae/…) links back up as many levels as it is deep.
    const link = join(snapshot, path);
    await mkdir(dirname(link), { recursive: true });
    await symlink(relative(dirname(link), join(repo, "blobs", blob)), link);
  }
  if (revision) {
    await mkdir(join(repo, "refs"), { recursive: true });
    await writeFile(join(repo, "refs", revision), commit);
  }
  return snapshot;
}

import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { cachedSnapshotFile, readCachedCommit, repoFolder, writeCachedRef, writeSnapshotFile } from "../../src/hub/hf-cache.js";

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

const ID = "acme/model";
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const OTHER = "89abcdef0123456789abcdef0123456789abcdef";

describe("the HF cache under concurrent runs", () => {
  it("a snapshot file re-linked again and again is never missing to a reader", async () => {
    root = await mkdtemp(join(tmpdir(), "vramplan-hfcache-"));
    const bytes = new TextEncoder().encode('{"model_type": "llama"}');
    await writeSnapshotFile(root, ID, COMMIT, "config.json", "etag-a", bytes);
    let writing = true;
    const writer = (async () => {
      // Two blob names for the same bytes (a Hub that changed its ETag): each write re-links.
      for (let round = 0; round < 300; round++) await writeSnapshotFile(root as string, ID, COMMIT, "config.json", round % 2 ? "etag-a" : "etag-b", bytes);
      writing = false;
    })();
    const failures: string[] = [];
    const reader = async () => {
      let reads = 0;
      while (writing || reads === 0) {
        reads++;
        const path = await cachedSnapshotFile(root as string, ID, COMMIT, "config.json");
        if (!path) failures.push("not cached");
        else await readFile(path, "utf8").catch((error: NodeJS.ErrnoException) => failures.push(error.code ?? "error"));
      }
      return reads;
    };
    const reads = await Promise.all([reader(), reader(), reader(), writer]);
    expect(failures).toEqual([]);
    expect((reads[0] as number) + (reads[1] as number)).toBeGreaterThan(10);
  });

  it("refs/ holds refs only: the temporaries of many writers live in blobs/, and none is left", async () => {
    root = await mkdtemp(join(tmpdir(), "vramplan-hfcache-"));
    await Promise.all(Array.from({ length: 50 }, (_, index) => writeCachedRef(root as string, ID, index % 2 ? "main" : "refs/pr/1", index % 3 ? COMMIT : OTHER)));
    const refs = (await readdir(join(repoFolder(root, ID), "refs"), { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name);
    expect(refs.sort()).toEqual(["1", "main"]);
    expect(await readdir(join(repoFolder(root, ID), "blobs"))).toEqual([]);
    expect([COMMIT, OTHER]).toContain(await readCachedCommit(root, ID, "main"));
  });
});

import { execFile } from "node:child_process";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHttpHub, type RunningHub } from "../support/http-hub.js";
import { MockHub } from "../support/mock-hub.js";

/*
 * Several vramplan processes sharing one cache: two keep planning online against a Hub whose
 * ETags change on every answer (so each run re-links every snapshot file), two plan the same
 * models offline at the same time. No offline row may fail for a model cached all along.
 */
const bin = fileURLToPath(new URL("../../bin/vramplan.js", import.meta.url));
const IDS = ["Qwen/Qwen2.5-0.5B", "meta-llama/Llama-3.2-1B", "openai-community/gpt2", "mistralai/Mistral-7B-v0.1", "meta-llama/Llama-3.1-8B"];
const hub = new MockHub();
let server: RunningHub;
let root: string;
let answers = 0;

beforeAll(async () => {
  hub.options.fault = async (request) => {
    if (!request.url.endsWith("/config.json")) return undefined;
    const honest = await hub.serve(request);
    const headers = new Headers(honest.headers);
    headers.set("ETag", `"etag-${answers++ % 2}-${request.url.length}"`);
    return new Response(await honest.arrayBuffer(), { status: honest.status, headers });
  };
  server = await startHttpHub(hub);
  root = await mkdtemp(join(tmpdir(), "vramplan-concurrent-"));
  await writeFile(join(root, "ids.txt"), IDS.join("\n") + "\n");
});
afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { PATH: process.env["PATH"] ?? "", HOME: root, HF_HUB_CACHE: join(root, "hf"), VRAMPLAN_CACHE: join(root, "vp"), ...env } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("one cache, several processes", () => {
  it("offline runs never fail while online runs re-link the same snapshots", { timeout: 120_000 }, async () => {
    const batch = ["batch", join(root, "ids.txt"), "-c", "4096", "--format", "jsonl"];
    expect((await run(batch, { HF_ENDPOINT: server.endpoint })).code).toBe(0);
    const online = async () => {
      const results = [];
      for (let round = 0; round < 4; round++) results.push(await run(batch, { HF_ENDPOINT: server.endpoint }));
      return results;
    };
    const offline = async () => {
      const results = [];
      for (let round = 0; round < 6; round++) results.push(await run(batch, { HF_HUB_OFFLINE: "1" }));
      return results;
    };
    const all = (await Promise.all([online(), online(), offline(), offline()])).flat();
    const failures = all.filter((result) => result.code !== 0).map((result) => result.stderr.slice(0, 300));
    expect(failures).toEqual([]);
    for (const result of all) {
      const rows = result.stdout.trim().split("\n").map((line) => JSON.parse(line) as { status: string; plan?: { model: { configSource: string } } });
      expect(rows.map((row) => row.status)).toEqual(IDS.map(() => "ok"));
      // Offline rows come from the HF cache, never the built-in fallback.
      expect(rows.every((row) => row.plan?.model.configSource !== "builtin")).toBe(true);
    }
    // Temporaries: none left anywhere, and refs/ holds refs only.
    const files = await readdir(join(root, "hf"), { recursive: true });
    expect(files.filter((name) => /\.(tmp|incomplete)$/.test(String(name)))).toEqual([]);
    expect(answers).toBeGreaterThan(40);
  });
});

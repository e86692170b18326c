import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/* `vramplan serve` as a user runs it: the built CLI in its own process, stopped by a signal. */
const BIN = fileURLToPath(new URL("../../bin/vramplan.js", import.meta.url));

async function startServe(home: string) {
  const child = spawn(process.execPath, [BIN, "serve", "--port", "0"], {
    env: { PATH: process.env["PATH"] ?? "", HOME: home, HF_HOME: join(home, "hf"), VRAMPLAN_CACHE: join(home, "vp"), HF_HUB_OFFLINE: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const origin = await new Promise<string>((resolve, reject) => {
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const found = /on (http:\/\/\S+) \(Ctrl-C stops it\)/.exec(stderr);
      if (found?.[1]) resolve(found[1]);
    });
    void exited.then((code) => reject(new Error(`serve exited early (${code}): ${stderr}`)));
  });
  return { child, origin, exited, stderr: () => stderr };
}

describe("vramplan serve and signals", () => {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal} lets the running plan finish, then stops the server with exit 0`, async () => {
      const home = await mkdtemp(join(tmpdir(), "vramplan-serve-"));
      try {
        const server = await startServe(home);
        // The first plan loads its modules, so it is still running when the signal comes.
        const answer = fetch(`${server.origin}/v1/plan?model=Qwen/Qwen2.5-7B&context=8k`).then(async (response) => ({ status: response.status, body: (await response.json()) as { plan: { kvCache: { bytes: number } } } }));
        await new Promise((resolve) => setTimeout(resolve, 30));
        server.child.kill(signal);
        const { status, body } = await answer;
        expect(status).toBe(200);
        // 28 layers × 2 × 4 KV heads × 128 × 2 B × 8,192 tokens.
        expect(body.plan.kvCache.bytes).toBe(469_762_048);
        expect(await server.exited).toBe(0);
        expect(server.stderr()).toMatch(/vramplan: stopped\n$/);
        // Nothing listens any more.
        await expect(fetch(`${server.origin}/healthz`)).rejects.toThrow();
      } finally {
        await rm(home, { recursive: true, force: true });
      }
    });
  }
});

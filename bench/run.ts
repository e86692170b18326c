/**
 * `npm run bench`: wall time of the built CLI against `node -e 0` on the same machine.
 * Figures, not assertions: speed goals live here, never in timed unit tests.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { startHttpHub } from "../test/support/http-hub.js";
import { MockHub } from "../test/support/mock-hub.js";
import { benchBatch } from "./batch.js";
import { benchServer } from "./server.js";
import { benchShards } from "./shards.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const bin = join(repoRoot, "bin", "vramplan.js");
const RUNS = Number(process.env["BENCH_RUNS"] ?? 15);
const TARGET_RATIO = 3;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const execFileAsync = promisify(execFile);

/** Runs a child process (asynchronously: the mock Hub answers from this process) and times it. */
async function run(args: string[], env: Record<string, string>): Promise<number> {
  const start = process.hrtime.bigint();
  await execFileAsync(process.execPath, args, { env: { PATH: process.env["PATH"] ?? "", ...env } });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function time(args: string[], env: Record<string, string>): Promise<number> {
  const samples: number[] = [];
  for (let index = 0; index < RUNS; index++) samples.push(await run(args, env));
  return median(samples);
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), "vramplan-bench-"));
  const hub = new MockHub({ fixturesRoot: join(repoRoot, "fixtures", "hub") });
  const server = await startHttpHub(hub);
  const env = { HOME: root, HF_HUB_CACHE: join(root, "hf"), VRAMPLAN_CACHE: join(root, "vramplan"), HF_ENDPOINT: server.endpoint };
  const plan = [bin, "plan", "Qwen/Qwen2.5-7B", "--context", "32768"];
  try {
    // Fill the caches once, online.
    await run(plan, env);
    if (process.env["BENCH_ONLY"] === "server") return void (await benchServer(repoRoot, env));

    const baseline = await time(["-e", "0"], {});
    const undiciAlone = await time(["--input-type=module", "-e", `await import(${JSON.stringify(join(repoRoot, "node_modules", "undici", "index.js"))})`], {});
    // The online run loads undici (the required HTTP client); its load alone is shown for scale.
    const rows: [string, number][] = [
      ["vramplan plan, warm cache, offline (HF_HUB_OFFLINE=1)", await time(plan, { ...env, HF_HUB_OFFLINE: "1" })],
      ["vramplan plan, warm cache, online (1 request to a loopback Hub)", await time(plan, env)],
      ["for scale: node importing undici and nothing else", undiciAlone],
      ["vramplan plan, built-in set, offline, empty cache", await time(plan, { ...env, HF_HUB_OFFLINE: "1", HF_HUB_CACHE: join(root, "empty-hf"), VRAMPLAN_CACHE: join(root, "empty-vp") })],
    ];
    // tokens: the Qwen2.5 instruct tokenizer (7 MB tokenizer.json) and a six-turn chat, cached once online.
    const tokens = [bin, "tokens", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--messages", join(repoRoot, "examples", "chat.json")];
    await run(tokens, env);
    const tokenRuns = async (extra: Record<string, string>) => {
      const samples: number[] = [];
      for (let index = 0; index < 5; index++) samples.push(await run(tokens, { ...env, ...extra }));
      return median(samples);
    };
    rows.push(["vramplan tokens, 6-turn chat, warm HF cache, offline (median of 5)", await tokenRuns({ HF_HUB_OFFLINE: "1" })]);
    rows.push(["vramplan tokens, 6-turn chat, warm HF cache, online (median of 5)", await tokenRuns({})]);
    console.log(`median wall time over ${RUNS} runs each (${process.version}, ${process.platform}/${process.arch})`);
    console.log(`${"node -e 0".padEnd(68)} ${baseline.toFixed(1).padStart(7)} ms   1.00×`);
    for (const [label, ms] of rows) {
      const ratio = ms / baseline;
      const verdict = label.startsWith("vramplan plan") && ratio > TARGET_RATIO ? `   (over the ${TARGET_RATIO}× target)` : "";
      console.log(`${label.padEnd(68)} ${ms.toFixed(1).padStart(7)} ms   ${ratio.toFixed(2)}×${verdict}`);
    }
    if (process.env["BENCH_ONLY"] === "shards") return void (await benchShards(repoRoot, RUNS));
    if (process.env["BENCH_ONLY"] !== "startup") {
      await benchShards(repoRoot, RUNS);
      await benchBatch(repoRoot, baseline, RUNS);
      await benchServer(repoRoot, env);
    }
  } finally {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();

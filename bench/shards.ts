/**
 * Many shards (issue 13): a cold plan of a 191-shard checkpoint (Llama-3.1-405B's layout) against a
 * one-file plan, and a cold batch of 8 mixed models, each against a Hub with 50 ms per answer and
 * a listen backlog of 16. Requests, bytes and connections are the Hub's own counts.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHttpHub } from "../test/support/http-hub.js";
import { MockHub, type MockModel } from "../test/support/mock-hub.js";
import { deepSeekScaleModel, llamaScaleModel } from "../test/support/synthetic-models.js";

const LATENCY_MS = 50;
const BACKLOG = 16;
const TARGET_RATIO = 3;
const MIXED = ["Qwen/Qwen2.5-0.5B", "meta-llama/Llama-3.1-8B", "openai-community/gpt2", "mistralai/Mixtral-8x7B-v0.1", "Qwen/Qwen3-30B-A3B", "google/gemma-2-9b", "Qwen/Qwen2.5-7B", "openai/gpt-oss-20b"];

function runCli(bin: string, args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    execFile(process.execPath, [bin, ...args], { env: { PATH: process.env["PATH"] ?? "", ...env }, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${args.join(" ")} failed: ${stderr.slice(0, 400)}`));
      else resolve(Number(process.hrtime.bigint() - start) / 1e6);
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export async function benchShards(repoRoot: string, runs: number): Promise<void> {
  const bin = join(repoRoot, "bin", "vramplan.js");
  const fixtures = new MockHub({ fixturesRoot: join(repoRoot, "fixtures", "hub") });
  const models: Record<string, MockModel> = { "bench/llama-405b-191": llamaScaleModel(), "bench/deepseek-v3-163": deepSeekScaleModel(fixtures.models.get("deepseek-ai/DeepSeek-V3")?.config as object, 163) };
  for (const id of MIXED) models[id] = fixtures.models.get(id) as MockModel;
  const hub = new MockHub({ fixturesRoot: false, models });
  const root = mkdtempSync(join(tmpdir(), "vramplan-bench-shards-"));
  const idsFile = join(root, "mixed.txt");
  writeFileSync(idsFile, MIXED.join("\n") + "\n");
  const line = (label: string, figure: string, extra = "") => console.log(`${label.padEnd(58)} ${figure.padStart(10)}   ${extra}`);

  // Each run gets its own Hub process state (counts) and empty caches: every run is cold.
  const cold = async (args: string[]) => {
    const samples: { ms: number; requests: number; connections: number; maxOpen: number; bytes: number }[] = [];
    for (let run = 0; run < Math.max(3, Math.min(runs, 5)); run++) {
      const server = await startHttpHub(hub, { latencyMs: LATENCY_MS, backlog: BACKLOG });
      hub.log.length = 0;
      const cache = join(root, `run-${samples.length}-${Math.random().toString(36).slice(2)}`);
      try {
        const ms = await runCli(bin, args, { HOME: root, HF_HUB_CACHE: join(cache, "hf"), VRAMPLAN_CACHE: join(cache, "vp"), HF_ENDPOINT: server.endpoint });
        samples.push({ ms, requests: hub.log.length, connections: server.stats.connections, maxOpen: server.stats.maxOpen, bytes: server.stats.bytesSent });
      } finally {
        await server.close();
      }
    }
    const ms = median(samples.map((sample) => sample.ms));
    const last = samples[samples.length - 1] as (typeof samples)[number];
    return { ...last, ms };
  };
  const describe = (run: { requests: number; connections: number; maxOpen: number; bytes: number }) =>
    `${run.requests} requests, ${run.connections} connections (≤ ${run.maxOpen} open), ${(run.bytes / 1024).toFixed(0)} KiB`;

  try {
    console.log(`\nmany shards: cold plans against a Hub with ${LATENCY_MS} ms per answer and a listen backlog of ${BACKLOG}`);
    const oneFile = await cold(["plan", "Qwen/Qwen2.5-0.5B", "--context", "4096"]);
    line("one-file checkpoint (Qwen2.5-0.5B)", `${oneFile.ms.toFixed(0)} ms`, describe(oneFile));
    const sharded = await cold(["plan", "bench/llama-405b-191", "--context", "4096"]);
    const ratio = sharded.ms / oneFile.ms;
    line("191 shards (Llama-3.1-405B layout)", `${sharded.ms.toFixed(0)} ms`, `${describe(sharded)}; ${ratio.toFixed(2)}× one file: ${ratio <= TARGET_RATIO ? "target ≤ 3×: met" : "target ≤ 3×: MISSED"}`);
    const deepseek = await cold(["plan", "bench/deepseek-v3-163", "--context", "4096"]);
    line("163 shards (DeepSeek-V3 layout, ~92k tensors)", `${deepseek.ms.toFixed(0)} ms`, describe(deepseek));
    const batch = await cold(["batch", idsFile, "--format", "csv", "--out", join(root, "mixed.csv")]);
    line(`batch of ${MIXED.length} mixed models`, `${batch.ms.toFixed(0)} ms`, describe(batch));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

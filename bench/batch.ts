/**
 * Batch figures (issue 6): many models in one process, offline and cold against a Hub with
 * 50 ms of latency per request, and one 160-shard model cold. Printed beside `node -e 0`.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startHttpHub } from "../test/support/http-hub.js";
import { MockHub, type MockModel } from "../test/support/mock-hub.js";
import { deepSeekScaleModel, manyModels } from "../test/support/synthetic-models.js";

const MODELS = 1000;
const LATENCY_MS = 50;
const CONCURRENCY = 16;
const BASES = ["Qwen/Qwen2.5-0.5B", "meta-llama/Llama-3.2-1B", "openai-community/gpt2", "mistralai/Mistral-7B-v0.1", "meta-llama/Llama-3.1-8B"];

interface Measured {
  ms: number;
  peakRssMb: number;
  code: number;
  stderr: string;
}

function measure(bin: string, rssProbe: string, args: string[], env: Record<string, string>): Promise<Measured> {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    execFile(process.execPath, ["--import", pathToFileURL(rssProbe).href, bin, ...args], { env: { PATH: process.env["PATH"] ?? "", ...env }, maxBuffer: 256 * 1024 * 1024 }, (error, _stdout, stderr) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const rssKb = Number(/BENCH_PEAK_RSS_KB (\d+)/.exec(stderr)?.[1] ?? Number.NaN);
      resolve({ ms, peakRssMb: rssKb / 1024, code: error ? Number((error as { code?: number }).code ?? 1) : 0, stderr: stderr.replace(/\nBENCH_PEAK_RSS_KB \d+\n/, "") });
    });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

export async function benchBatch(repoRoot: string, baselineMs: number, runs: number): Promise<void> {
  const bin = join(repoRoot, "bin", "vramplan.js");
  const rssProbe = join(repoRoot, "build-bench", "bench", "report-rss.js");
  const fixtures = new MockHub({ fixturesRoot: join(repoRoot, "fixtures", "hub") });
  const bases = BASES.map((id) => fixtures.models.get(id) as MockModel);
  const hub = new MockHub({ fixturesRoot: false, models: { ...manyModels("bench", MODELS, bases), "bench/deepseek-160": deepSeekScaleModel(fixtures.models.get("deepseek-ai/DeepSeek-V3")?.config as object, 160) } });
  const server = await startHttpHub(hub, { latencyMs: LATENCY_MS });
  // The same Hub with no latency: the difference is what the round trips cost.
  const instant = await startHttpHub(hub);
  const root = mkdtempSync(join(tmpdir(), "vramplan-bench-batch-"));
  const idsFile = join(root, "ids.txt");
  writeFileSync(idsFile, Object.keys(manyModels("bench", MODELS, bases)).join("\n") + "\n");
  const caches = (name: string) => ({ HOME: root, HF_HUB_CACHE: join(root, name, "hf"), VRAMPLAN_CACHE: join(root, name, "vramplan"), HF_ENDPOINT: server.endpoint });
  const out = join(root, "out.csv");
  const line = (label: string, figure: string, verdict: string) => console.log(`${label.padEnd(68)} ${figure.padStart(24)}   ${verdict}`);
  const check = (run: Measured, what: string) => {
    if (run.code !== 0) throw new Error(`${what} failed (exit ${run.code}): ${run.stderr.slice(0, 500)}`);
  };

  try {
    console.log(`\nbatch figures: ${MODELS} distinct models (copies of ${BASES.length} fixtures), mock Hub on 127.0.0.1`);
    const cold: Measured[] = [];
    for (let run = 0; run < Math.max(1, Math.min(runs, 3)); run++) {
      hub.log.length = 0;
      const measured = await measure(bin, rssProbe, ["batch", idsFile, "--format", "csv", "--out", out, "--concurrency", String(CONCURRENCY)], caches(`cold-${run}`));
      check(measured, "cold batch");
      cold.push(measured);
    }
    const requests = hub.log.length;
    const coldMs = median(cold.map((run) => run.ms));
    const rate = MODELS / (coldMs / 1000);
    line(`cold, ${LATENCY_MS} ms per request, --concurrency ${CONCURRENCY} (${requests} requests)`, `${coldMs.toFixed(0)} ms = ${rate.toFixed(0)} models/s`, rate >= 100 ? "target ≥ 100/s: met" : "target ≥ 100/s: MISSED");

    const offline: Measured[] = [];
    for (let run = 0; run < Math.max(3, Math.min(runs, 7)); run++) {
      const measured = await measure(bin, rssProbe, ["batch", idsFile, "--format", "csv", "--out", out], { ...caches("cold-0"), HF_HUB_OFFLINE: "1" });
      check(measured, "offline batch");
      offline.push(measured);
    }
    const offlineMs = median(offline.map((run) => run.ms));
    const offlineRss = Math.max(...offline.map((run) => run.peakRssMb));
    line(`${MODELS} cached models, offline, one process: wall`, `${offlineMs.toFixed(0)} ms (${(offlineMs / baselineMs).toFixed(1)}× node -e 0)`, offlineMs < 2000 ? "target < 2 s: met" : "target < 2 s: MISSED");
    line(`${MODELS} cached models, offline, one process: peak RSS`, `${offlineRss.toFixed(0)} MB`, offlineRss < 250 ? "target < 250 MB: met" : "target < 250 MB: MISSED");

    const shardPlan = async (endpoint: string, label: string) => {
      const times: number[] = [];
      for (let run = 0; run < Math.max(3, Math.min(runs, 5)); run++) {
        hub.log.length = 0;
        const measured = await measure(bin, rssProbe, ["plan", "bench/deepseek-160", "--context", "4096"], { ...caches(`${label}-${run}`), HF_ENDPOINT: endpoint });
        check(measured, "160-shard plan");
        times.push(measured.ms);
      }
      return { ms: median(times), requests: hub.log.length };
    };
    const slow = await shardPlan(server.endpoint, "shards");
    const fast = await shardPlan(instant.endpoint, "shards-instant");
    const roundTrips = (slow.ms - fast.ms) / LATENCY_MS;
    line(`160-shard model (~92k tensors) cold, ${LATENCY_MS} ms per request (${slow.requests} requests)`, `${slow.ms.toFixed(0)} ms`, "");
    line(`  the same with no latency (process start, parsing ~20 MB of headers)`, `${fast.ms.toFixed(0)} ms`, "");
    line(`  so the network costs`, `${(slow.ms - fast.ms).toFixed(0)} ms = ${roundTrips.toFixed(1)} round trips`, `${roundTrips <= 6 ? "a few, not 160: met" : "MORE than a few"}`);
  } finally {
    await server.close();
    await instant.close();
    rmSync(root, { recursive: true, force: true });
  }
}

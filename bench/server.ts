/**
 * `vramplan serve` under load (issue 15): requests per second for a cached plan over HTTP, as JSON
 * and as the web page, from a client in this process against the built CLI's server in another.
 * The server plans from a warm HF cache, offline, so the figure is the planner's and the server's.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { Pool } from "undici";

const CONNECTIONS = 8;
const SECONDS = Number(process.env["BENCH_SERVER_SECONDS"] ?? 5);

interface Load {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  failed: number;
}

async function load(origin: string, path: string): Promise<Load> {
  const pool = new Pool(origin, { connections: CONNECTIONS });
  const latencies: number[] = [];
  let failed = 0;
  const until = performance.now() + SECONDS * 1000;
  const client = async () => {
    while (performance.now() < until) {
      const start = performance.now();
      const response = await pool.request({ path, method: "GET" });
      await response.body.arrayBuffer();
      if (response.statusCode !== 200) failed += 1;
      latencies.push(performance.now() - start);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, client));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  const at = (share: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * share))] ?? Number.NaN;
  return { requests: latencies.length, perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99), failed };
}

export async function benchServer(repoRoot: string, env: Record<string, string>): Promise<void> {
  const child = spawn(process.execPath, [join(repoRoot, "bin", "vramplan.js"), "serve", "--port", "0"], {
    env: { PATH: process.env["PATH"] ?? "", ...env, HF_HUB_OFFLINE: "1" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  try {
    const origin = await new Promise<string>((resolve, reject) => {
      let text = "";
      child.stderr.on("data", (chunk: Buffer) => {
        text += chunk.toString();
        const found = /serving the planner on (http:\/\/\S+)/.exec(text);
        if (found?.[1]) resolve(found[1]);
      });
      child.once("exit", (code) => reject(new Error(`vramplan serve exited (${code}): ${text}`)));
    });
    const paths: [string, string][] = [
      ["GET /v1/plan (JSON), Qwen2.5-7B at 32k on an H100", "/v1/plan?model=Qwen/Qwen2.5-7B&context=32k&gpu=H100"],
      ["GET / (the web page), the same plan with its chart", "/?model=Qwen/Qwen2.5-7B&context=32k&gpu=H100+80"],
      ["GET /healthz (the server alone)", "/healthz"],
    ];
    // One warm-up request each: the first plan loads the modules it needs.
    for (const [, path] of paths) await (await fetch(`${origin}${path}`)).arrayBuffer();
    console.log(`\nvramplan serve, warm HF cache, offline: ${CONNECTIONS} keep-alive connections for ${SECONDS} s each`);
    for (const [label, path] of paths) {
      const measured = await load(origin, path);
      console.log(
        `${label.padEnd(52)} ${measured.perSecond.toFixed(0).padStart(6)} requests/s   p50 ${measured.p50.toFixed(1)} ms   p99 ${measured.p99.toFixed(1)} ms   (${measured.requests} requests, ${measured.failed} failed)`,
      );
    }
  } finally {
    child.kill("SIGINT");
  }
}

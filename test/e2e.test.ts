import { execFile } from "node:child_process";
import { createServer, type IncomingMessage } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../src/errors.js";
import { startHttpHub, type RunningHub } from "./support/http-hub.js";
import { MockHub } from "./support/mock-hub.js";

/**
 * The built CLI as a user runs it: a child process, real HTTP through undici to a mock Hub on
 * 127.0.0.1, the HF cache and vramplan's cache on disk; then the same again with the server gone.
 */
const BIN = fileURLToPath(new URL("../bin/vramplan.js", import.meta.url));
let root: string;
let hub: MockHub;
let server: RunningHub;
let cdn: RunningHub;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function vramplan(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: { PATH: process.env["PATH"] ?? "", HOME: root, HF_HUB_CACHE: join(root, "hf"), VRAMPLAN_CACHE: join(root, "vramplan"), HF_ENDPOINT: server.endpoint, ...env },
        timeout: 60_000,
      },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "vramplan-e2e-"));
  hub = new MockHub();
  cdn = await startHttpHub(hub);
  hub.options.cdnOrigin = cdn.endpoint;
  hub.options.acceptedTokens = ["hf_e2e_secret"];
  hub.setModel("acme/gated", { ...hub.models.get("Qwen/Qwen2.5-0.5B"), gated: "manual" });
  hub.setModel("acme/gated-too", { ...hub.models.get("Qwen/Qwen2.5-0.5B"), gated: "manual" });
  hub.setModel("acme/broken", { config: "{ not json" });
  server = await startHttpHub(hub);
});

afterAll(async () => {
  await server?.close();
  await cdn?.close();
  await rm(root, { recursive: true, force: true });
});

describe("the built CLI against a loopback Hub", () => {
  let online: Record<string, any>;

  it("plans Qwen2.5-7B at 32k online: JSON on stdout, nothing else", async () => {
    const run = await vramplan(["plan", "Qwen/Qwen2.5-7B", "--context", "32768", "--json"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    online = JSON.parse(run.stdout);
    expect(online["weights"].bytes).toBe(15_231_233_024);
    expect(online["weights"].parameters).toBe(7_615_616_512);
    expect(online["kvCache"].bytes).toBe(1_879_048_192);
    expect(online["model"].configSource).toBe("hub");
    // Safetensors bodies were read from the CDN origin the Hub redirected to, with ranges only.
    const cdnReads = hub.log.filter((entry) => entry.url.startsWith(cdn.endpoint));
    expect(cdnReads.length).toBeGreaterThan(0);
    for (const read of cdnReads) expect(read.range).toMatch(/^bytes=\d+-\d+$/);
  });

  it("sends HF_TOKEN to the Hub endpoint and never to the host it redirects to", async () => {
    hub.log.length = 0;
    const run = await vramplan(["plan", "acme/gated", "--json"], { HF_TOKEN: "hf_e2e_secret" });
    expect(run.code).toBe(0);
    const toCdn = hub.log.filter((entry) => entry.url.startsWith(cdn.endpoint));
    const toHub = hub.log.filter((entry) => entry.url.startsWith(server.endpoint));
    expect(toCdn.length).toBeGreaterThan(0);
    expect(toCdn.every((entry) => entry.authorization === null)).toBe(true);
    expect(toHub.every((entry) => entry.authorization === "Bearer hf_e2e_secret")).toBe(true);
    expect(run.stdout + run.stderr).not.toContain("hf_e2e_secret");
  });

  it("errors: 404, gated without token, malformed config — one line each, distinct codes", async () => {
    const missing = await vramplan(["plan", "acme/missing"]);
    expect([missing.code, missing.stderr]).toEqual([EXIT_CODES.notFound, expect.stringMatching(/^vramplan: model acme\/missing not found on http:\/\/127\.0\.0\.1:\d+ \(HTTP 404\)[^\n]*\n$/)]);
    const gated = await vramplan(["plan", "acme/gated-too"]);
    expect([gated.code, gated.stderr]).toEqual([EXIT_CODES.accessDenied, expect.stringMatching(/^vramplan: acme\/gated-too is a gated model \(HTTP 401\): accept the license at .*set HF_TOKEN[^\n]*\n$/)]);
    const broken = await vramplan(["plan", "acme/broken"]);
    expect([broken.code, broken.stderr]).toEqual([EXIT_CODES.malformed, expect.stringMatching(/^vramplan: acme\/broken\/config\.json: not valid JSON[^\n]*\n$/)]);
  });

  it("counts a chat's tokens online into the HF cache, then offline from it", async () => {
    const chat = join(root, "chat.json");
    await writeFile(chat, JSON.stringify([{ role: "user", content: "What is the capital of France?" }]));
    const args = ["tokens", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--messages", chat, "--json"];
    const run = await vramplan(args);
    expect([run.code, run.stderr]).toEqual([0, ""]);
    // 36: the prompt_token_ids vLLM logs for this chat with Qwen2.5-Instruct.
    expect(JSON.parse(run.stdout)).toMatchObject({ tokens: 36, model: { source: "hub" } });
    const offline = await vramplan(args, { HF_HUB_OFFLINE: "1" });
    expect(JSON.parse(offline.stdout)).toMatchObject({ tokens: 36, model: { source: "hf-cache" } });
  });

  it("plans a GGUF file online (headers through the CDN redirect), then offline from the cache", async () => {
    const args = ["plan", "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", "--file", "Q4_K_M", "--context", "8192", "--json"];
    const run = await vramplan(args);
    expect([run.code, run.stderr]).toEqual([0, ""]);
    const online = JSON.parse(run.stdout);
    expect(online.model.source).toBe("hub");
    expect(hub.log.some((entry) => entry.url.startsWith(cdn.endpoint) && entry.url.endsWith("Q4_K_M.gguf"))).toBe(true);
    const offline = JSON.parse((await vramplan(args, { HF_HUB_OFFLINE: "1" })).stdout);
    expect(offline.model.source).toBe("vramplan-cache");
    // The same bytes as the built-in copy's tensor table (checked by hand in test/cli/gguf-command.test.ts).
    expect(offline.files[0].weights.bytes).toBe(online.files[0].weights.bytes);
    expect(online.files[0].weights.bytes).toBe(4_912_898_304);
  });

  it("goes through HTTPS_PROXY / HTTP_PROXY when one is set", async () => {
    const tunnels: string[] = [];
    const proxy = createServer();
    proxy.on("connect", (request: IncomingMessage, client: Socket, head: Buffer) => {
      tunnels.push(request.url ?? "");
      const [host, port] = (request.url ?? "").split(":");
      const upstream = connect(Number(port), host, () => {
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      });
      upstream.on("error", () => client.destroy());
      client.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      const run = await vramplan(["plan", "meta-llama/Llama-3.2-1B", "--json"], { HTTP_PROXY: proxyUrl, HTTPS_PROXY: proxyUrl, VRAMPLAN_CACHE: join(root, "proxied"), HF_HUB_CACHE: join(root, "proxied-hf") });
      expect(run.stderr).toBe("");
      expect(JSON.parse(run.stdout).weights.bytes).toBe(2_471_628_800);
      expect(tunnels.length).toBeGreaterThan(0);
      expect(tunnels.every((target) => target === new URL(server.endpoint).host || target === new URL(cdn.endpoint).host)).toBe(true);
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it("with the server stopped and HF_HUB_OFFLINE=1, plans the same numbers from the caches alone", async () => {
    await server.close();
    const run = await vramplan(["plan", "Qwen/Qwen2.5-7B", "--context", "32768", "--json"], { HF_HUB_OFFLINE: "1" });
    expect(run.code).toBe(0);
    const offline = JSON.parse(run.stdout);
    expect(offline.weights).toEqual(online["weights"]);
    expect(offline.kvCache).toEqual(online["kvCache"]);
    expect(offline.model).toMatchObject({ configSource: "hf-cache", manifestSource: "vramplan-cache", commit: online["model"].commit });
  });

  it("with the server stopped and no offline flag, falls back to the cache and says why", async () => {
    const run = await vramplan(["plan", "Qwen/Qwen2.5-7B", "--context", "32768"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^KV cache\s+1,879,048,192/m);
    expect(run.stdout).toMatch(/^note: cannot reach http:\/\/127\.0\.0\.1:\d+: planned from the cache \(main was [0-9a-f]{7} when cached\)$/m);
  });
});

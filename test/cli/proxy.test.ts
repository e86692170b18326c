import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";

/*
 * Misbehaving HTTP proxies, as HTTPS_PROXY points the real transport (undici's ProxyAgent) at
 * them: the built CLI in a child process, so what keeps a process alive is what is measured.
 */
const bin = fileURLToPath(new URL("../../bin/vramplan.js", import.meta.url));
let root: string | undefined;
let proxy: Server | undefined;
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
  proxy = undefined;
});

async function fakeProxy(onConnect: (socket: Socket) => void): Promise<number> {
  proxy = createServer((socket) => {
    sockets.add(socket);
    socket.once("data", () => onConnect(socket));
  });
  await new Promise<void>((resolve) => proxy?.listen(0, "127.0.0.1", resolve));
  return (proxy.address() as { port: number }).port;
}

/** Empty caches, a Hub that only the proxy could reach, and the proxy settings given. */
async function proxiedEnv(proxy: Record<string, string>): Promise<Record<string, string>> {
  root = await mkdtemp(join(tmpdir(), "vramplan-proxy-"));
  return { HOME: root, HF_HUB_CACHE: join(root, "hf"), VRAMPLAN_CACHE: join(root, "vp"), HF_ENDPOINT: "https://hub.example.test", ...proxy };
}

function run(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { PATH: process.env["PATH"] ?? "", ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe("HTTP proxies", () => {
  it("407 from the proxy: one access-denied error (exit 4) naming the proxy's credentials, never printing them, no retries", async () => {
    let connects = 0;
    const port = await fakeProxy((socket) => {
      connects += 1;
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="corp"\r\nContent-Length: 0\r\n\r\n');
    });
    const result = await run(["plan", "acme/not-built-in"], await proxiedEnv({ HTTPS_PROXY: `http://alice:s3cretProxyPass@127.0.0.1:${port}` }));
    expect(result.code).toBe(EXIT_CODES.accessDenied);
    expect(result.stderr).toMatch(/^vramplan: the HTTP proxy asks for credentials it did not accept \(407 Proxy Authentication Required\) for https:\/\/hub\.example\.test: check the user and password in HTTPS_PROXY/);
    expect(result.stdout + result.stderr).not.toContain("s3cretProxyPass");
    // config.json and the two speculative checkpoint reads go out at once; none is retried.
    expect(connects).toBeLessThanOrEqual(3);
  });

  it("a proxy that accepts and never answers: the error within one timeout, and the process ends right after it", async () => {
    const port = await fakeProxy(() => undefined);
    const result = await run(["plan", "acme/not-built-in"], await proxiedEnv({ HTTPS_PROXY: `http://127.0.0.1:${port}`, HF_HUB_DOWNLOAD_TIMEOUT: "1" }));
    expect(result.code).toBe(EXIT_CODES.network);
    expect(result.stderr).toMatch(/did not answer within 1 s/);
    // Twice the 1 s bound for the request, plus start-up: not the minutes open sockets used to hold it.
    expect(result.ms).toBeLessThan(8_000);
  });
});

import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { hubSettingsFromEnv, plan } from "../../src/index.js";
import { MockHub } from "../support/mock-hub.js";
import { startMswHub } from "../support/msw-hub.js";
import { runCliCaptured } from "../support/run-cli.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

// The CLI builds its own undici transport, which msw cannot see; these tests therefore run it
// offline (built-in set and caches) or against an unreachable loopback port. Online CLI runs are
// covered end to end in e2e.test.ts against a real loopback Hub.
const hub = new MockHub();
const server = startMswHub(hub);
afterAll(() => server.close());

let settings: TempSettings;
afterEach(async () => settings?.cleanup());

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function envFor(extra: Record<string, string> = {}) {
  settings = await tempSettings();
  // A wide terminal: these tests read whole lines; fitting to a width has its own test.
  return { HF_HUB_CACHE: settings.hfCacheDir, VRAMPLAN_CACHE: settings.cacheDir, HF_HUB_OFFLINE: "1", COLUMNS: "250", ...extra };
}

describe("vramplan plan", () => {
  it("prints the table headed by the model line, with bytes, GiB and GB", async () => {
    const result = await runCliCaptured(["plan", "Qwen/Qwen2.5-7B", "--context", "32768"], await envFor());
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("Qwen/Qwen2.5-7B @ main (built-in copy) · qwen2 · 7.62 billion parameters · bf16 · 28 layers · 28 query / 4 KV heads · head_dim 128");
    expect(result.stdout).toMatch(/GiB \(2\^30\)\s+GB \(10\^9\)/);
    expect(result.stdout).toMatch(/^weights\s+15,231,233,024\s+14\.19\s+15\.23/m);
    expect(result.stdout).toMatch(/^KV cache\s+1,879,048,192\s+1\.75\s+1\.88/m);
    expect(result.stderr).toBe("");
  });

  it("--json prints exactly the plan object, and nothing else on stdout", async () => {
    const result = await runCliCaptured(["plan", "meta-llama/Llama-3.1-8B", "--context", "8k", "--json"], await envFor());
    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout);
    expect(parsed.schema).toBe("vramplan.plan/1");
    expect(parsed.weights.bytes).toBe(16_060_522_496);
    expect(parsed.kvCache.bytes).toBe(1_073_741_824);
    expect(parsed.options).toMatchObject({ context: 8192, batch: 1, kvDtype: "bf16" });
  });

  it("--json is the object the library's plan() returns", async () => {
    const env = await envFor();
    const printed = JSON.parse((await runCliCaptured(["plan", "google/gemma-2-9b", "--json"], env)).stdout);
    const returned = await plan("google/gemma-2-9b", { hub: { ...hubSettingsFromEnv(env), offline: true } });
    expect(printed).toEqual(JSON.parse(JSON.stringify(returned)));
  });

  it("--chart says on stderr what it wrote, and a path it cannot write is refused before planning", async () => {
    const env = await envFor();
    const path = join(settings.root, "memory.svg");
    const result = await runCliCaptured(["plan", "Qwen/Qwen2.5-7B", "-c", "32k", "--chart", path, "--json"], env);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`vramplan: wrote ${path}: memory against context (SVG)\n`);
    expect(JSON.parse(result.stdout).schema).toBe("vramplan.plan/1");
    expect(await readFile(path, "utf8")).toMatch(/^<svg /);
    const directory = await runCliCaptured(["plan", "Qwen/Qwen2.5-7B", "--chart", settings.root], env);
    expect([directory.code, directory.stdout]).toEqual([2, ""]);
    expect(directory.stderr).toBe(`vramplan: --chart ${settings.root} is a directory: name a file in it, e.g. ${join(settings.root, "memory.svg")}\n`);
  });

  it("an MLA model's KV shape is its latent: 1 head of 512 + 64 in JSON and CSV, not 128 heads of 56", async () => {
    const env = await envFor();
    const json = JSON.parse((await runCliCaptured(["plan", "deepseek-ai/DeepSeek-V3", "-c", "4k", "--json"], env)).stdout);
    // DeepSeek-V3 config.json: kv_lora_rank 512, qk_rope_head_dim 64 (vLLM's MLA head_size 576).
    expect([json.model.kvHeads, json.model.headDim]).toEqual([1, 576]);
    const csv = (await runCliCaptured(["batch", "-", "-c", "4k", "--format", "csv"], env, { stdin: "deepseek-ai/DeepSeek-V3\n" })).stdout.split("\n");
    const header = (csv[0] ?? "").split(",");
    const row = (csv[1] ?? "").split(",");
    expect([row[header.indexOf("kv_heads")], row[header.indexOf("head_dim")]]).toEqual(["1", "576"]);
  });

  it("--explain substitutes the numbers into the KV formula", async () => {
    const result = await runCliCaptured(["plan", "Qwen/Qwen2.5-7B", "-c", "32768", "--explain"], await envFor());
    expect(result.stdout).toContain("KV = 2 × 28 layers × 4 KV heads × 128 head_dim × 2 B (bf16) × 32,768 tokens × 1 = 1,879,048,192 B");
  });

  it("--kv-dtype fp8 halves a bf16 cache", async () => {
    const env = await envFor();
    const bf16 = JSON.parse((await runCliCaptured(["plan", "Qwen/Qwen2.5-7B", "-c", "32768", "--json"], env)).stdout);
    const fp8 = JSON.parse((await runCliCaptured(["plan", "Qwen/Qwen2.5-7B", "-c", "32768", "--kv-dtype", "fp8", "--json"], env)).stdout);
    expect(fp8.kvCache.bytes * 2).toBe(bf16.kvCache.bytes);
  });

  it("a context past the maximum is a warning, and an error with --strict", async () => {
    const env = await envFor();
    const warned = await runCliCaptured(["plan", "mistralai/Mistral-7B-v0.1", "-c", "64k"], env);
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(/warning: context 65,536 exceeds the model's maximum of 32,768 tokens/);
    const strict = await runCliCaptured(["plan", "mistralai/Mistral-7B-v0.1", "-c", "64k", "--strict"], env);
    expect(strict.code).toBe(EXIT_CODES.contextTooLong);
    expect(strict.stderr).toMatch(/^vramplan: context 65,536 exceeds the model's maximum of 32,768 tokens: lower --context/);
  });
});

describe("bad input: one line on stderr, a documented exit code, no stack trace unless --debug", () => {
  const cases: [string, string[], number, RegExp][] = [
    ["an invalid id", ["plan", "not a model"], EXIT_CODES.usage, /invalid model id "not a model": expected a Hugging Face model id like Qwen\/Qwen2\.5-7B/],
    ["a URL instead of an id", ["plan", "https://huggingface.co/Qwen/Qwen2.5-7B"], EXIT_CODES.usage, /is a URL, not a model id: pass "Qwen\/Qwen2\.5-7B" instead/],
    ["a bad context", ["plan", "Qwen/Qwen2.5-7B", "-c", "lots"], EXIT_CODES.usage, /--context must be a whole number of tokens/],
    ["an unknown option", ["plan", "Qwen/Qwen2.5-7B", "--contxt", "5"], EXIT_CODES.usage, /unknown option: --contxt/],
    ["no command", [], EXIT_CODES.usage, /name a command/],
    ["offline with nothing cached", ["plan", "acme/unknown-model"], EXIT_CODES.offlineNotCached, /^vramplan: offline and acme\/unknown-model@main is not in the Hugging Face cache/],
  ];
  for (const [what, argv, code, pattern] of cases) {
    it(what, async () => {
      const result = await runCliCaptured(argv, await envFor());
      expect(result.code).toBe(code);
      expect(result.stderr).toMatch(pattern);
      expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
      expect(result.stdout).toBe("");
    });
  }

  it("--debug adds the stack", async () => {
    const result = await runCliCaptured(["plan", "acme/unknown-model", "--debug"], await envFor());
    expect(result.code).toBe(EXIT_CODES.offlineNotCached);
    expect(result.stderr).toMatch(/\n\s+at /);
  });

  it("the token never appears in an error, even with --debug", async () => {
    const token = "hf_DoNotPrintThisToken123";
    // An endpoint nobody listens on; the token is in its path to check that even the URLs printed
    // under --debug are scrubbed.
    const env = { ...(await envFor()), HF_HUB_OFFLINE: "", HF_ENDPOINT: `http://127.0.0.1:${await closedPort()}/${token}`, HF_TOKEN: token };
    const result = await runCliCaptured(["plan", "acme/unknown-model", "--debug"], env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).not.toContain(token);
    expect(result.stdout).not.toContain(token);
  });
});

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { createHubFetch } from "../../src/hub/http.js";
import { runCliCaptured } from "../support/run-cli.js";

let root: string | undefined;
afterEach(async () => {
  if (root) await rm(root, { recursive: true, force: true });
  root = undefined;
});

const TOKEN = "hf_SecretTokenValue0123456789";

describe("a token that cannot be one", () => {
  it("pasted twice (a line break inside): exit 2 naming HF_TOKEN, and not one byte of it in any output or file", async () => {
    root = await mkdtemp(join(tmpdir(), "vramplan-secret-"));
    const env = { HF_HUB_CACHE: join(root, "hf"), VRAMPLAN_CACHE: join(root, "vp"), HF_ENDPOINT: "http://127.0.0.1:9", HF_TOKEN: `${TOKEN}\n${TOKEN}\n` };
    const out = join(root, "rows.csv");
    const runs = [
      ["plan", "Qwen/Qwen2.5-7B"],
      ["batch", "-", "--format", "csv"],
      ["batch", "-", "--out", out],
      ["cache", "prefetch", "Qwen/Qwen2.5-7B"],
      ["plan", "Qwen/Qwen2.5-7B", "--debug"],
    ];
    for (const args of runs) {
      const result = await runCliCaptured(args, env, { stdin: "Qwen/Qwen2.5-7B\n" });
      expect(result.code, args.join(" ")).toBe(EXIT_CODES.usage);
      expect(result.stderr).toMatch(/^vramplan: HF_TOKEN contains a space, a line break or a character that cannot go in an HTTP header/);
      for (const text of [result.stdout, result.stderr]) expect(text).not.toContain("SecretTokenValue");
    }
    expect(await readFile(out, "utf8").catch(() => "")).not.toContain("SecretTokenValue");
  });

  it("the library refuses one too, without quoting it", () => {
    expect(() => createHubFetch({ endpoint: "https://hub.example", token: `${TOKEN} ${TOKEN}` })).toThrow(/^the token contains a space/);
    try {
      createHubFetch({ endpoint: "https://hub.example", token: `${TOKEN}\u0000` });
    } catch (error) {
      expect((error as Error).message).not.toContain("SecretTokenValue");
    }
  });

  it("a valid token quoted by any message is scrubbed from stdout and stderr", async () => {
    root = await mkdtemp(join(tmpdir(), "vramplan-secret-"));
    // The token in the endpoint's path: every network error names the URL.
    const env = { HF_HUB_CACHE: join(root, "hf"), VRAMPLAN_CACHE: join(root, "vp"), HF_ENDPOINT: `http://127.0.0.1:9/${TOKEN}`, HF_TOKEN: TOKEN };
    const result = await runCliCaptured(["batch", "-", "--format", "jsonl", "--debug"], env, { stdin: "acme/not-built-in\n" });
    expect(result.stdout + result.stderr).toContain("hf_***");
    for (const text of [result.stdout, result.stderr]) expect(text).not.toContain("SecretTokenValue");
  });
});

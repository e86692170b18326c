import { afterEach, describe, expect, it } from "vitest";
import { runCliCaptured } from "../support/run-cli.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

/*
 * Text views fit the terminal (100 columns when output is not one) without losing a number: each
 * figure the --json object holds is still in the text, whole.
 */
let settings: TempSettings;
afterEach(async () => settings?.cleanup());

async function offlineEnv(extra: Record<string, string> = {}) {
  settings = await tempSettings();
  return { HF_HUB_CACHE: settings.hfCacheDir, VRAMPLAN_CACHE: settings.cacheDir, HF_HUB_OFFLINE: "1", ...extra };
}

const longest = (text: string) => Math.max(...text.split("\n").map((line) => line.length));
const digits = (value: number) => String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ",");

describe("output width", () => {
  it("plan with serving and three formats: within 100 columns by default, 80 with COLUMNS=80, every figure kept", async () => {
    const args = ["plan", "Qwen/Qwen2.5-7B", "-c", "32k", "--gpu", "4090", "--compare", "bf16,fp8,int4"];
    const env = await offlineEnv();
    const plan = JSON.parse((await runCliCaptured([...args, "--json"], env)).stdout);
    for (const [columns, limit] of [[undefined, 100], ["80", 80]] as const) {
      const text = (await runCliCaptured(args, columns ? { ...env, COLUMNS: columns } : env)).stdout;
      expect(longest(text), `COLUMNS=${columns}`).toBeLessThanOrEqual(limit);
      for (const bytes of [plan.weights.bytes, plan.kvCache.bytes, plan.total.bytes]) expect(text).toContain(digits(bytes));
      for (const scheme of plan.serving.schemes) {
        expect(text).toContain(digits(scheme.kvTokens));
        expect(text).toContain(`${scheme.maxConcurrency.toFixed(2)}×`);
      }
    }
    // A wide terminal gets the one-line model header back.
    const wide = (await runCliCaptured(args, { ...env, COLUMNS: "250" })).stdout;
    expect(wide.split("\n")[0]).toBe("Qwen/Qwen2.5-7B @ main (built-in copy) · qwen2 · 7.62 billion parameters · bf16 · 28 layers · 28 query / 4 KV heads · head_dim 128");
  });

  it("train, a GGUF repo, --explain and a batch table stay within 100 columns", async () => {
    const env = await offlineEnv();
    const runs = [
      ["train", "Qwen/Qwen2.5-7B", "--method", "qlora", "--gpu", "4090", "--seq", "2k", "--explain"],
      ["plan", "bartowski/Meta-Llama-3.1-8B-Instruct-GGUF", "-c", "8k", "--gpu", "4090", "--explain"],
      ["plan", "deepseek-ai/DeepSeek-V3", "-c", "8k", "--gpu", "H200", "--gpus", "8", "--explain"],
      ["batch", "-", "-c", "8k", "--gpu", "H100"],
    ];
    for (const args of runs) {
      const result = await runCliCaptured(args, env, { stdin: "Qwen/Qwen2.5-7B\nopenai-community/gpt2\n" });
      expect(result.stderr, args.join(" ")).not.toMatch(/error/);
      // The only lines allowed past the width are single words that cannot be broken (a source path).
      const over = result.stdout.split("\n").filter((line) => line.length > 100 && line.trim().includes(" "));
      expect(over, args.join(" ")).toEqual([]);
    }
    const train = JSON.parse((await runCliCaptured(["train", "Qwen/Qwen2.5-7B", "--method", "qlora", "--gpu", "4090", "--seq", "2k", "--json"], env)).stdout);
    const text = (await runCliCaptured(["train", "Qwen/Qwen2.5-7B", "--method", "qlora", "--gpu", "4090", "--seq", "2k"], env)).stdout;
    expect(text).toContain(digits(train.totalPerGpu));
    for (const line of train.modelStates.lines) expect(text).toContain(digits(line.bytes));
  });
});

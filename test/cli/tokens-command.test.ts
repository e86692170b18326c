import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { fixtureConfig } from "../support/fixtures.js";
import { placeInHfCache } from "../support/hf-cache.js";
import { runCliCaptured } from "../support/run-cli.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";
import { ALTERNATING_TEMPLATE, handTokenizerJson, tokenizerConfig } from "../tokens/hand-tokenizer.js";

let settings: TempSettings;
afterEach(async () => settings?.cleanup());
const COMMIT = "fedcba9876543210fedcba9876543210fedcba98";

async function offlineEnv() {
  settings = await tempSettings();
  // A wide terminal: these tests read whole lines; fitting to a width has its own test.
  return { HF_HUB_CACHE: settings.hfCacheDir, VRAMPLAN_CACHE: settings.cacheDir, HF_HUB_OFFLINE: "1", COLUMNS: "250" };
}

const FRANCE = JSON.stringify([{ role: "user", content: "What is the capital of France?" }]);

describe("vramplan tokens (offline, built-in Qwen2.5 instruct tokenizer)", () => {
  it("prints the count and where the template came from", async () => {
    const result = await runCliCaptured(["tokens", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--messages", "-"], await offlineEnv(), { stdin: FRANCE });
    expect(result.code).toBe(0);
    // 36: the prompt_token_ids vLLM logs for this chat (see test/tokens/tokens.test.ts).
    expect(result.stdout.split("\n").slice(0, 2)).toEqual([
      "Qwen/Qwen2.5-7B-Instruct-AWQ @ main (built-in copy)",
      "36 tokens: the conversation through the chat template of tokenizer_config.json, with the prompt for the assistant's answer",
    ]);
  });

  it("--show prints the rendered text and each token; --json the whole count", async () => {
    const env = await offlineEnv();
    const shown = await runCliCaptured(["tokens", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--messages", "-", "--show"], env, { stdin: FRANCE });
    expect(shown.stdout).toContain("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n");
    expect(shown.stdout).toMatch(/^\s+151644 {2}"<\|im_start\|>"$/m);
    const json = JSON.parse((await runCliCaptured(["tokens", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--messages", "-", "--json"], env, { stdin: FRANCE })).stdout);
    expect(json).toMatchObject({ schema: "vramplan.tokens/1", input: "messages", tokens: 36, template: { file: "tokenizer_config.json" } });
  });

  it("plan --messages --max-new-tokens shows the split", async () => {
    const result = await runCliCaptured(["plan", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--messages", "-", "--max-new-tokens", "1k"], await offlineEnv(), { stdin: FRANCE });
    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[1]).toMatch(/^context 1,060 tokens \(max 32,768\) × 1 sequence/);
    expect(lines[2]).toBe("        = 36 tokens of the conversation through the chat template (tokenizer_config.json) + 1,024 new tokens (--max-new-tokens)");
  });

  it("usage errors: nothing to count, --context with --messages, --max-new-tokens alone", async () => {
    const env = await offlineEnv();
    expect((await runCliCaptured(["tokens", "Qwen/Qwen2.5-7B-Instruct-AWQ"], env)).stderr).toBe("vramplan: name what to count: --messages chat.json or --prompt-file prompt.txt\n");
    const both = await runCliCaptured(["plan", "Qwen/Qwen2.5-7B-Instruct-AWQ", "-c", "8k", "--messages", "-"], env, { stdin: FRANCE });
    expect(both.code).toBe(EXIT_CODES.usage);
    const alone = await runCliCaptured(["plan", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--max-new-tokens", "100"], env);
    expect(alone).toMatchObject({ code: EXIT_CODES.usage, stderr: "vramplan: --max-new-tokens goes with --messages or --prompt-file; with --context, count the answer in\n" });
  });
});

describe("vramplan tokens errors, one line each with a distinct exit code", () => {
  it("a malformed messages file: exit 7 with file, line and column", async () => {
    const env = await offlineEnv();
    const file = join(settings.root, "chat.json");
    await writeFile(file, '[\n  {"role": "user" "content": "hi"}\n]');
    const result = await runCliCaptured(["tokens", "Qwen/Qwen2.5-7B-Instruct-AWQ", "--messages", file], env);
    expect(result.code).toBe(EXIT_CODES.malformed);
    expect(result.stderr).toBe(`vramplan: ${file}: not valid JSON (line 2, column 19: expected ',' or '}' after a property value, found "\\"")\n`);
  });

  it("a template that raises: exit 11, from a model in the HF cache", async () => {
    const env = await offlineEnv();
    await placeInHfCache(settings.hfCacheDir, "acme/strict-chat", COMMIT, {
      "config.json": JSON.stringify(fixtureConfig("Qwen/Qwen2.5-0.5B")),
      "tokenizer.json": JSON.stringify(handTokenizerJson()),
      "tokenizer_config.json": JSON.stringify(tokenizerConfig(ALTERNATING_TEMPLATE)),
    });
    const twoUsers = JSON.stringify([
      { role: "user", content: "hello" },
      { role: "user", content: "world" },
    ]);
    const result = await runCliCaptured(["tokens", "acme/strict-chat", "--messages", "-"], env, { stdin: twoUsers });
    expect(result.code).toBe(EXIT_CODES.chatTemplate);
    expect(result.stderr).toBe(
      "vramplan: the chat template of acme/strict-chat/tokenizer_config.json refused the conversation (raise_exception at line 3): Conversation roles must alternate user/assistant/user/assistant/...\n",
    );
    const fine = await runCliCaptured(["tokens", "acme/strict-chat", "--messages", "-"], env, { stdin: JSON.stringify([{ role: "user", content: "hello" }]) });
    // <|user|> hello <|end|>
    expect(fine.stdout.split("\n")[1]).toMatch(/^3 tokens: /);
  });

  it("offline with no tokenizer anywhere: exit 6 naming the files to download", async () => {
    const result = await runCliCaptured(["tokens", "acme/nothing", "--prompt-file", "-"], await offlineEnv(), { stdin: "hello" });
    expect(result.code).toBe(EXIT_CODES.offlineNotCached);
    expect(result.stderr).toMatch(/huggingface-cli download acme\/nothing tokenizer_config\.json tokenizer\.json/);
  });
});

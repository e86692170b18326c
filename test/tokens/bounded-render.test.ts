import { describe, expect, it } from "vitest";
import { isVramplanError } from "../../src/errors.js";
import { renderChatTemplate } from "../../src/tokens/chat-template.js";

/* Chat templates are code from the repo: one that never ends or fills memory is stopped, not the process. */
const conversation = { messages: [{ role: "user", content: "hi" }] } as never;
const variables = { addGenerationPrompt: true, specialTokens: {} };
const source = (template: string) => ({ template, file: "tokenizer_config.json", name: null });

async function failure(template: string, limits?: Parameters<typeof renderChatTemplate>[4]) {
  const started = Date.now();
  const error = await renderChatTemplate("acme/x", source(template), conversation, variables, limits).catch((caught: unknown) => caught);
  expect(isVramplanError(error), String(error)).toBe(true);
  return { code: (error as { code: string }).code, message: (error as Error).message, ms: Date.now() - started };
}

describe("a chat template under a budget", () => {
  it("renders an honest template in the worker", async () => {
    const text = await renderChatTemplate("acme/x", source("{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}{% if add_generation_prompt %}<assistant>{% endif %}"), conversation, variables);
    expect(text).toBe("<user>hi<assistant>");
  });

  it("a loop that does not end is stopped at the time budget: exit 11 naming the limit", async () => {
    const { code, message, ms } = await failure("{% for i in range(10**12) %}x{% endfor %}", { timeMs: 1_000, heapMb: 256, maxChars: 1_000_000 });
    expect(code).toBe("chatTemplate");
    expect(message).toMatch(/^the chat template of acme\/x\/tokenizer_config\.json did not finish within 1 s \(a loop that does not end\?\): stopped/);
    expect(ms).toBeLessThan(10_000);
  });

  it("a template whose output keeps growing is stopped by its own heap, and this process lives on", async () => {
    // In this process, V8 aborted with "JavaScript heap out of memory" (a worker thread's limit did not help).
    const { code, message } = await failure("{% for i in range(10**8) %}{{ 'x' * 1000 }}{{ i }}{% endfor %}", { timeMs: 20_000, heapMb: 64, maxChars: 1_000_000 });
    expect(code).toBe("chatTemplate");
    expect(message).toMatch(/^the chat template of acme\/x\/tokenizer_config\.json used more than 64 MB while rendering/);
  });

  it("a string past V8's length limit is a rendering failure, not a crash", async () => {
    const { code, message } = await failure("{% set s = namespace(v='x') %}{% for i in range(64) %}{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v }}", { timeMs: 20_000, heapMb: 1024, maxChars: 1_000_000 });
    expect(code).toBe("chatTemplate");
    expect(message).toMatch(/failed while rendering: Invalid string length|used more than 1024 MB/);
  });

  it("raise_exception is still the template refusing the conversation", async () => {
    const { code, message } = await failure("{{ raise_exception('only user turns') }}");
    expect(code).toBe("chatTemplate");
    expect(message).toMatch(/refused the conversation \(raise_exception at line 1\): only user turns/);
  });
});

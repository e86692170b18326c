import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { isVramplanError } from "../../src/errors.js";
import { parseModelRef } from "../../src/model-id.js";
import { plan } from "../../src/plan.js";
import { parseConversation, type Conversation } from "../../src/tokens/conversation.js";
import { countTokensFor, type TokenInput } from "../../src/tokens/count-tokens.js";
import { commitFor, MockHub, type MockModel } from "../support/mock-hub.js";
import { startMswHub } from "../support/msw-hub.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";
import { ALTERNATING_TEMPLATE, handTokenizerJson, LOOP_TEMPLATE, TOOLS_TEMPLATE, tokenizerConfig } from "./hand-tokenizer.js";

const hub = new MockHub();
const server = startMswHub(hub);
afterAll(() => server.close());
let settings: TempSettings;
afterEach(async () => {
  hub.log.length = 0;
  await settings?.cleanup();
});

/** A repo: Qwen2.5-0.5B's config and tensors, with the hand-made tokenizer and the given template files. */
function chatModel(id: string, files: { chatTemplate?: unknown; extra?: Record<string, string> }): string {
  const base = hub.models.get("Qwen/Qwen2.5-0.5B") as MockModel;
  hub.setModel(id, {
    config: base.config as object,
    files: base.files ?? [],
    extra: {
      "tokenizer.json": JSON.stringify(handTokenizerJson()),
      "tokenizer_config.json": JSON.stringify(tokenizerConfig(files.chatTemplate)),
      ...files.extra,
    },
  });
  return id;
}

const messages = (...turns: [string, string][]): Conversation => ({ messages: turns.map(([role, content]) => ({ role, content })) });

async function count(id: string, input: TokenInput) {
  settings ??= await tempSettings();
  return countTokensFor(parseModelRef(id), input, settings);
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isVramplanError(error), `expected a VramplanError, got ${String(error)}`).toBe(true);
  expect((error as Error).message).not.toContain("\n");
  return error as { code: string; message: string };
}

describe("token counts through a chat template (hand-made tokenizer, counts worked in hand-tokenizer.ts)", () => {
  it("a loop over messages with a system prompt", async () => {
    settings = await tempSettings();
    const id = chatModel("acme/loop", { chatTemplate: LOOP_TEMPLATE });
    const counted = await count(id, { messages: messages(["system", "hello world"], ["user", "how are you?"], ["assistant", "hello"], ["user", "hold"]) });
    expect(counted.text).toBe("<|system|>hello world<|end|><|user|>how are you?<|end|><|assistant|>hello<|end|><|user|>hold<|end|><|assistant|>");
    // <|system|> hello world <|end|> = 4; <|user|> how(3) are(1) you(3) ?(1) <|end|> = 10;
    // <|assistant|> hello <|end|> = 3; <|user|> hold(4) <|end|> = 6; <|assistant|> = 1.  4+10+3+6+1 = 24
    expect(counted.tokens).toBe(24);
    expect(counted.pieces.slice(4, 10)).toEqual(["<|user|>", "h", "o", "w", "are", "y"]);
    expect(counted.template).toEqual({ file: "tokenizer_config.json", name: null, addGenerationPrompt: true });
  });

  it("the template's default system prompt when there is none, and no generation prompt when asked", async () => {
    settings = await tempSettings();
    const id = chatModel("acme/loop-default", { chatTemplate: LOOP_TEMPLATE });
    // <|system|> hello world <|end|> <|user|> hello <|end|> <|assistant|> = 8
    expect((await count(id, { messages: messages(["user", "hello"]) })).tokens).toBe(8);
    expect((await count(id, { messages: messages(["user", "hello"]), addGenerationPrompt: false })).tokens).toBe(7);
  });

  it("a template that raises: a chatTemplate error quoting it, with the line of raise_exception", async () => {
    settings = await tempSettings();
    const id = chatModel("acme/alternating", { chatTemplate: ALTERNATING_TEMPLATE });
    // <|user|> hello <|end|> <|assistant|> world <|end|> = 6
    expect((await count(id, { messages: messages(["user", "hello"], ["assistant", "world"]) })).tokens).toBe(6);
    const error = await failure(count(id, { messages: messages(["user", "hello"], ["user", "world"]) }));
    expect(error.code).toBe("chatTemplate");
    expect(error.message).toBe(
      "the chat template of acme/alternating/tokenizer_config.json refused the conversation (raise_exception at line 3): Conversation roles must alternate user/assistant/user/assistant/...",
    );
  });

  it("tool definitions reach the template; a named tool_use template is picked when tools are given", async () => {
    settings = await tempSettings();
    const tools = [
      { type: "function", function: { name: "hello", description: "Says hello", parameters: { type: "object", properties: {} } } },
      { type: "function", function: { name: "world", parameters: { type: "object", properties: {} } } },
    ];
    const id = chatModel("acme/tools", { chatTemplate: [{ name: "default", template: LOOP_TEMPLATE }, { name: "tool_use", template: TOOLS_TEMPLATE }] });
    const withTools = await count(id, { messages: { ...messages(["user", "how are you?"]), tools } });
    expect(withTools.text).toBe("<|system|>hello world <|end|><|user|>how are you?<|end|><|assistant|>");
    // <|system|> hello world <|end|> = 4; <|user|> how(3) are you(3) ? <|end|> = 10; <|assistant|> = 1
    expect(withTools.tokens).toBe(15);
    expect(withTools.template?.name).toBe("tool_use");
    const without = await count(id, { messages: messages(["user", "how are you?"]) });
    expect(without.template?.name).toBe("default");
    // <|system|> hello world <|end|> = 4, then 10, then 1
    expect(without.tokens).toBe(15);
    expect(without.text.startsWith("<|system|>hello world<|end|>")).toBe(true);
  });

  it("a plain prompt gets the tokenizer's special tokens", async () => {
    settings = await tempSettings();
    const id = chatModel("acme/prompt", { chatTemplate: LOOP_TEMPLATE });
    // <s> hello world . = 4; "z" is not in the vocabulary: one [UNK]
    expect((await count(id, { text: "hello world." })).pieces).toEqual(["<s>", "hello", "world", "."]);
    expect((await count(id, { text: "hello z" })).pieces).toEqual(["<s>", "hello", "[UNK]"]);
  });

  it("a chat_template.jinja file when tokenizer_config.json has none", async () => {
    settings = await tempSettings();
    const id = chatModel("acme/jinja-file", { extra: { "chat_template.jinja": ALTERNATING_TEMPLATE } });
    const counted = await count(id, { messages: messages(["user", "hello"]) });
    expect([counted.tokens, counted.template?.file]).toEqual([3, "chat_template.jinja"]);
  });

  it("a repo with no chat template says so and points to --prompt-file", async () => {
    settings = await tempSettings();
    const id = chatModel("acme/base", {});
    const error = await failure(count(id, { messages: messages(["user", "hello"]) }));
    expect(error.code).toBe("unsupported");
    expect(error.message).toMatch(/^acme\/base has no chat template .*`promptFile` instead$/);
  });
});

describe("bad templates", () => {
  it("a syntax error names the file, line and column", async () => {
    settings = await tempSettings();
    const line2 = "{{- message.content +* 'x' }}";
    const id = chatModel("acme/syntax", { chatTemplate: `{%- for message in messages %}\n${line2}\n{%- endfor %}` });
    const error = await failure(count(id, { messages: messages(["user", "hello"]) }));
    expect(error.code).toBe("malformed");
    expect(error.message).toBe(`acme/syntax/tokenizer_config.json chat template: line 2, column ${line2.indexOf("*") + 1}: Unexpected token: MultiplicativeBinaryOperator`);
  });

  it("a block never closed is reported at the end", async () => {
    settings = await tempSettings();
    const id = chatModel("acme/unclosed", { chatTemplate: "{%- for message in messages %}\n{{- message.content }}" });
    const error = await failure(count(id, { messages: messages(["user", "hello"]) }));
    expect(error.message).toBe("acme/unclosed/tokenizer_config.json chat template: line 1: {% for %} is never closed (no {% endfor %} before the end of the template)");
  });

  it("calling something undefined fails with a chatTemplate error near its line", async () => {
    settings = await tempSettings();
    const id = chatModel("acme/undefined-call", { chatTemplate: "{{- bos_token }}\n{{- format_tools(tools) }}" });
    const error = await failure(count(id, { messages: messages(["user", "hello"]) }));
    expect(error.code).toBe("chatTemplate");
    expect(error.message).toMatch(/^the chat template of acme\/undefined-call\/tokenizer_config\.json failed while rendering \(near line 2\): /);
  });

  it("sees nothing but its inputs: no prototypes, no globals", async () => {
    settings = await tempSettings();
    const probe = "{{ messages.constructor }}{{ ''.__class__ }}{{ messages[0].__proto__ }}{{ cycler.__init__.__globals__ }}{{ process }}{{ globalThis }}<|user|>";
    const id = chatModel("acme/sandbox", { chatTemplate: probe });
    expect((await count(id, { messages: messages(["user", "hello"]) })).text).toBe("<|user|>");
  });
});

describe("where tokenizer files come from", () => {
  it("fetched once into the HF cache; offline afterwards with no request", async () => {
    settings = await tempSettings();
    const id = chatModel("acme/cached", { chatTemplate: LOOP_TEMPLATE });
    const online = await count(id, { messages: messages(["user", "hello"]) });
    expect(online.model).toEqual({ id, revision: "main", commit: commitFor(id), source: "hub" });
    const snapshot = join(settings.hfCacheDir, "models--acme--cached", "snapshots", commitFor(id));
    expect((await readdir(snapshot)).sort()).toEqual(["tokenizer.json", "tokenizer_config.json"]);
    hub.log.length = 0;
    const offline = await countTokensFor(parseModelRef(id), { messages: messages(["user", "hello"]) }, { ...settings, offline: true });
    expect([offline.tokens, offline.model.source, hub.log.length]).toEqual([8, "hf-cache", 0]);
  });

  it("the built-in Qwen2.5 instruct tokenizer matches the token ids vLLM logged for the same chat", async () => {
    settings = await tempSettings({ offline: true });
    // vLLM RequestOutput for Qwen2.5-Instruct, messages [{user: "What is the capital of France?"}]
    // with the default system prompt (prompt_token_ids as logged in a public vLLM client's test).
    const vllmIds = [
      151644, 8948, 198, 2610, 525, 1207, 16948, 11, 3465, 553, 54364, 14817, 13, 1446, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 3838, 374, 279, 6722, 315, 9625, 30,
      151645, 198, 151644, 77091, 198,
    ];
    const counted = await countTokensFor(parseModelRef("Qwen/Qwen2.5-7B-Instruct-AWQ"), { messages: messages(["user", "What is the capital of France?"]) }, settings);
    expect(counted.ids).toEqual(vllmIds);
    expect(counted.model.source).toBe("builtin");
  });
});

describe("plan --messages", () => {
  it("sizes the context as prompt tokens + new tokens, and the KV cache from it", async () => {
    settings = await tempSettings();
    const id = chatModel("acme/planned", { chatTemplate: LOOP_TEMPLATE });
    const result = await plan(id, {
      prompt: { input: { messages: messages(["system", "hello world"], ["user", "how are you?"], ["assistant", "hello"], ["user", "hold"]) }, maxNewTokens: 100 },
      hub: settings,
    });
    expect(result.options.prompt).toEqual({ input: "messages", promptTokens: 24, newTokens: 100, template: { file: "tokenizer_config.json", name: null, addGenerationPrompt: true } });
    expect(result.options.context).toBe(124);
    expect(result.options.contextSource).toBe("prompt");
    // Qwen2.5-0.5B: 24 layers × 2 (K, V) × 2 KV heads × 64 head_dim × 2 B = 12,288 B per token.
    expect(result.kvCache.bytes).toBe(24 * 2 * 2 * 64 * 2 * 124);
  });

  it("refuses a prompt and a context together", async () => {
    settings = await tempSettings();
    const id = chatModel("acme/both", { chatTemplate: LOOP_TEMPLATE });
    const error = await failure(plan(id, { context: 4096, prompt: { input: { text: "hello" } }, hub: settings }));
    expect(error.code).toBe("usage");
  });
});

describe("messages files", () => {
  it("bad JSON names the file, line and column", () => {
    const text = '[\n  {"role": "user",\n   "content": "hi"\n   "name": "x"}\n]';
    expect(() => parseConversation(text, "chat.json")).toThrow('chat.json: not valid JSON (line 4, column 4: expected \',\' or \'}\' after a property value, found "\\"")');
    expect(() => parseConversation('[{"role": "user", "content": "hi"}', "chat.json")).toThrow("chat.json: not valid JSON (line 1, column 35: unexpected end of file)");
  });

  it("a wrong shape names the JSON path", () => {
    expect(() => parseConversation('[{"role": "user", "content": "hi"}, {"content": "x"}]', "chat.json")).toThrow('chat.json: messages[1].role must be a string such as "user", "assistant" or "system"');
    expect(() => parseConversation('{"messages": [{"role": "user", "content": 3}]}', "c.json")).toThrow("c.json: messages[0].content must be a string, null or an array of content parts");
    expect(() => parseConversation('{"messages": [{"role": "user", "content": "x"}], "tools": {}}', "c.json")).toThrow("c.json: tools must be an array of tool definitions");
    expect(() => parseConversation("[]", "c.json")).toThrow("c.json: messages is empty: a chat needs at least one message");
  });

  it("accepts a chat completions body with tools and content parts", () => {
    const parsed = parseConversation('{"model": "x", "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}], "tools": [{"type": "function", "function": {"name": "f"}}]}', "c.json");
    expect(parsed.messages).toHaveLength(1);
    expect(parsed.tools).toHaveLength(1);
  });
});

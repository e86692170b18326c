import { UsageError } from "../errors.js";
import { loadRepoFiles, type RepoFileSource } from "../hub/load-repo-files.js";
import type { HubSettings } from "../hub/settings.js";
import type { ModelRef } from "../model-id.js";
import { renderChatTemplate, selectChatTemplate, specialTokenVariables } from "./chat-template.js";
import type { Conversation } from "./conversation.js";
import { createTokenizer, parseTokenizerConfig } from "./tokenizer.js";

/** What to count: a conversation through the model's chat template, or a plain text prompt. */
export type TokenInput =
  | { messages: Conversation; addGenerationPrompt?: boolean | undefined }
  | { text: string; addSpecialTokens?: boolean | undefined };

export interface TokenCount {
  schema: "vramplan.tokens/1";
  model: { id: string; revision: string; commit: string | null; source: RepoFileSource };
  input: "messages" | "prompt";
  /** Tokens of the rendered conversation (or the prompt), as the model's tokenizer makes them. */
  tokens: number;
  /** The chat template used, for messages. */
  template: { file: string; name: string | null; addGenerationPrompt: boolean } | null;
  /** The text that was tokenized: the rendered template, or the prompt. */
  text: string;
  ids: number[];
  pieces: string[];
  notes: string[];
}

/** tokenizer.json files run to tens of MB (Gemma 3's is 33 MB); beyond this it is not one. */
const MAX_TOKENIZER_BYTES = 64_000_000;

/**
 * Counts tokens the way transformers does: a conversation is rendered with the chat template
 * (messages, tools, add_generation_prompt, the special tokens) and tokenized without adding
 * special tokens again, as apply_chat_template does; a plain prompt is tokenized with them, as
 * `tokenizer(text)` does.
 */
export async function countTokensFor(ref: ModelRef, input: TokenInput, settings: HubSettings, commit?: string): Promise<TokenCount> {
  const loaded = await loadRepoFiles(ref, settings, { required: ["tokenizer_config.json", "tokenizer.json"], commit, maxBytes: MAX_TOKENIZER_BYTES });
  const tokenizerConfig = parseTokenizerConfig(ref.id, loaded.files.get("tokenizer_config.json") as Uint8Array);

  let text: string;
  let template: TokenCount["template"] = null;
  let addSpecialTokens: boolean;
  let tokenizer: ReturnType<typeof createTokenizer> | undefined;
  if ("messages" in input) {
    // A built-in copy has no commit to fetch at: its other files are built in too, or absent.
    const repoSettings = loaded.source === "builtin" ? { ...settings, offline: true } : settings;
    const separate =
      tokenizerConfig["chat_template"] === undefined
        ? await loadRepoFiles(ref, repoSettings, { required: [], optional: ["chat_template.jinja", "chat_template.json"], commit: loaded.commit, maxBytes: MAX_TOKENIZER_BYTES })
        : undefined;
    const jinja = separate?.files.get("chat_template.jinja");
    const json = separate?.files.get("chat_template.json");
    const source = selectChatTemplate(
      ref.id,
      {
        tokenizerConfig,
        jinjaFile: jinja ? new TextDecoder().decode(jinja) : null,
        jsonFile: json ? parseTokenizerConfig(ref.id, json, "chat_template.json") : null,
      },
      Boolean(input.messages.tools?.length),
    );
    const addGenerationPrompt = input.addGenerationPrompt ?? true;
    // The template renders in a process of its own (on the other core) while the tokenizer is
    // built here; a template that refuses the conversation still ends the count.
    const rendering = renderChatTemplate(ref.id, source, input.messages, { addGenerationPrompt, specialTokens: specialTokenVariables(tokenizerConfig) });
    rendering.catch(() => undefined);
    tokenizer = createTokenizer(ref.id, loaded.files.get("tokenizer.json") as Uint8Array, tokenizerConfig);
    // Marked as handled: if the template fails first, nobody awaits the tokenizer.
    tokenizer.catch(() => undefined);
    text = await rendering;
    template = { file: source.file, name: source.name, addGenerationPrompt };
    addSpecialTokens = false;
  } else {
    if (input.text.length === 0) throw new UsageError("the prompt is empty");
    text = input.text;
    addSpecialTokens = input.addSpecialTokens ?? true;
  }

  const built = await (tokenizer ?? createTokenizer(ref.id, loaded.files.get("tokenizer.json") as Uint8Array, tokenizerConfig));
  const encoded = built.encode(text, addSpecialTokens);
  return {
    schema: "vramplan.tokens/1",
    model: { id: ref.id, revision: ref.revision, commit: loaded.commit ?? null, source: loaded.source },
    input: "messages" in input ? "messages" : "prompt",
    tokens: encoded.ids.length,
    template,
    text,
    ids: encoded.ids,
    pieces: encoded.tokens,
    notes: loaded.notes,
  };
}

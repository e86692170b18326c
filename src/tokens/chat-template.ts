import type { Template as JinjaTemplate } from "@huggingface/jinja";
import { ChatTemplateError, MalformedFileError, UnsupportedModelError } from "../errors.js";
import { lineAndColumn } from "../util/json-position.js";
import { DEFAULT_RENDER_LIMITS, renderBounded, type RenderLimits } from "./bounded-render.js";
import type { Conversation } from "./conversation.js";

/** A chat template and where it came from, for error messages. */
export interface ChatTemplateSource {
  template: string;
  /** The repo file that holds it: tokenizer_config.json, chat_template.jinja or chat_template.json. */
  file: string;
  /** The named template picked from a list ("default", "tool_use"), or null for a single one. */
  name: string | null;
}

type TemplateField = string | { name?: unknown; template?: unknown }[] | undefined;

/**
 * Picks the template transformers would: a chat_template.jinja file first, then chat_template.json,
 * then tokenizer_config.json's `chat_template`; from a list of named templates, "tool_use" when
 * tools are given and it exists, else "default".
 */
export function selectChatTemplate(
  modelId: string,
  sources: { tokenizerConfig: Record<string, unknown>; jinjaFile?: string | null; jsonFile?: Record<string, unknown> | null },
  hasTools: boolean,
): ChatTemplateSource {
  if (typeof sources.jinjaFile === "string") return { template: sources.jinjaFile, file: "chat_template.jinja", name: null };
  const candidates: [string, TemplateField][] = [
    ["chat_template.json", sources.jsonFile?.["chat_template"] as TemplateField],
    ["tokenizer_config.json", sources.tokenizerConfig["chat_template"] as TemplateField],
  ];
  for (const [file, field] of candidates) {
    if (typeof field === "string") return { template: field, file, name: null };
    if (Array.isArray(field)) {
      const named = new Map(field.filter((entry) => typeof entry?.name === "string" && typeof entry.template === "string").map((entry) => [entry.name as string, entry.template as string]));
      const name = hasTools && named.has("tool_use") ? "tool_use" : named.has("default") ? "default" : undefined;
      if (name) return { template: named.get(name) as string, file, name };
      throw new MalformedFileError(`${modelId}/${file}`, `chat_template lists ${[...named.keys()].join(", ") || "no"} templates and none is named "default"`);
    }
  }
  throw new UnsupportedModelError(
    `${modelId} has no chat template (no chat_template in tokenizer_config.json, no chat_template.jinja): it is probably a base model; count a plain prompt with {promptFile} instead`,
  );
}

/** The special tokens transformers passes to every chat template, from tokenizer_config.json. */
const SPECIAL_TOKEN_FIELDS = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"] as const;

export function specialTokenVariables(tokenizerConfig: Record<string, unknown>): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const field of SPECIAL_TOKEN_FIELDS) {
    const value = tokenizerConfig[field];
    // Either a string or a serialized AddedToken `{ "content": "<s>", … }`.
    const content = typeof value === "string" ? value : typeof (value as { content?: unknown } | null)?.content === "string" ? (value as { content: string }).content : undefined;
    if (content !== undefined) variables[field] = content;
  }
  return variables;
}

/**
 * Renders the conversation through the template with @huggingface/jinja, whose interpreter sees
 * only the values passed here: no file system, no JavaScript objects' prototypes or globals. The
 * template is parsed here, where a syntax error can be located, and run in a bounded worker
 * (bounded-render.ts): a template that never ends or fills memory is stopped, not the process.
 */
export async function renderChatTemplate(
  modelId: string,
  source: ChatTemplateSource,
  conversation: Conversation,
  variables: { addGenerationPrompt: boolean; specialTokens: Record<string, string> },
  limits: RenderLimits = DEFAULT_RENDER_LIMITS,
): Promise<string> {
  // Imported here, not at the top: the CLI is one bundle, and a static import of an external
  // package would load the template engine on every run.
  const { Template } = await import("@huggingface/jinja");
  const where = `${modelId}/${source.file}${source.name ? ` ("${source.name}" template)` : ""}`;
  try {
    new Template(source.template);
  } catch (error) {
    // The parser reads past the last token when a block is left open, and fails with a TypeError.
    const unclosed = error instanceof TypeError ? unclosedBlock(source.template) : undefined;
    if (unclosed) throw new MalformedFileError(`${where} chat template`, unclosed, { cause: error });
    const position = locateSyntaxError(Template, source.template, (error as Error).message);
    throw new MalformedFileError(`${where} chat template`, `${position}: ${(error as Error).message}`, { cause: error });
  }
  const context = {
    messages: conversation.messages,
    ...(conversation.tools && { tools: conversation.tools }),
    add_generation_prompt: variables.addGenerationPrompt,
    ...variables.specialTokens,
  };
  const outcome = await renderBounded(source.template, context, limits);
  switch (outcome.kind) {
    case "ok":
      return outcome.text;
    case "raised": {
      const line = findLine(source.template, /raise_exception\s*\(/g, outcome.message);
      throw new ChatTemplateError(`the chat template of ${where} refused the conversation${line ? ` (raise_exception at line ${line})` : ""}: ${outcome.message}`);
    }
    case "error": {
      const line = runtimeErrorLine(source.template, outcome.message);
      throw new ChatTemplateError(`the chat template of ${where} failed while rendering${line ? ` (near line ${line})` : ""}: ${outcome.message}`);
    }
    case "timeout":
      throw new ChatTemplateError(`the chat template of ${where} did not finish within ${limits.timeMs / 1000} s (a loop that does not end?): stopped; count with {promptFile} instead`);
    case "memory":
      throw new ChatTemplateError(`the chat template of ${where} used more than ${limits.heapMb} MB while rendering (a string or list that keeps growing?): stopped; count with {promptFile} instead`);
    case "too-long":
      throw new ChatTemplateError(`the chat template of ${where} rendered ${outcome.length} characters, more than the ${limits.maxChars} a conversation can be: stopped`);
  }
}

/**
 * Where a syntax error is: @huggingface/jinja's messages carry no position, so the template is cut
 * after each line, then each column of the first line whose prefix fails with the same message.
 * An error that only the whole template shows (a block never closed) is at its end.
 */
export function locateSyntaxError(Template: typeof JinjaTemplate, template: string, message: string): string {
  const fails = (prefix: string) => {
    try {
      new Template(prefix);
      return false;
    } catch (error) {
      return (error as Error).message === message;
    }
  };
  const lines = template.split("\n");
  let offset = 0;
  for (let line = 0; line < lines.length; line++) {
    const end = offset + (lines[line] as string).length;
    if (fails(template.slice(0, end))) {
      for (let column = offset; column < end; column++) {
        if (fails(template.slice(0, column + 1))) return `line ${line + 1}, column ${column - offset + 1}`;
      }
      return `line ${line + 1}`;
    }
    offset = end + 1;
  }
  return `at the end (line ${lines.length}): a block is not closed`;
}

/** The 1-based line of the first match of `pattern`, preferring one whose line mentions `text`. */
function findLine(template: string, pattern: RegExp, text?: string): number | undefined {
  const matches = [...template.matchAll(pattern)].map((match) => match.index ?? 0);
  if (matches.length === 0) return undefined;
  const lineOf = (offset: number) => lineAndColumn(template, offset).line;
  if (text) {
    const lines = template.split("\n");
    const fragment = text.slice(0, 24);
    const mentioning = matches.find((offset) => lines[lineOf(offset) - 1]?.includes(fragment));
    if (mentioning !== undefined) return lineOf(mentioning);
  }
  return lineOf(matches[0] as number);
}

const BLOCK_TAG = /\{%[-+]?\s*(for|if|macro|call|filter|generation|endfor|endif|endmacro|endcall|endfilter|endgeneration)\b/g;

/** "line 3: {% for %} is never closed", from a walk over the block tags; undefined if they balance. */
function unclosedBlock(template: string): string | undefined {
  const open: { kind: string; offset: number }[] = [];
  for (const match of template.matchAll(BLOCK_TAG)) {
    const tag = match[1] as string;
    if (!tag.startsWith("end")) open.push({ kind: tag, offset: match.index ?? 0 });
    else if (open.at(-1)?.kind === tag.slice(3)) open.pop();
  }
  const last = open.at(-1);
  return last && `line ${lineAndColumn(template, last.offset).line}: {% ${last.kind} %} is never closed (no {% end${last.kind} %} before the end of the template)`;
}

/** Names a template may call without defining them: @huggingface/jinja's globals and Jinja keywords. */
const KNOWN_CALLABLES = new Set(["raise_exception", "range", "namespace", "strftime_now", "dict", "cycler", "joiner", "lipsum", "caller", "loop", "super", "if", "in", "not", "and", "or", "is", "else"]);

/**
 * The line of what a runtime error is about: a function the template calls but nobody defined
 * ("Cannot call something that is not a function"), else a name the message ends with.
 */
function runtimeErrorLine(template: string, message: string): number | undefined {
  if (/not a function/i.test(message)) {
    const macros = new Set([...template.matchAll(/\{%-?\s*macro\s+([A-Za-z_]\w*)/g)].map((match) => match[1]));
    for (const match of template.matchAll(/(?<![\w.|])([A-Za-z_]\w*)\s*\(/g)) {
      const name = match[1] as string;
      if (!KNOWN_CALLABLES.has(name) && !macros.has(name)) return lineAndColumn(template, match.index ?? 0).line;
    }
  }
  const name = /:\s*([A-Za-z_][\w.]*)\s*$/.exec(message)?.[1];
  return name ? findLine(template, new RegExp(`\\b${name.replaceAll(".", "\\.")}\\b`, "g")) : undefined;
}

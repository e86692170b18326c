import { MalformedFileError } from "../errors.js";
import { parseJsonFile } from "../util/json-position.js";

/** An OpenAI-style chat message; other fields (tool_calls, name, tool_call_id, …) pass through to the template. */
export interface ChatMessage {
  role: string;
  content?: string | null | ContentPart[];
  [field: string]: unknown;
}

export interface ContentPart {
  type: string;
  [field: string]: unknown;
}

export interface Conversation {
  messages: ChatMessage[];
  /** Tool (function) definitions, as the OpenAI API and transformers' apply_chat_template take them. */
  tools?: Record<string, unknown>[] | undefined;
}

/**
 * Reads a messages file: a JSON array of messages, or an object `{ "messages": [...], "tools": [...] }`
 * (the body of a chat completions request). Every problem names the file and where: line and
 * column for JSON errors, the JSON path for a wrong shape.
 */
export function parseConversation(text: string, file: string): Conversation {
  const raw = parseJsonFile(text, file);
  const bad = (path: string, problem: string): never => {
    throw new MalformedFileError(file, `${path} ${problem}`);
  };
  const body = Array.isArray(raw) ? { messages: raw } : raw;
  if (typeof body !== "object" || body === null) bad("the top level", 'must be an array of messages or an object with "messages"');
  const { messages, tools } = body as { messages?: unknown; tools?: unknown };
  if (!Array.isArray(messages)) bad("messages", "must be an array of {role, content} objects");
  if ((messages as unknown[]).length === 0) bad("messages", "is empty: a chat needs at least one message");
  (messages as unknown[]).forEach((message, index) => {
    const path = `messages[${index}]`;
    if (typeof message !== "object" || message === null || Array.isArray(message)) bad(path, "must be an object with role and content");
    const { role, content, tool_calls: toolCalls } = message as { role?: unknown; content?: unknown; tool_calls?: unknown };
    if (typeof role !== "string" || role.length === 0) bad(`${path}.role`, 'must be a string such as "user", "assistant" or "system"');
    // Only an assistant turn that calls tools may leave content out (OpenAI's chat format); a
    // template would otherwise concatenate an undefined value and fail without naming the message.
    if (content === undefined || content === null) {
      if (role === "assistant" && Array.isArray(toolCalls) && toolCalls.length > 0) return;
      bad(`${path}.content`, `is missing: a ${role} message needs content, a string or an array of content parts (only an assistant message with tool_calls may omit it)`);
    }
    if (typeof content === "string") return;
    if (!Array.isArray(content)) bad(`${path}.content`, "must be a string, null or an array of content parts");
    (content as unknown[]).forEach((part, partIndex) => {
      if (typeof part !== "object" || part === null || typeof (part as { type?: unknown }).type !== "string") {
        bad(`${path}.content[${partIndex}]`, 'must be an object with a "type", e.g. {"type": "text", "text": "…"}');
      }
    });
  });
  if (tools !== undefined && tools !== null) {
    if (!Array.isArray(tools)) bad("tools", "must be an array of tool definitions");
    (tools as unknown[]).forEach((tool, index) => {
      if (typeof tool !== "object" || tool === null || Array.isArray(tool)) bad(`tools[${index}]`, 'must be an object such as {"type": "function", "function": {…}}');
    });
  }
  return { messages: messages as ChatMessage[], ...(Array.isArray(tools) && { tools: tools as Record<string, unknown>[] }) };
}

/**
 * Typed errors. Each carries a stable `code` and the process exit code the CLI uses for it, so a
 * script can tell "the model does not exist" from "you are offline" without parsing text.
 * Messages are one line, name the problem and the fix, and never contain a token.
 */

export const EXIT_CODES = {
  ok: 0,
  internal: 1,
  usage: 2,
  notFound: 3,
  accessDenied: 4,
  network: 5,
  offlineNotCached: 6,
  malformed: 7,
  unsupported: 8,
  contextTooLong: 9,
  /** A batch finished, and some of its models failed (their rows say why). */
  partialFailure: 10,
  /** The model's chat template refused the conversation (raise_exception) or failed while rendering it. */
  chatTemplate: 11,
} as const;

export type ErrorCode = keyof typeof EXIT_CODES;

/** `{context}` in a message: an option, named as the library spells it unless a front end respells it. */
const OPTION = /\{([a-zA-Z]+)\}/g;

/** A message template with its option names spelled by `spell` (the CLI turns `context` into `--context`). */
export function spellOptions(template: string, spell: (option: string) => string): string {
  return template.replace(OPTION, (_match, option: string) => spell(option));
}

/** A message template in the library's words: `{seq}` → `seq` in backticks, as library callers name it. */
export function withOptionNames(template: string): string {
  return spellOptions(template, (option) => `\`${option}\``);
}

export class VramplanError extends Error {
  override readonly name: string = "VramplanError";
  readonly code: ErrorCode;
  readonly exitCode: number;
  /** The message with its options as `{name}` placeholders, for front ends that name them otherwise. */
  readonly template: string;

  constructor(code: ErrorCode, template: string, options?: { cause?: unknown }) {
    // Library callers read the options by their library names: `context`, `batch`, `kvDtype`.
    super(withOptionNames(template), options);
    this.code = code;
    this.exitCode = EXIT_CODES[code];
    this.template = template;
  }
}

export function isVramplanError(error: unknown): error is VramplanError {
  return error instanceof VramplanError;
}

export class UsageError extends VramplanError {
  override readonly name: string = "UsageError";
  constructor(template: string) {
    super("usage", template);
  }
}

/** A Hub answer that is final for this model: 404, 401/403 after everything was tried. */
export class HubHttpError extends VramplanError {
  override readonly name: string = "HubHttpError";
  readonly status: number;
  readonly url: string;
  constructor(code: ErrorCode, message: string, details: { status: number; url: string; cause?: unknown }) {
    super(code, message, { cause: details.cause });
    this.status = details.status;
    this.url = details.url;
  }
}

export class NetworkError extends VramplanError {
  override readonly name: string = "NetworkError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("network", message, options);
  }
}

export class OfflineNotCachedError extends VramplanError {
  override readonly name: string = "OfflineNotCachedError";
  constructor(message: string) {
    super("offlineNotCached", message);
  }
}

/** A file that arrived but cannot be read: bad JSON, a truncated or absurd safetensors header. */
export class MalformedFileError extends VramplanError {
  override readonly name: string = "MalformedFileError";
  readonly file: string;
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super("malformed", `${file}: ${problem}`, options);
    this.file = file;
  }
}

export class UnsupportedModelError extends VramplanError {
  override readonly name: string = "UnsupportedModelError";
  readonly field: string | undefined;
  constructor(message: string, field?: string) {
    super("unsupported", message);
    this.field = field;
  }
}

export class ContextTooLongError extends VramplanError {
  override readonly name: string = "ContextTooLongError";
  constructor(message: string) {
    super("contextTooLong", message);
  }
}

/** The chat template ran and failed: it raised (a conversation it does not accept) or hit an error. */
export class ChatTemplateError extends VramplanError {
  override readonly name: string = "ChatTemplateError";
  constructor(message: string, options?: { cause?: unknown }) {
    super("chatTemplate", message, options);
  }
}

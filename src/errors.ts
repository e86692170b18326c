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

export class VramplanError extends Error {
  override readonly name: string = "VramplanError";
  readonly code: ErrorCode;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.exitCode = EXIT_CODES[code];
  }
}

export function isVramplanError(error: unknown): error is VramplanError {
  return error instanceof VramplanError;
}

export class UsageError extends VramplanError {
  override readonly name: string = "UsageError";
  constructor(message: string) {
    super("usage", message);
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

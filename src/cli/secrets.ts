import type { CliIo } from "./output.js";

/**
 * What must never be printed or written: the token as set, and each word of it, so that a token
 * pasted twice or read with its line break is caught in whatever piece a message quotes.
 */
export function secretsOf(env: CliIo["env"]): string[] {
  const raw = [env["HF_TOKEN"], env["HUGGING_FACE_HUB_TOKEN"]].filter((value): value is string => Boolean(value?.trim()));
  const pieces = raw.flatMap((value) => [value.trim(), ...value.split(/\s+/)]).filter((piece) => piece.length >= 8);
  // Longest first, so a whole token is replaced before its pieces.
  return [...new Set(pieces)].sort((a, b) => b.length - a.length);
}

export function scrubSecrets(text: string, secrets: readonly string[]): string {
  return secrets.reduce((scrubbed, secret) => scrubbed.replaceAll(secret, "hf_***"), text);
}

/** The CLI's output with the token scrubbed from every byte: stdout, stderr and the files it writes. */
export function scrubbingIo(io: CliIo): CliIo {
  const secrets = secretsOf(io.env);
  if (secrets.length === 0) return io;
  const scrub = (text: string) => scrubSecrets(text, secrets);
  return { ...io, stdout: (text) => io.stdout(scrub(text)), stderr: (text) => io.stderr(scrub(text)), scrub };
}

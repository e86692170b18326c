import { readFile } from "node:fs/promises";
import { UsageError } from "../errors.js";
import type { CliIo } from "./output.js";

/**
 * What a bare `-` argument becomes before yargs sees it: yargs-parser turns `-` into an empty
 * string, which a command cannot tell from a forgotten argument.
 */
export const STDIN_ARG = "<stdin>";

export function protectStdinDash(argv: readonly string[]): string[] {
  const end = argv.indexOf("--");
  return argv.map((arg, index) => (arg === "-" && (end === -1 || index < end) ? STDIN_ARG : arg));
}

export async function readProcessStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

export async function readStdinOf(io: CliIo): Promise<string> {
  if (!io.readStdin) throw new UsageError("- (standard input) is not available here: pass a file");
  return io.readStdin();
}

/** A file named on the command line (ids, messages, a prompt); a missing one is a usage error, not a crash. */
export async function readInputFile(path: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

import { EXIT_CODES, isVramplanError, spellOptions } from "../errors.js";
import { cliFlag } from "./flags.js";

/**
 * The one place an error becomes output: one line on stderr for a known problem, a hint to rerun
 * with --debug for an unexpected one, the stack only under --debug. `stderr` is the CLI's
 * scrubbing one: the token never reaches the terminal, whatever produced the message.
 */
export function reportError(error: unknown, options: { debug: boolean; stderr: (text: string) => void }): number {
  const message = isVramplanError(error) ? spellOptions(error.template, cliFlag) : error instanceof Error ? error.message : String(error);
  if (isVramplanError(error)) {
    options.stderr(`vramplan: ${message}\n`);
  } else {
    options.stderr(`vramplan: unexpected error: ${message}${options.debug ? "" : " (run with --debug for details)"}\n`);
  }
  if (options.debug && error instanceof Error && error.stack) {
    options.stderr(`${error.stack}\n`);
    for (let cause = error.cause, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
      options.stderr(`caused by: ${cause.stack ?? cause.message}\n`);
    }
  }
  return isVramplanError(error) ? error.exitCode : EXIT_CODES.internal;
}

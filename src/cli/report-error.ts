import { EXIT_CODES, isVramplanError, spellOptions } from "../errors.js";
import { cliFlag } from "./flags.js";
import { scrubToken } from "./settings.js";

/**
 * The one place an error becomes output: one line on stderr for a known problem, a hint to rerun
 * with --debug for an unexpected one, the stack only under --debug. The token is scrubbed from
 * anything printed, whatever produced it.
 */
export function reportError(error: unknown, options: { debug: boolean; token?: string | undefined; stderr: (text: string) => void }): number {
  const scrub = (text: string) => scrubToken(text, options.token);
  const message = isVramplanError(error) ? spellOptions(error.template, cliFlag) : error instanceof Error ? error.message : String(error);
  if (isVramplanError(error)) {
    options.stderr(scrub(`vramplan: ${message}\n`));
  } else {
    options.stderr(scrub(`vramplan: unexpected error: ${message}${options.debug ? "" : " (run with --debug for details)"}\n`));
  }
  if (options.debug && error instanceof Error && error.stack) {
    options.stderr(scrub(`${error.stack}\n`));
    for (let cause = error.cause, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
      options.stderr(scrub(`caused by: ${cause.stack ?? cause.message}\n`));
    }
  }
  return isVramplanError(error) ? error.exitCode : EXIT_CODES.internal;
}

import { DEFAULT_WIDTH, type Layout } from "../report/layout.js";
import { inCliWords } from "./flags.js";
import { readProcessStdin } from "./read-input.js";

/** Where the CLI writes; injected so commands are testable without a child process. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stderr is a terminal (progress bars). */
  isTTY?: boolean;
  /** All of standard input, for `-` arguments. */
  readStdin?: () => Promise<string>;
  /** Parses a command line with every command's option definitions, without running it (set by runCli). */
  parseCommand?: (argv: readonly string[]) => Promise<Record<string, unknown>>;
  /** The clock progress lines are paced by; injected by tests. */
  now?: () => number;
  /** Removes secrets from text the CLI writes to a file; stdout and stderr already do. */
  scrub?: (text: string) => string;
  /** The terminal's width when stdout is one. */
  columns?: number | undefined;
}

/**
 * The width text views are fitted to: the terminal's, else COLUMNS when set (a pager, a CI log
 * that says its width), else 100.
 */
/** How text views are laid out for this CLI: fitted to the width, options named as flags. */
export function cliLayout(io: CliIo): Layout {
  return { width: outputWidth(io), words: inCliWords };
}

export function outputWidth(io: CliIo): number {
  if (io.columns !== undefined && io.columns > 0) return io.columns;
  const fromEnv = Number(io.env["COLUMNS"]);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_WIDTH;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  isTTY: Boolean(process.stderr.isTTY),
  readStdin: readProcessStdin,
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
};

/**
 * A command: its yargs definition and what it runs. main.ts registers the definition and runs the
 * command itself once yargs has parsed and validated the arguments, handing it the CliIo.
 */
export interface CliCommand<Args> {
  name: string;
  command: string;
  describe: string;
  builder: (yargs: import("yargs").Argv) => import("yargs").Argv<unknown>;
  run: (args: Args, io: CliIo) => Promise<void>;
}

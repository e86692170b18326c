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
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  isTTY: Boolean(process.stderr.isTTY),
  readStdin: readProcessStdin,
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

import yargs from "yargs";
import { EXIT_CODES } from "../errors.js";
import { hubSettingsFromEnv } from "../hub/settings.js";
import { planCommand } from "./commands/plan.js";
import { processIo, type CliIo } from "./output.js";
import { reportError } from "./report-error.js";

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const debug = argv.includes("--debug");
  let usageFailure: string | undefined;
  const parser = yargs([...argv])
    .scriptName("vramplan")
    .usage("$0 <command> [options]\n\nHow much GPU memory does this model need? Exact bytes from the Hugging Face Hub.")
    .command(planCommand(io) as never)
    .option("debug", { type: "boolean", default: false, global: true, describe: "Show stack traces and retries" })
    .demandCommand(1, "name a command, e.g. vramplan plan Qwen/Qwen2.5-7B")
    .strict()
    .recommendCommands()
    .help()
    .alias("h", "help")
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((message, error) => {
      if (error) throw error;
      usageFailure = message;
    });

  try {
    await parser.parseAsync();
  } catch (error) {
    return reportError(error, { debug, token: hubSettingsFromEnv(io.env).token, stderr: io.stderr });
  }
  if (usageFailure !== undefined) {
    io.stderr(`vramplan: ${usageFailure} (see vramplan --help)\n`);
    return EXIT_CODES.usage;
  }
  return EXIT_CODES.ok;
}

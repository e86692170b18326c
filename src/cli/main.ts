import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import yargs from "yargs";
import { EXIT_CODES, UsageError } from "../errors.js";
import { scrubbingIo } from "./secrets.js";
import { batchCommand } from "./commands/batch.js";
import { cacheCommand } from "./commands/cache.js";
import { dtypeCommand } from "./commands/dtype.js";
import { planCommand } from "./commands/plan.js";
import { serveCommand } from "./commands/serve.js";
import { tokensCommand } from "./commands/tokens.js";
import { trainCommand } from "./commands/train.js";
import { processIo, type CliCommand, type CliIo } from "./output.js";
import { protectStdinDash } from "./read-input.js";
import { reportError } from "./report-error.js";

/**
 * undici parses HTTP with a WebAssembly build of llhttp. V8 optimises that module on background
 * threads, and a process that made one request then waits ~70 ms for them before it can exit.
 * Baseline (Liftoff) code parses a CLI's few responses just as well. Set by the CLI only: a
 * library must not change its host's V8 flags.
 */
export function preferFastExit(): void {
  setFlagsFromString("--liftoff-only");
}

/**
 * Ends the process once what it printed is flushed. The answer is out by then; a socket a
 * hanging proxy holds open, or a request given up on, must not keep it alive for minutes.
 */
export function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

/**
 * A failure nothing awaited (a bug) still ends as one line and exit code 1, with the stack only
 * under --debug, never as Node's raw dump of the bundle's source.
 */
export function installCrashHandlers(argv: readonly string[], io: CliIo = processIo): void {
  const crash = (error: unknown) => {
    process.exitCode = reportError(error, { debug: argv.includes("--debug"), stderr: scrubbingIo(io).stderr });
    process.exit();
  };
  process.on("uncaughtException", crash);
  process.on("unhandledRejection", crash);
}

/**
 * This package's version, from the package.json two levels above this module: dist/cli/main.js
 * and the dist/bundle/cli.mjs bundle both sit there, wherever the package is installed (yargs'
 * own lookup starts from the working directory, and printed "unknown" anywhere else).
 */
function packageVersion(): string {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    const version = (JSON.parse(text) as { version?: unknown }).version;
    return typeof version === "string" ? version : "unknown";
  } catch {
    return "unknown";
  }
}

/** Runs the CLI on `argv` (without node and script) and returns the exit code. */
const commands: CliCommand<never>[] = [planCommand, batchCommand, tokensCommand, trainCommand, cacheCommand, dtypeCommand, serveCommand] as CliCommand<never>[];

export async function runCli(argv: readonly string[], given: CliIo = processIo): Promise<number> {
  const debug = argv.includes("--debug");
  // The server (vramplan serve) reads its queries through the same option definitions.
  const io: CliIo = { ...scrubbingIo(given), parseCommand };
  const parser = commandParser(argv);

  skipHelpPrerendering(parser);
  try {
    process.exitCode = undefined;
    const args = await parser.parseAsync();
    const chosen = commands.find((candidate) => candidate.name === args._[0]);
    // --help and --version are answered by yargs itself, with no command to run.
    if (chosen && !args["help"] && !args["version"]) await chosen.run(args as never, io);
  } catch (error) {
    return reportError(error, { debug, stderr: io.stderr });
  }
  // A command that finished but has a verdict (a batch with failed rows) sets process.exitCode.
  return typeof process.exitCode === "number" ? process.exitCode : EXIT_CODES.ok;
}

/** A command line parsed and validated with every command's option definitions, not run. */
export function parseCommand(argv: readonly string[]): Promise<Record<string, unknown>> {
  const parser = commandParser(argv);
  // No help is printed for a query: laying it out was most of a served plan's time.
  skipHelpPrerendering(parser);
  return parser.parseAsync() as Promise<Record<string, unknown>>;
}

/** Every command's options, validated and defaulted as the command line has them. */
function commandParser(argv: readonly string[]) {
  const parser = yargs(negativeNumbersAsValues(protectStdinDash(argv)))
    .scriptName("vramplan")
    // Operands stay as typed: "-0" must keep its sign, "007" is an id, not 7.
    .parserConfiguration({ "parse-positional-numbers": false })
    .usage("$0 <command> [options]\n\nHow much GPU memory does this model need? Exact bytes from the Hugging Face Hub.")
    .option("debug", { type: "boolean", default: false, global: true, describe: "Show stack traces and retries" })
    .demandCommand(1, "name a command, e.g. vramplan plan Qwen/Qwen2.5-7B")
    .strict()
    .recommendCommands()
    .help()
    .alias("h", "help")
    .middleware(lastFlagWins, true)
    .version(argv.includes("--version") ? packageVersion() : "")
    // No hard wrapping: yargs would break an example command mid-token, and it could no longer be
    // pasted; the terminal folds long lines without inserting newlines.
    .wrap(null)
    .example("$0 plan Qwen/Qwen2.5-7B --context 32768", "weights and KV cache of one model at 32k tokens, exact to the byte")
    .example("$0 plan meta-llama/Llama-3.1-8B -c 16k --gpu H100 --engine vllm@0.11", "does it fit an H100 under vLLM 0.11, how many requests at once")
    .example("$0 train Qwen/Qwen2.5-7B --method qlora --gpu 4090 --seq 2k", "QLoRA on a 24 GB card")
    .example("$0 batch models.txt -c 8k --out plans.csv", "many models into a CSV")
    .exitProcess(false)
    .fail((message, error) => {
      // Throwing stops yargs from running the command after a parse failure.
      const command = commands.find((candidate) => candidate.name === argv[0]);
      throw error ?? new UsageError(`${plainParseMessage(message, argv)} (see vramplan ${command ? `${command.name} ` : ""}--help)`);
    });
  for (const { command, describe, builder } of commands) parser.command({ command, describe, builder } as never);
  return parser;
}

/**
 * yargs' parse failures in words a person acts on: a missing model id says what to pass, and an
 * unknown flag is named once as typed (yargs lists both `bogus-flag` and `bogusFlag`).
 */
function plainParseMessage(message: string, argv: readonly string[]): string {
  if (/^Not enough non-option arguments/.test(message)) {
    const command = argv[0] ?? "";
    return command === "batch" ? "batch needs a file of model ids, or - for stdin" : `${command} needs a model id, e.g. vramplan ${command} Qwen/Qwen2.5-7B`;
  }
  const unknown = /^Unknown arguments?: (.*)$/.exec(message);
  const first = argv[0] ?? "";
  if (unknown?.[1] && !first.startsWith("-") && unknown[1].split(", ").includes(first) && !commands.some((command) => command.name === first)) {
    return `unknown command: ${first}; the commands are ${commands.map((command) => command.name).join(", ")}`;
  }
  if (unknown?.[1]) {
    const names = unknown[1].split(", ");
    const camel = (name: string) => name.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase());
    const typed = names.filter((name) => !names.some((other) => other !== name && camel(other) === name));
    return `unknown option${typed.length === 1 ? "" : "s"}: ${typed.map((name) => (name.length === 1 ? `-${name}` : `--${name}`)).join(", ")}`;
  }
  return message;
}

/** Arguments that are lists by design: variadic positionals (`cache prefetch a b c`) and yargs' own. */
const LIST_ARGUMENTS = new Set(["_", "--", "models", "$0"]);

/**
 * A repeated flag: the last one wins, as in most CLIs. yargs would make `-c 8192 -c 16384` an
 * array, which a number parser then reads as 819,216,384. (yargs-parser's
 * duplicate-arguments-array setting would also flatten variadic positionals, so it is not used.)
 */
function lastFlagWins(argv: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(argv)) {
    if (Array.isArray(value) && !LIST_ARGUMENTS.has(key)) argv[key] = value[value.length - 1];
  }
}

/**
 * yargs renders the full help text after every command it dispatches, in case a later failure
 * wants to print it (usage.js `cacheHelpMessage`). Our failures never print help, and measuring
 * the help's strings costs 15–20 ms of every run, more than planning a model: skip it.
 */
function skipHelpPrerendering(parser: object): void {
  const internal = (parser as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } }).getInternalMethods?.();
  const usage = internal?.getUsageInstance?.();
  if (usage && typeof usage.cacheHelpMessage === "function") usage.cacheHelpMessage = () => undefined;
}

/**
 * `vramplan dtype -1.96e-14`: yargs would read "-1.96e-14" as flags. A lone negative number after
 * the dtype command is the value to explain, so it is moved behind `--`, where yargs leaves it be.
 */
function negativeNumbersAsValues(argv: readonly string[]): string[] {
  if (argv[0] !== "dtype") return [...argv];
  const end = argv.indexOf("--");
  if (end >= 0) {
    // `dtype -- -0 --as fp32`: the value is the one operand; what follows it is still options.
    const [value, ...rest] = argv.slice(end + 1);
    return value === undefined ? [...argv] : [...argv.slice(0, end), ...rest, "--", value];
  }
  const isNegativeNumber = (arg: string) => /^-(\d|\.\d|inf)/i.test(arg);
  const values = argv.filter(isNegativeNumber);
  if (values.length === 0) return [...argv];
  return [...argv.filter((arg) => !isNegativeNumber(arg)), "--", ...values];
}

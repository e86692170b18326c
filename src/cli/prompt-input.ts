import type { Argv } from "yargs";
import { UsageError } from "../errors.js";
import { parseConversation } from "../tokens/conversation.js";
import type { TokenInput } from "../tokens/count-tokens.js";
import type { CliIo } from "./output.js";
import { readInputFile, readStdinOf, STDIN_ARG } from "./read-input.js";

export interface PromptArgs {
  messages?: string;
  promptFile?: string;
  generationPrompt: boolean;
}

export function withPromptOptions(yargs: Argv): Argv {
  return yargs
    .option("messages", { type: "string", describe: "Chat as JSON: [{role, content}, …] or {messages, tools} (- for stdin)" })
    .option("prompt-file", { type: "string", describe: "A plain-text prompt (- for stdin), tokenized as is" })
    .option("generation-prompt", { type: "boolean", default: true, describe: "Append the template's prompt for the assistant's answer (--no-generation-prompt to omit)" })
    .conflicts("messages", "prompt-file");
}

/** The prompt to count, from --messages or --prompt-file; undefined when neither was given. */
export async function promptInputFromArgs(args: PromptArgs, io: CliIo): Promise<TokenInput | undefined> {
  const read = (file: string) => (file === STDIN_ARG ? readStdinOf(io) : readInputFile(file));
  const name = (file: string) => (file === STDIN_ARG ? "stdin" : file);
  if (args.messages !== undefined) {
    return { messages: parseConversation(await read(args.messages), name(args.messages)), addGenerationPrompt: args.generationPrompt };
  }
  if (args.promptFile !== undefined) {
    const text = await read(args.promptFile);
    if (text.length === 0) throw new UsageError(`${name(args.promptFile)} is empty: nothing to count`);
    return { text };
  }
  return undefined;
}

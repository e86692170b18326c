import type { Argv } from "yargs";
import { UsageError } from "../../errors.js";
import { parseModelRef } from "../../model-id.js";
import { renderTokenCount } from "../../report/tokens.js";
import type { CliCommand, CliIo } from "../output.js";
import { promptInputFromArgs, withPromptOptions, type PromptArgs } from "../prompt-input.js";
import { cliHubSettings } from "../settings.js";
import { OFFLINE_OPTION, REVISION_OPTION } from "../common-options.js";

interface TokensArgs extends PromptArgs {
  model: string;
  revision?: string;
  show: boolean;
  json: boolean;
  offline: boolean;
  debug: boolean;
}

export const tokensCommand = {
  name: "tokens",
  command: "tokens <model>",
  describe: "Count a chat's (or a prompt's) tokens with the model's own chat template and tokenizer",
  builder: (yargs: Argv) =>
    withPromptOptions(yargs.positional("model", { type: "string", describe: "Hugging Face model id, org/name[@revision]", demandOption: true }))
      .option("revision", REVISION_OPTION)
      .option("show", { type: "boolean", default: false, describe: "Print the rendered text and every token" })
      .option("json", { type: "boolean", default: false, describe: "Print the count as JSON (with ids and pieces)" })
      .option("offline", OFFLINE_OPTION)
      .example("$0 tokens Qwen/Qwen2.5-7B-Instruct --messages chat.json", "tokens of a conversation, template included")
      .example("$0 tokens Qwen/Qwen2.5-7B-Instruct --messages chat.json --show", "…and the rendered text, token by token")
      .example("$0 tokens meta-llama/Llama-3.1-8B --prompt-file prompt.txt", "a plain prompt"),
  run: async (args: TokensArgs, io: CliIo) => {
    const input = await promptInputFromArgs(args, io);
    if (!input) throw new UsageError("name what to count: --messages chat.json or --prompt-file prompt.txt");
    // Loaded here: the template engine and tokenizer are for this command and prompt-sized plans only.
    const { countTokensFor } = await import("../../tokens/count-tokens.js");
    const counted = await countTokensFor(parseModelRef(args.model, args.revision), input, cliHubSettings(io, args));
    io.stdout(args.json ? `${JSON.stringify(counted, null, 2)}\n` : renderTokenCount(counted, { show: args.show }));
  },
} satisfies CliCommand<TokensArgs>;

import { MalformedFileError, UnsupportedModelError } from "../errors.js";
import { parseJsonFile } from "../util/json-position.js";

/** What vramplan needs of a tokenizer: ids and their pieces. */
export interface TextTokenizer {
  encode(text: string, addSpecialTokens: boolean): { ids: number[]; tokens: string[] };
}

/**
 * A tokenizer from the repo's tokenizer.json and tokenizer_config.json, through
 * @huggingface/tokenizers (the tokenizer of transformers.js), loaded on first use: a plan that
 * counts no tokens never pays for it.
 */
export async function createTokenizer(modelId: string, tokenizerJson: Uint8Array, tokenizerConfig: Record<string, unknown>): Promise<TextTokenizer> {
  const file = `${modelId}/tokenizer.json`;
  const definition = parseJsonFile(new TextDecoder().decode(tokenizerJson), file, "the file is truncated or corrupt; delete it and fetch it again");
  if (typeof definition !== "object" || definition === null || typeof (definition as { model?: unknown }).model !== "object") {
    throw new MalformedFileError(file, 'has no "model" section: not a tokenizers file');
  }
  const { Tokenizer } = await import("@huggingface/tokenizers");
  let tokenizer: InstanceType<typeof Tokenizer>;
  try {
    tokenizer = new Tokenizer(definition, tokenizerConfig);
  } catch (error) {
    const model = (definition as { model: { type?: unknown } }).model.type;
    throw new UnsupportedModelError(`${file}: @huggingface/tokenizers cannot build this tokenizer (model ${String(model ?? "unknown")}): ${(error as Error).message}`);
  }
  return {
    encode(text, addSpecialTokens) {
      const encoding = tokenizer.encode(text, { add_special_tokens: addSpecialTokens });
      return { ids: encoding.ids, tokens: encoding.tokens };
    },
  };
}

/** tokenizer_config.json as an object; a malformed one names itself. */
export function parseTokenizerConfig(modelId: string, bytes: Uint8Array, file = "tokenizer_config.json"): Record<string, unknown> {
  const parsed = parseJsonFile(new TextDecoder().decode(bytes), `${modelId}/${file}`);
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new MalformedFileError(`${modelId}/${file}`, "is not a JSON object");
  return parsed as Record<string, unknown>;
}

import { MalformedFileError } from "../errors.js";
import { isRawConfig, type RawConfig } from "../model/raw-config.js";
import { parseJsonFile } from "../util/json-position.js";

/** config.json files are a few kB; anything this large is not one. */
export const MAX_CONFIG_BYTES = 10_000_000;

/** `advice` ends a JSON error: what happens to the file now, and what the user can do. */
export function parseConfigText(text: string, source: string, advice = "the file is truncated or corrupt"): RawConfig {
  if (text.length > MAX_CONFIG_BYTES) {
    throw new MalformedFileError(source, `${text.length} bytes, over the ${MAX_CONFIG_BYTES}-byte limit for a config.json`);
  }
  const parsed = parseJsonFile(text, source, advice);
  if (!isRawConfig(parsed)) throw new MalformedFileError(source, "valid JSON but not an object: this is not a model config");
  return parsed;
}

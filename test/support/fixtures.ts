import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { RawConfig } from "../../src/model/raw-config.js";

/** A built-in model's config.json, as the fixtures ship it. */
export function fixtureConfig(id: string): RawConfig {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`../../fixtures/hub/${id}/config.json`, import.meta.url)), "utf8")) as RawConfig;
}

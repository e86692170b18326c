import { HubHttpError, isVramplanError } from "./errors.js";

/** What kind of repo an id names, as far as can be told before or after asking for its config.json. */

/** A name that says GGUF, or a GGUF file asked for: the GGUF planner first, no config.json lookup. */
export function isGgufFirst(modelId: string, ggufFile?: string): boolean {
  return ggufFile !== undefined || /gguf/i.test(modelId);
}

/** The checkpoint route failed because the repo has no config.json (online or in any cache). */
export function meansNoCheckpoint(error: unknown): boolean {
  return (error instanceof HubHttpError && error.code === "notFound" && error.url.endsWith("/config.json")) || (isVramplanError(error) && error.code === "offlineNotCached");
}

import { homedir } from "node:os";
import { UsageError } from "../errors.js";
import { join } from "node:path";

/** Everything the loading code needs to know about the user's environment, resolved once. */
export interface HubSettings {
  /** Hub base URL (`HF_ENDPOINT`). */
  endpoint: string;
  /** `HF_TOKEN`; sent only to `endpoint`. */
  token?: string | undefined;
  /** The Hugging Face hub cache (`HF_HUB_CACHE`, `HF_HOME/hub`, …). */
  hfCacheDir: string;
  /** vramplan's own cache of tensor manifests. */
  cacheDir: string;
  /** `HF_HUB_OFFLINE` / `--offline`: never touch the network. */
  offline: boolean;
  /** Per-request bound (`HF_HUB_DOWNLOAD_TIMEOUT`, seconds, as huggingface_hub reads it); 15 s by default. */
  timeoutMs?: number | undefined;
  /** Transport override; tests pass the fetch msw intercepts. */
  transport?: typeof fetch | undefined;
  /** Diagnostics sink (the CLI's --debug); never receives the token. */
  debug?: ((message: string) => void) | undefined;
  /** What a person should see while it happens (a long wait before a retry); never the token. */
  notice?: ((message: string) => void) | undefined;
}

export const DEFAULT_ENDPOINT = "https://huggingface.co";

/**
 * A token is one word of printable ASCII. One pasted twice, or read from a file with its line
 * break inside, would otherwise end up in an HTTP client's error message, and from there in output.
 * The message names where the token came from, never its value.
 */
export function checkToken(token: string, source = "the token"): void {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new UsageError(`${source} contains a space, a line break or a character that cannot go in an HTTP header: set it to the token alone (hf_…), once`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const isTruthy = (value: string | undefined) => value !== undefined && ["1", "true", "yes", "on"].includes(value.trim().toLowerCase());

/**
 * Reads the Hugging Face environment variables the way huggingface_hub does. Takes the
 * environment as an argument: the library itself never reads `process.env`.
 */
export function hubSettingsFromEnv(env: Env, home: string = homedir()): HubSettings {
  const xdgCache = env["XDG_CACHE_HOME"] || join(home, ".cache");
  const hfHome = env["HF_HOME"] || join(xdgCache, "huggingface");
  const tokenVariable = env["HF_TOKEN"] ? "HF_TOKEN" : "HUGGING_FACE_HUB_TOKEN";
  const token = (env["HF_TOKEN"] || env["HUGGING_FACE_HUB_TOKEN"])?.trim();
  if (token) checkToken(token, tokenVariable);
  const timeoutSeconds = Number(env["HF_HUB_DOWNLOAD_TIMEOUT"]);
  return {
    ...(timeoutSeconds > 0 && Number.isFinite(timeoutSeconds) && { timeoutMs: Math.round(timeoutSeconds * 1000) }),
    endpoint: (env["HF_ENDPOINT"] || DEFAULT_ENDPOINT).replace(/\/+$/, ""),
    token: token || undefined,
    hfCacheDir: env["HF_HUB_CACHE"] || env["HUGGINGFACE_HUB_CACHE"] || join(hfHome, "hub"),
    cacheDir: env["VRAMPLAN_CACHE"] || join(xdgCache, "vramplan"),
    offline: isTruthy(env["HF_HUB_OFFLINE"]),
  };
}

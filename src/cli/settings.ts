import { UsageError } from "../errors.js";
import { hubSettingsFromEnv, type HubSettings } from "../hub/settings.js";
import type { CliIo } from "./output.js";

/** The one place the CLI reads the environment; everything below receives HubSettings. */
export function cliHubSettings(io: CliIo, flags: { offline?: boolean | undefined; debug?: boolean | undefined }): HubSettings {
  const settings = hubSettingsFromEnv(io.env);
  validateEndpoint(settings.endpoint);
  return {
    ...settings,
    offline: settings.offline || flags.offline === true,
    // io scrubs the token from everything it prints (cli/secrets.ts).
    debug: flags.debug ? (message: string) => io.stderr(`debug: ${message}\n`) : undefined,
    notice: (message: string) => io.stderr(`vramplan: ${message}\n`),
  };
}

/**
 * HF_ENDPOINT must be an http(s) URL the HTTP client can reach: checked once, before any request,
 * so a typo is one usage error, not an "unexpected error" or retries blamed on a slow Hub.
 */
function validateEndpoint(endpoint: string): void {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new UsageError(`HF_ENDPOINT "${endpoint}" is not a URL: set it to the Hub's address, e.g. https://huggingface.co, or unset it`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new UsageError(`HF_ENDPOINT "${endpoint}" is not an http(s) URL (${url.protocol.replace(/:$/, "")}): set it to the Hub's address, e.g. https://huggingface.co`);
  }
  if (url.username || url.password) throw new UsageError("HF_ENDPOINT must not carry a user name or password: put the token in HF_TOKEN");
}

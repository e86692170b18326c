import { hubSettingsFromEnv, type HubSettings } from "../hub/settings.js";
import type { CliIo } from "./output.js";

/** Replaces the token wherever it appears; applied to everything the CLI prints to stderr. */
export function scrubToken(text: string, token: string | undefined): string {
  return token ? text.replaceAll(token, "hf_***") : text;
}

/** The one place the CLI reads the environment; everything below receives HubSettings. */
export function cliHubSettings(io: CliIo, flags: { offline?: boolean | undefined; debug?: boolean | undefined }): HubSettings {
  const settings = hubSettingsFromEnv(io.env);
  return {
    ...settings,
    offline: settings.offline || flags.offline === true,
    debug: flags.debug ? (message: string) => io.stderr(scrubToken(`debug: ${message}\n`, settings.token)) : undefined,
  };
}

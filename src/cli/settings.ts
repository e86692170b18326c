import { hubSettingsFromEnv, type HubSettings } from "../hub/settings.js";
import type { CliIo } from "./output.js";

/** The one place the CLI reads the environment; everything below receives HubSettings. */
export function cliHubSettings(io: CliIo, flags: { offline?: boolean | undefined; debug?: boolean | undefined }): HubSettings {
  const settings = hubSettingsFromEnv(io.env);
  return {
    ...settings,
    offline: settings.offline || flags.offline === true,
    debug: flags.debug ? (message: string) => io.stderr(`debug: ${message}\n`) : undefined,
  };
}

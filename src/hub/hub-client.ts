import { createHubFetch } from "./http.js";
import type { HubSettings } from "./settings.js";

/**
 * One HTTP client per settings object: every model of a batch shares its keep-alive connection
 * pool and its Retry-After gate, so a 429 slows the whole run down, not just one request.
 */
const clients = new WeakMap<HubSettings, typeof fetch>();
/** Waits from this long on are announced. */
const LONG_WAIT_MS = 2000;

export function hubClient(settings: HubSettings): typeof fetch {
  let client = clients.get(settings);
  if (!client) {
    client = createHubFetch({
      endpoint: settings.endpoint,
      token: settings.token,
      ...(settings.timeoutMs !== undefined && { timeoutMs: settings.timeoutMs }),
      ...(settings.transport && { transport: settings.transport }),
      onRetry: (event) => {
        const message = `retrying ${event.url} in ${event.delayMs} ms (${event.reason}, attempt ${event.attempt})`;
        // A wait a person would notice is said as it starts, not only under --debug.
        if (event.delayMs >= LONG_WAIT_MS) settings.notice?.(`waiting ${Math.round(event.delayMs / 1000)} s before retrying ${event.url} (${event.reason}; attempt ${event.attempt + 1})`);
        else settings.debug?.(message);
      },
    });
    clients.set(settings, client);
  }
  return client;
}

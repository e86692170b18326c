import { createHubFetch } from "./http.js";
import type { HubSettings } from "./settings.js";

/**
 * One HTTP client per settings object: every model of a batch shares its keep-alive connection
 * pool and its Retry-After gate, so a 429 slows the whole run down, not just one request.
 */
const clients = new WeakMap<HubSettings, typeof fetch>();

export function hubClient(settings: HubSettings): typeof fetch {
  let client = clients.get(settings);
  if (!client) {
    client = createHubFetch({
      endpoint: settings.endpoint,
      token: settings.token,
      ...(settings.timeoutMs !== undefined && { timeoutMs: settings.timeoutMs }),
      ...(settings.transport && { transport: settings.transport }),
      onRetry: (event) => settings.debug?.(`retrying ${event.url} in ${event.delayMs} ms (${event.reason}, attempt ${event.attempt})`),
    });
    clients.set(settings, client);
  }
  return client;
}

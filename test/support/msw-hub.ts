import { http } from "msw";
import { setupServer } from "msw/node";
import type { MockHub } from "./mock-hub.js";

export const MOCK_ENDPOINT = "https://hub.mock.test";
export const MOCK_CDN = "https://cdn.mock.test";

/** Serves a MockHub in-process at MOCK_ENDPOINT (and its CDN); any other request is an error. */
export function startMswHub(hub: MockHub): ReturnType<typeof setupServer> {
  const server = setupServer(
    http.all(`${MOCK_ENDPOINT}/*`, ({ request }) => hub.handle(request)),
    http.all(`${MOCK_CDN}/*`, ({ request }) => hub.handle(request)),
  );
  server.listen({ onUnhandledRequest: "error" });
  return server;
}

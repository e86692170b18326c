import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HubSettings } from "../../src/hub/settings.js";
import { MOCK_ENDPOINT } from "./msw-hub.js";

export interface TempSettings extends HubSettings {
  root: string;
  cleanup: () => Promise<void>;
}

/**
 * Fresh, empty caches for one test, pointed at the in-process mock Hub. The transport is the
 * global fetch that msw intercepts, so no request can leave the process.
 */
export async function tempSettings(overrides: Partial<HubSettings> = {}): Promise<TempSettings> {
  const root = await mkdtemp(join(tmpdir(), "vramplan-test-"));
  return {
    endpoint: MOCK_ENDPOINT,
    hfCacheDir: join(root, "hf", "hub"),
    cacheDir: join(root, "vramplan"),
    offline: false,
    transport: (input, init) => globalThis.fetch(input, init),
    ...overrides,
    root,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

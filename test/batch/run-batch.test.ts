import { afterAll, afterEach, describe, expect, it } from "vitest";
import { readModelIds } from "../../src/batch/read-ids.js";
import { runBatch, type BatchProgress } from "../../src/batch/run-batch.js";
import { progressBar } from "../../src/cli/progress.js";
import { MockHub } from "../support/mock-hub.js";
import { startMswHub } from "../support/msw-hub.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

const hub = new MockHub();
const server = startMswHub(hub);
afterAll(() => server.close());
let settings: TempSettings;
afterEach(async () => settings?.cleanup());

describe("readModelIds", () => {
  it("skips blanks and comments, keeps line numbers, applies the default revision, keeps bad ids as entries", () => {
    const entries = readModelIds("# header\n\nQwen/Qwen2.5-7B\r\ngpt2@v1.0  # note\nbad id\n", "dev");
    expect(entries.map((entry) => [entry.line, entry.input, entry.ref?.id ?? null, entry.ref?.revision ?? null])).toEqual([
      [3, "Qwen/Qwen2.5-7B", "Qwen/Qwen2.5-7B", "dev"],
      [4, "gpt2@v1.0", "gpt2", "v1.0"],
      [5, "bad id", null, null],
    ]);
    expect(entries[2]?.error).toMatch(/invalid model id/);
  });
});

describe("runBatch", () => {
  it("never has more than `concurrency` models loading at once, and uses all of them", async () => {
    // 12 copies of one small model under distinct ids, each config answer held 150 ms: long enough
    // that all four workers overlap even on a loaded machine.
    const base = hub.models.get("Qwen/Qwen2.5-0.5B");
    const ids = Array.from({ length: 12 }, (_, index) => `bench/model-${index}`);
    for (const id of ids) hub.setModel(id, { ...base });
    let inFlight = 0;
    let peak = 0;
    hub.options.fault = async (_request, url) => {
      if (!url.pathname.endsWith("/config.json")) return undefined;
      inFlight += 1;
      peak = Math.max(peak, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 150));
      inFlight -= 1;
      return undefined;
    };
    try {
      settings = await tempSettings();
      const progress: BatchProgress[] = [];
      const rows = await runBatch(readModelIds(ids.join("\n")), { plan: { context: 1024 }, hub: settings, concurrency: 4, onProgress: (p) => progress.push(p) });
      expect(rows.every((row) => row.plan !== null)).toBe(true);
      expect(peak).toBe(4);
      expect(progress.map((p) => p.done)).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
      expect(progress.at(-1)).toEqual({ done: 12, failed: 0, total: 12 });
    } finally {
      hub.options.fault = undefined;
    }
  });

  it("without plan options it only loads (cache prefetch): rows carry no plan", async () => {
    settings = await tempSettings();
    const rows = await runBatch(readModelIds("Qwen/Qwen2.5-0.5B\nacme/none\n"), { hub: settings, concurrency: 2 });
    expect(rows.map((row) => [row.plan, row.error?.code ?? null])).toEqual([
      [null, null],
      [null, "notFound"],
    ]);
  });
});

describe("progressBar", () => {
  it("shows done / total, failures, rate and ETA, redrawn in place at most every 100 ms", () => {
    let clock = 0;
    const written: string[] = [];
    const bar = progressBar((text) => written.push(text), () => clock);
    clock = 2000;
    bar.update({ done: 4, failed: 1, total: 10 });
    clock = 2050; // within 100 ms of the last draw: skipped
    bar.update({ done: 5, failed: 1, total: 10 });
    clock = 4000;
    bar.update({ done: 10, failed: 2, total: 10 });
    bar.finish();
    // 4 models in 2 s = 2.0/s, 6 left → 3 s; 10 in 4 s = 2.5/s, none left.
    expect(written).toEqual([
      `\r[${"█".repeat(10)}${"░".repeat(14)}] 4/10 done · 1 failed · 2.0/s · ETA 3 s\u001b[K`,
      `\r[${"█".repeat(24)}] 10/10 done · 2 failed · 2.5/s · ETA 0 s\u001b[K`,
      "\n",
    ]);
  });
});

import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { configParameters } from "../src/estimate/config-parameters.js";
import { estimateKvCache } from "../src/estimate/kv-cache.js";
import { estimateWeights } from "../src/estimate/weights.js";
import { loadBuiltinModel } from "../src/hub/builtin.js";
import { deriveModelSpec } from "../src/model/derive.js";
import { COMPUTE_DTYPE_BYTES } from "../src/model/dtypes.js";
import type { RawConfig } from "../src/model/raw-config.js";

/**
 * The shared conformance set: real configs with sizes known from sources independent of vramplan
 * (../shared/conformance/README.md). It lives outside the repository; where it is absent (a fresh
 * clone elsewhere) this file skips. `npm run conformance` runs it alone.
 */
const repoRoot = fileURLToPath(new URL("..", import.meta.url));
const conformanceDir = process.env["VRAMPLAN_CONFORMANCE_DIR"] ?? resolve(repoRoot, "../shared/conformance");
const available = existsSync(conformanceDir);

interface Expected {
  id: string;
  param_count: number | null;
  total_size: number | null;
  kv_bytes_context_32768_batch_1: number | null;
}

const models = available
  ? readdirSync(conformanceDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => ({
        folder: entry.name,
        config: JSON.parse(readFileSync(join(conformanceDir, entry.name, "config.json"), "utf8")) as RawConfig,
        expected: JSON.parse(readFileSync(join(conformanceDir, entry.name, "expected.json"), "utf8")) as Expected,
      }))
  : [];

describe.skipIf(!available)(`conformance set (${conformanceDir})`, () => {
  it("has models to check", () => expect(models.length).toBeGreaterThan(0));

  for (const { folder, config, expected } of models) {
    describe(expected.id, () => {
      const spec = () => deriveModelSpec(config);

      it.skipIf(expected.param_count === null)(`config-derived parameter count = ${expected.param_count}`, () => {
        expect(configParameters(spec())?.total).toBe(expected.param_count);
      });

      it.skipIf(expected.kv_bytes_context_32768_batch_1 === null)(`KV at 32,768 tokens = ${expected.kv_bytes_context_32768_batch_1} B`, () => {
        const s = spec();
        const bytesPerElement = COMPUTE_DTYPE_BYTES[s.dtype ?? "bf16"];
        expect(estimateKvCache(s, { context: 32768, sequences: 1, bytesPerElement }).bytes).toBe(expected.kv_bytes_context_32768_batch_1);
      });

      it.skipIf(expected.total_size === null)(`weight bytes = total_size ${expected.total_size} where the manifest is known`, async (context) => {
        const builtin = await loadBuiltinModel(expected.id);
        if (!builtin) {
          context.skip(`no tensor manifest for ${folder} in the built-in set`);
          return;
        }
        expect(estimateWeights(spec(), builtin.manifest, config).bytes).toBe(expected.total_size);
      });
    });
  }
});

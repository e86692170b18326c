import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

// The CLI bundle (built by the global setup) keeps heavy packages external and loads them only
// when a run needs them. A static import of one would load it on every run, plain plans included.
const LAZY_PACKAGES = ["undici", "@huggingface/hub", "@huggingface/tasks", "@huggingface/jinja", "@huggingface/tokenizers", "@huggingface/gguf"];

describe("the CLI bundle", () => {
  it("imports the network, catalog, template and tokenizer packages only dynamically", async () => {
    const bundle = await readFile(fileURLToPath(new URL("../dist/bundle/cli.mjs", import.meta.url)), "utf8");
    const staticImports = [...bundle.matchAll(/\bfrom\s*"([^"]+)"/g)].map((match) => match[1]);
    for (const name of LAZY_PACKAGES) {
      expect(staticImports, `${name} is imported statically`).not.toContain(name);
      expect(bundle).toContain(`import("${name}")`);
    }
  });
});

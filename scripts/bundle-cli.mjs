#!/usr/bin/env node
// Bundles the CLI into one file: module loading dominated `vramplan plan` start-up (yargs alone is
// some forty modules), and one file halves it. The @huggingface packages and undici stay external:
// they are imported lazily, only when a run goes to the network, names a GPU, lists the cache or
// counts tokens, so a plain plan never parses them. string-width is swapped for a light
// equivalent (shims/string-width.mjs) whose load does not build Unicode segmenters.
import { build } from "esbuild";

await build({
  entryPoints: [new URL("../dist/cli/main.js", import.meta.url).pathname],
  outfile: new URL("../dist/bundle/cli.mjs", import.meta.url).pathname,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  external: ["undici", "@huggingface/hub", "@huggingface/tasks", "@huggingface/jinja", "@huggingface/tokenizers", "@huggingface/gguf"],
  alias: { "string-width": new URL("./shims/string-width.mjs", import.meta.url).pathname },
  logLevel: "warning",
});

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

/**
 * A chat template is code from the repo: `{% for i in range(10**12) %}` never ends, and a loop that
 * grows a string or a list exhausts memory, where V8 aborts the whole process. It renders in a
 * child process of its own, with a small heap, killed past a time budget; the caller maps the
 * outcome to its errors. (A worker thread is not enough: a large enough allocation past a worker's
 * heap limit still takes the process down.)
 */
export interface RenderLimits {
  timeMs: number;
  /** The child's heap: a template that builds more than this is stopped, not this process. */
  heapMb: number;
  /** Characters of rendered text; a chat longer than this is not one. */
  maxChars: number;
}

export const DEFAULT_RENDER_LIMITS: RenderLimits = { timeMs: 10_000, heapMb: 512, maxChars: 64_000_000 };

export type RenderOutcome =
  | { kind: "ok"; text: string }
  | { kind: "raised"; message: string }
  | { kind: "error"; message: string }
  | { kind: "timeout" }
  | { kind: "memory" }
  | { kind: "too-long"; length: number };

/*
 * The child's code, as CommonJS text run with `node -e`: it needs no file of its own next to the
 * bundle. Its input is one JSON document on stdin, its answer one on stdout. raise_exception is
 * swapped as chat-template.ts explains.
 */
const CHILD_SOURCE = `
const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", async () => {
  const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  const { Environment, Template } = await import(input.jinjaUrl);
  class Raised extends Error {}
  const original = Environment.prototype.set;
  Environment.prototype.set = function (name, value) {
    return original.call(this, name, name === "raise_exception" ? (message) => { throw new Raised(String(message)); } : value);
  };
  let answer;
  try {
    const text = new Template(input.template).render(input.context);
    answer = text.length > input.maxChars ? { kind: "too-long", length: text.length } : { kind: "ok", text };
  } catch (error) {
    answer = { kind: error instanceof Raised ? "raised" : "error", message: String(error && error.message !== undefined ? error.message : error) };
  }
  process.stdout.write(JSON.stringify(answer));
});
`;

function jinjaUrl(): string {
  // The ESM entry, as this process loads it; resolved here because the child's `-e` code has no
  // module of its own to resolve from.
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  if (resolve) {
    try {
      return resolve("@huggingface/jinja");
    } catch {
      // Fall through to require's resolution.
    }
  }
  return pathToFileURL(createRequire(import.meta.url).resolve("@huggingface/jinja").replace(/index\.cjs$/, "index.js")).href;
}

export function renderBounded(template: string, context: Record<string, unknown>, limits: RenderLimits = DEFAULT_RENDER_LIMITS): Promise<RenderOutcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${limits.heapMb}`, "-e", CHILD_SOURCE], { stdio: ["pipe", "pipe", "pipe"] });
    const stdout: Buffer[] = [];
    let stderr = "";
    let settled = false;
    const finish = (outcome: RenderOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      resolve(outcome);
    };
    const timer = setTimeout(() => finish({ kind: "timeout" }), limits.timeMs);
    child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
    // The tail is enough to tell an out-of-memory abort from another crash.
    child.stderr.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString("utf8")).slice(-4096)));
    child.on("error", (error) => finish({ kind: "error", message: `cannot start the template's process: ${error.message}` }));
    child.on("close", (code) => {
      if (/heap out of memory|Reached heap limit|invalid size error/i.test(stderr)) return finish({ kind: "memory" });
      try {
        finish(JSON.parse(Buffer.concat(stdout).toString("utf8")) as RenderOutcome);
      } catch {
        finish({ kind: "error", message: `the template's process ended (exit ${code}) without an answer` });
      }
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(JSON.stringify({ jinjaUrl: jinjaUrl(), template, context, maxChars: limits.maxChars }));
  });
}

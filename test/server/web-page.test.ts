import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findGpu } from "../../src/serve/gpu-catalog.js";
import { formQuery } from "../../src/server/web-page.js";
import { startPlanner } from "../support/planner-server.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

/* The web page as HTML, offline on the built-in set: what the server renders before any script runs. */
const TOKEN = "hf_PageSecretToken0123456789";
let settings: TempSettings;
let base: string;
let close: () => Promise<void>;

beforeAll(async () => {
  settings = await tempSettings({ offline: true, token: TOKEN });
  ({ base, close } = await startPlanner({ hub: settings }));
});
afterAll(async () => {
  await close();
  await settings.cleanup();
});

async function page(path: string): Promise<{ status: number; html: string; headers: Headers }> {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, html: await response.text(), headers: response.headers };
}

describe("the web page, server-rendered", () => {
  it("a form's query is the API's: empty fields dropped, ticked formats joined", () => {
    expect(formQuery(new URLSearchParams("model=Qwen/Qwen2.5-7B&context=&batch=2&compare=bf16&compare=int4&gpu="))).toEqual({ model: "Qwen/Qwen2.5-7B", batch: "2", compare: "bf16,int4" });
  });

  it("renders the plan into the page, with a policy that runs no inline code", async () => {
    const { status, html, headers } = await page("/?model=Qwen/Qwen2.5-7B&context=32k&gpu=L4+24");
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(headers.get("content-security-policy")).toMatch(/script-src 'self';.*frame-ancestors 'none'/);
    // The index's total_size and 28 × 2 × 4 × 128 × 2 B × 32,768, as the CLI prints them.
    expect(html).toContain("<td class=\"num\">15,231,233,024</td>");
    expect(html).toContain("<td class=\"num\">1,879,048,192</td>");
    expect(html).toMatch(/<svg role="img" aria-label="Memory against context length"/);
    expect(html).not.toMatch(/<script>|<style>| on[a-z]+="/);
    expect(html).toContain('<option value="L4 24" selected>');
    expect((await page("/page.css")).status).toBe(200);
    expect((await page("/page.js")).headers.get("content-type")).toBe("text/javascript; charset=utf-8");
  });

  it("with no GPU chosen a checkpoint lists which common GPUs fit, and a GGUF repo still shows its files", async () => {
    const checkpoint = await page("/?model=Qwen/Qwen2.5-7B&context=8k");
    expect(checkpoint.status).toBe(200);
    expect(checkpoint.html).toMatch(/<caption>Which GPUs fit bf16 \(as stored\) at 1 × 8,192 tokens/);
    // vLLM does not serve GGUF files: the page must not ask it to.
    const gguf = await page("/?model=bartowski/Meta-Llama-3.1-8B-Instruct-GGUF&context=8k");
    expect(gguf.status).toBe(200);
    expect(gguf.html).toContain("<caption>GGUF files in this repo</caption>");
  });

  it("every GPU the picker offers is the GPU the planner finds by its value", async () => {
    const { html } = await page("/");
    const options = [...html.matchAll(/<option value="([^"]+)"[^>]*>([^<]+) (\d+) GB<\/option>/g)];
    expect(options.length).toBeGreaterThan(100);
    for (const [, value, name, memory] of options) {
      const gpu = await findGpu(value as string);
      expect([gpu.name, gpu.memoryGiB], value).toEqual([name, Number(memory)]);
    }
  });

  it("an error goes next to the field it is about, escaped, with the API's status", async () => {
    const script = await page(`/?model=${encodeURIComponent('<script>alert("x")</script>')}`);
    expect(script.status).toBe(400);
    expect(script.html).toMatch(/<p class="error" id="model-error" role="alert">invalid model id &quot;&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&quot;/);
    expect(script.html).not.toContain("<script>alert");

    const context = await page("/?model=Qwen/Qwen2.5-7B&context=abc");
    expect(context.status).toBe(400);
    expect(context.html).toMatch(/<input id="context"[^>]* aria-describedby="context-hint context-error" aria-invalid="true">/);
    expect(context.html).toMatch(/id="context-error" role="alert">context must be a whole number of tokens/);

    const missing = await page("/?model=acme/not-cached");
    expect(missing.status).toBe(503);
    expect(missing.html).toMatch(/id="model-error" role="alert">[^<]*acme\/not-cached/);

    // A parameter no field has is said above the result, not dropped.
    const unknown = await page("/?model=Qwen/Qwen2.5-7B&chart=/tmp/x.svg");
    expect(unknown.status).toBe(400);
    expect(unknown.html).toMatch(/id="form-error">unknown parameter &quot;chart&quot;/);
  });

  it("the training tab plans from its own form; no page carries the token", async () => {
    const train = await page("/train?model=Qwen/Qwen2.5-7B&method=lora&seq=2k");
    expect(train.status).toBe(200);
    // LoRA's frozen base: Qwen2.5-7B's 7,615,616,512 parameters (the index's total_size / 2 B).
    expect(train.html).toContain("frozen: 7,615,616,512");
    expect(train.html).toContain('<option value="lora" selected>');
    for (const path of ["/", "/train", "/?model=Qwen/Qwen2.5-7B", "/?model=acme/not-cached"]) expect((await page(path)).html).not.toContain("PageSecretToken");
  });
});

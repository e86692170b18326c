import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startPlanner } from "../support/planner-server.js";
import { tempSettings, type TempSettings } from "../support/temp-settings.js";

/*
 * The web page in headless Chromium (Debian's package; .ci/run installs it), offline on the
 * built-in set. Each state is saved as a screenshot under test-output/browser/ to be looked at.
 * Without a Chromium on this machine the file is skipped, saying so.
 */
const CHROMIUM = process.env["VRAMPLAN_CHROMIUM"] ?? ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) => existsSync(path));
const SHOTS = fileURLToPath(new URL("../../test-output/browser/", import.meta.url));
const TOKEN = "hf_BrowserSecretToken0123456789";

if (!CHROMIUM) console.warn("web page browser tests skipped: no Chromium (install Debian's chromium package, or set VRAMPLAN_CHROMIUM)");

describe.skipIf(!CHROMIUM)("the web page in Chromium", () => {
  let settings: TempSettings;
  let base: string;
  let closeServer: () => Promise<void>;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    settings = await tempSettings({ offline: true, token: TOKEN });
    ({ base, close: closeServer } = await startPlanner({ hub: settings }));
    const { chromium } = await import("playwright-core");
    browser = await chromium.launch({ executablePath: CHROMIUM as string, args: ["--no-sandbox"] });
    await mkdir(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    await browser?.close();
    await closeServer?.();
    await settings?.cleanup();
  });
  beforeEach(async () => {
    await page?.close();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  });

  const shot = (name: string) => page.screenshot({ path: `${SHOTS}${name}.png`, fullPage: true });
  const verdict = () => page.locator("#verdict").innerText();
  /** The row a table heads with `name`, as a screen reader finds it. */
  const row = (table: string, name: string) => page.getByRole("table", { name: table }).getByRole("row").filter({ has: page.getByRole("rowheader", { name, exact: true }) }).innerText();

  it("typing a model id shows the exact table, the serving verdict and the chart", async () => {
    await page.goto(`${base}/`);
    await page.getByLabel("Model (Hugging Face id)").fill("Qwen/Qwen2.5-7B");
    await page.getByLabel("Context (tokens per sequence)").fill("32k");
    await page.getByLabel("GPU", { exact: true }).selectOption({ label: "L4 24 GB" });
    await page.getByRole("button", { name: "Plan", exact: true }).click();
    await page.waitForURL(/model=Qwen/);
    // Qwen2.5-7B: the index's total_size; KV 28 layers × 2 × 4 heads × 128 × 2 B × 32,768 = 1,879,048,192.
    expect(await row("What the model needs", "weights")).toContain("15,231,233,024");
    expect(await row("What the model needs", "KV cache")).toContain("1,879,048,192");
    expect(await verdict()).toMatch(/^Fits: bf16 \(as stored\) on 1 × L4 24 GB holds 1 × 32,768 tokens/);
    expect(await page.locator("figure.chart svg polyline.series").count()).toBe(1);
    expect(await page.locator(".bars svg.bar").count()).toBe(1);
    // Empty fields stay out of the link: only what the user chose.
    expect(new URL(page.url()).search).toBe("?model=Qwen%2FQwen2.5-7B&context=32k&gpu=L4+24");
    await shot("1-plan-L4");
  });

  it("changing the GPU changes the verdict; the formula is one click away", async () => {
    await page.goto(`${base}/?model=Qwen/Qwen2.5-7B&context=32k&gpu=L4+24`);
    expect(await verdict()).toMatch(/^Fits/);
    // A T4's 16 GB (15.x GiB as CUDA reports it, × 0.9) cannot hold 14.19 GiB of bf16 weights and a 32k request.
    await page.getByLabel("GPU", { exact: true }).selectOption({ label: "T4 16 GB" });
    await page.getByRole("button", { name: "Plan", exact: true }).click();
    await page.waitForURL(/gpu=T4/);
    expect(await verdict()).toMatch(/^(Does not fit|Refused)/);
    expect(await page.locator("#verdict").getAttribute("class")).toContain("no-fit");
    const explain = page.locator("details.explain");
    expect(await explain.locator("pre").isVisible()).toBe(false);
    await explain.locator("summary").click();
    expect(await explain.locator("pre").innerText()).toContain("KV = 2 × 28 layers × 4 KV heads × 128 head_dim × 2 B (bf16) × 32,768 tokens × 1 = 1,879,048,192 B");
    await shot("2-plan-T4-explained");
  });

  it("the shared URL opens the same plan, formats compared side by side", async () => {
    const url = `${base}/?model=Qwen/Qwen2.5-7B&context=32k&gpu=L4+24&compare=bf16&compare=fp8&compare=int4`;
    await page.goto(url);
    const first = await page.locator("table.serving").innerText();
    const other = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await other.goto(url);
    expect(await other.locator("table.serving").innerText()).toBe(first);
    // The form says what the link says.
    expect(await other.getByLabel("Model (Hugging Face id)").inputValue()).toBe("Qwen/Qwen2.5-7B");
    expect(await other.getByLabel("Context (tokens per sequence)").inputValue()).toBe("32k");
    const checked = await other.locator('input[name="compare"]:checked').all();
    expect(await Promise.all(checked.map((box) => box.inputValue()))).toEqual(["bf16", "fp8", "int4"]);
    expect(await other.locator("table.serving tbody tr").count()).toBe(3);
    expect(await other.locator("figure.chart svg polyline.series").count()).toBe(3);
    await other.close();
    // Every table fits the page at 1280 px; on a phone the tables scroll in their own regions, not the page.
    const overflowing = '[...document.querySelectorAll(".table-scroll")].filter((region) => region.scrollWidth > region.clientWidth).length';
    expect(await page.evaluate(overflowing)).toBe(0);
    await shot("3-shared-compare");
    await page.setViewportSize({ width: 390, height: 844 });
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await shot("3b-shared-compare-phone");
  });

  it("an invalid id shows the error next to the box, and the box takes the focus", async () => {
    await page.goto(`${base}/`);
    await page.getByLabel("Model (Hugging Face id)").fill("not a model");
    await page.getByRole("button", { name: "Plan", exact: true }).click();
    await page.waitForURL(/model=not/);
    const box = page.getByLabel("Model (Hugging Face id)");
    expect(await box.getAttribute("aria-invalid")).toBe("true");
    expect(await box.getAttribute("aria-describedby")).toBe("model-error");
    expect(await page.locator("#model-error").innerText()).toMatch(/^invalid model id "not a model"/);
    expect(await page.evaluate("document.activeElement?.id")).toBe("model");
    expect(await page.locator("#result").innerText()).toBe("");
    await shot("4-invalid-id");
  });

  it("works from the keyboard alone: type, preset, tab to Plan, Enter", async () => {
    await page.goto(`${base}/`);
    await page.keyboard.press("Tab"); // the skip link
    await page.keyboard.press("Tab"); // Inference
    await page.keyboard.press("Tab"); // Training
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement?.id")).toBe("model");
    await page.keyboard.type("Qwen/Qwen2.5-7B");
    await page.keyboard.press("Tab"); // context
    await page.keyboard.press("Tab"); // 4k preset
    await page.keyboard.press("Tab"); // 8k preset
    await page.keyboard.press("Enter");
    expect(await page.getByLabel("Context (tokens per sequence)").inputValue()).toBe("8k");
    // The preset hands the focus back to the field; Enter in a field submits the form.
    await page.keyboard.press("Enter");
    await page.waitForURL(/context=8k/);
    expect(await row("What the model needs", "KV cache")).toContain(
      // 28 × 2 × 4 × 128 × 2 B × 8,192 tokens
      "469,762,048",
    );
    // The focus ring is drawn where the keyboard is.
    await page.keyboard.press("Tab");
    const outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle");
    expect(outline).toBe("solid");
    await shot("5-keyboard");
  });

  it("a GGUF repo shows its file table; the training tab plans QLoRA", async () => {
    await page.goto(`${base}/?model=bartowski/Meta-Llama-3.1-8B-Instruct-GGUF&context=8k&gpu=RTX+4090+24`);
    expect(await row("GGUF files in this repo", "Meta-Llama-3.1-8B-Instruct-Q4_K_M")).toMatch(/Q4_K_M/);
    expect(await verdict()).toMatch(/^largest that fits entirely: /);
    await shot("6-gguf");

    await page.getByRole("link", { name: "Training" }).click();
    await page.getByLabel("Model (Hugging Face id)").fill("Qwen/Qwen2.5-7B");
    await page.getByLabel("Method").selectOption("qlora");
    await page.getByLabel("GPU", { exact: true }).selectOption({ label: "L4 24 GB" });
    await page.getByRole("button", { name: "Plan training" }).click();
    await page.waitForURL(/\/train\?model=/);
    const table = page.getByRole("table", { name: "Memory per GPU for one training step" });
    expect(await table.innerText()).toContain("frozen base linears (NF4");
    expect(await verdict()).toMatch(/^on 1 × L4/);
    await shot("7-train-qlora");
  });

  it("every text on the page has a contrast of at least 4.5:1 (WCAG AA) against its background", async () => {
    await page.goto(`${base}/?model=Qwen/Qwen2.5-7B&context=32k&gpu=T4+16&compare=bf16,int4`);
    await page.locator("details.explain summary").click();
    // WCAG 2 relative luminance and contrast ratio, the background being the nearest opaque one.
    const lowest = await page.evaluate(`(() => {
      const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
      const luminance = ([r, g, b]) => [r, g, b].map((c) => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; }).reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
      const background = (element) => {
        for (let node = element; node; node = node.parentElement) {
          const color = rgb(getComputedStyle(node).backgroundColor);
          if (color.length === 3 || (color.length === 4 && color[3] === 1)) return color.slice(0, 3);
        }
        return [255, 255, 255];
      };
      const found = [];
      for (const element of document.querySelectorAll("body *:not(svg *)")) {
        const own = [...element.childNodes].some((node) => node.nodeType === 3 && node.textContent.trim() !== "");
        if (!own || element.getClientRects().length === 0) continue;
        const [a, b] = [luminance(rgb(getComputedStyle(element).color).slice(0, 3)), luminance(background(element))];
        found.push({ ratio: (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05), text: element.textContent.trim().slice(0, 40) });
      }
      return found.sort((x, y) => x.ratio - y.ratio).slice(0, 3);
    })()`);
    const worst = (lowest as { ratio: number; text: string }[])[0];
    expect(worst?.ratio, JSON.stringify(lowest)).toBeGreaterThanOrEqual(4.5);
  });

  it("no page carries the token", async () => {
    for (const path of ["/", "/?model=Qwen/Qwen2.5-7B", "/train?model=Qwen/Qwen2.5-7B", "/?model=acme/not-cached"]) {
      await page.goto(`${base}${path}`);
      expect(await page.content(), path).not.toContain("BrowserSecretToken");
    }
  });
});

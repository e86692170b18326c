/**
 * The page's stylesheet and script, served as /page.css and /page.js (the Content-Security-Policy
 * allows no inline code). The script only adds comfort: context presets, a busy note while a plan
 * loads, empty fields left out of the shared link, and "copy link"; every form works without it.
 */
export const PAGE_CSS = `
:root { color-scheme: light; --ink: #1a1a1a; --muted: #4b5563; --line: #d1d5db; --accent: #1f5fa8; --bad: #b42318; --good: #146c2e; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink); background: #fff; }
header, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 16px; }
header { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: baseline; justify-content: space-between; border-bottom: 1px solid var(--line); padding-top: 8px; padding-bottom: 8px; }
.brand { margin: 0; }
nav a { margin-left: 12px; color: var(--accent); font-weight: 600; }
nav a[aria-current="page"] { color: var(--ink); text-decoration: none; border-bottom: 3px solid var(--accent); }
h1 { font-size: 1.35rem; margin: 20px 0 12px; }
h2 { font-size: 1.25rem; margin: 24px 0 4px; word-break: break-all; }
h3 { font-size: 1.1rem; margin: 24px 0 8px; }
.skip { position: absolute; left: -9999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px 8px; z-index: 1; }
form.planner { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; }
fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px 12px; margin: 0; }
legend { font-weight: 600; padding: 0 4px; }
.field { display: flex; flex-direction: column; margin-top: 8px; }
.field label { font-weight: 500; }
input[type=text], input[type=number], select { font: inherit; padding: 6px 8px; border: 1px solid #6b7280; border-radius: 4px; background: #fff; color: var(--ink); width: 100%; }
.field.invalid input, .field.invalid select { border: 2px solid var(--bad); }
small { color: var(--muted); }
.presets { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }
button { font: inherit; padding: 4px 10px; border: 1px solid #6b7280; border-radius: 4px; background: #f3f4f6; color: var(--ink); cursor: pointer; }
button.primary { background: var(--accent); color: #fff; border-color: var(--accent); padding: 8px 20px; font-weight: 600; }
:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
.formats .check { display: inline-block; margin: 4px 12px 4px 0; }
.formats small { display: block; margin-top: 4px; }
.actions { grid-column: 1 / -1; display: flex; gap: 12px; align-items: center; }
.error { color: var(--bad); font-weight: 600; margin: 6px 0 0; }
.verdict { font-size: 1.1rem; font-weight: 600; padding: 10px 12px; border-radius: 6px; border-left: 6px solid; }
.verdict.fits { color: var(--good); background: #ecfdf3; border-color: var(--good); }
.verdict.no-fit { color: var(--bad); background: #fef3f2; border-color: var(--bad); }
.facts { margin: 2px 0; color: var(--muted); }
.aside { color: var(--muted); font-size: 0.92rem; }
table { border-collapse: collapse; margin: 12px 0; font-variant-numeric: tabular-nums; }
caption { text-align: left; font-weight: 600; padding: 4px 0; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid #9ca3af; vertical-align: bottom; }
table.serving, table.gguf-files { font-size: 0.9rem; }
table.candidates { min-width: min(40em, 100%); }
table.serving thead th, table.gguf-files thead th { min-width: 4.5em; }
table.serving th, table.serving td { padding: 4px 6px; }
table.serving tbody th { white-space: normal; min-width: 6em; }
.table-scroll { overflow-x: auto; max-width: 100%; }
td.num, th.num { text-align: right; white-space: nowrap; }
tbody th { font-weight: 600; white-space: nowrap; }
.sub { padding-left: 1.2em; font-weight: 400; }
.result { overflow-x: auto; }
pre { background: #f6f8fa; padding: 8px 12px; border-radius: 4px; overflow-x: auto; font-size: 0.88rem; white-space: pre-wrap; }
.bars { margin: 12px 0; }
.bar-row { display: grid; grid-template-columns: 9em 1fr 16em; gap: 8px; align-items: center; margin: 4px 0; }
.bar { width: 100%; height: 30px; }
.bar-figure { font-variant-numeric: tabular-nums; }
.legend span { display: inline-flex; align-items: center; gap: 4px; margin-right: 14px; }
.legend i { display: inline-block; width: 14px; height: 14px; }
.legend .seg-weights { background: #1f5fa8; } .legend .seg-kv { background: #d9730d; } .legend .seg-activations { background: #2f8a3b; } .legend .seg-runtime { background: #7d4fb0; }
.legend .limit { border-left: 3px dashed var(--bad); width: 6px; }
.legend .capacity { background: #eef0f3; border: 1px solid #6b7280; border-right: 3px solid #111827; }
figure.chart { margin: 16px 0; }
figure.chart svg { max-width: 100%; height: auto; }
figcaption { color: var(--muted); }
details.explain { margin: 12px 0; }
details.explain summary { cursor: pointer; font-weight: 600; color: var(--accent); }
ul.messages { padding-left: 20px; }
.warning strong { color: var(--bad); }
@media (max-width: 640px) { .bar-row { grid-template-columns: 1fr auto; } .bar { grid-column: 1 / -1; grid-row: 2; } }
footer { border-top: 1px solid var(--line); margin-top: 32px; color: var(--muted); font-size: 0.9rem; }
`;

export const PAGE_JS = `
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form.planner");
  if (!form) return;
  for (const preset of form.querySelectorAll("button.preset")) {
    preset.addEventListener("click", () => {
      const context = form.querySelector("#context");
      context.value = preset.dataset.context;
      context.focus();
    });
  }
  form.addEventListener("submit", () => {
    // Empty fields stay out of the URL, so the shared link says only what was chosen.
    for (const element of form.elements) {
      if (element.name && (element.value === "" || (element.type === "checkbox" && !element.checked))) element.disabled = true;
    }
    form.querySelector("#busy").textContent = "Planning…";
  });
  // Back from another page: the fields disabled for the submit are usable again.
  window.addEventListener("pageshow", () => { for (const element of form.elements) element.disabled = false; });
  const copy = form.querySelector("#copy-link");
  if (copy && new URLSearchParams(location.search).has("model") && navigator.clipboard) {
    copy.hidden = false;
    copy.addEventListener("click", async () => {
      await navigator.clipboard.writeText(location.href);
      form.querySelector("#busy").textContent = "Link copied";
    });
  }
  // A field the last plan failed on takes the focus, its error beside it.
  const invalid = form.querySelector('[aria-invalid="true"]');
  if (invalid) invalid.focus();
});
`;

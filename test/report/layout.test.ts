import { describe, expect, it } from "vitest";
import { renderTable, wrapParts, wrapText, type Column } from "../../src/report/layout.js";
import { progressLines } from "../../src/cli/progress.js";

describe("wrapText", () => {
  it("breaks between words, hangs continuation lines, never cuts a word", () => {
    const lines = wrapText("note: the quick brown fox jumps over the lazy dog vllm/model_executor/layers/vocab_parallel_embedding.py today", { width: 40 }, 6);
    expect(lines).toEqual(["note: the quick brown fox jumps over the", "      lazy dog", "      vllm/model_executor/layers/vocab_parallel_embedding.py", "      today"]);
  });

  it("leaves text alone without a width", () => {
    const long = "x ".repeat(200).trim();
    expect(wrapText(long, {})).toEqual([long]);
  });
});

describe("wrapParts", () => {
  it("breaks between facts, each line ending in the separator it was cut at, within the width", () => {
    const lines = wrapParts(["Qwen/Qwen2.5-7B @ main", "qwen2", "7.62 billion parameters", "bf16", "28 layers"], { width: 50 });
    expect(lines).toEqual(["Qwen/Qwen2.5-7B @ main · qwen2 ·", "  7.62 billion parameters · bf16 · 28 layers"]);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(50);
  });
});

describe("renderTable", () => {
  const columns: Column[] = [
    { header: "name", align: "left" },
    { header: "bytes", align: "right" },
    { header: "GiB", align: "right" },
    { header: "note", align: "left", prose: true },
  ];
  const rows = [
    ["weights", "15,231,233,024", "14.19", "exact: 339 tensors (BF16) in 4 safetensors files"],
    ["KV cache", "1,879,048,192", "1.75", "exact: 28 full layers × 32,768 tokens"],
  ];

  it("side by side when it fits", () => {
    expect(renderTable(columns, rows, { width: 200 })).toEqual([
      "name               bytes    GiB  note",
      "weights   15,231,233,024  14.19  exact: 339 tensors (BF16) in 4 safetensors files",
      "KV cache   1,879,048,192   1.75  exact: 28 full layers × 32,768 tokens",
    ]);
  });

  it("moves the free text under its row when that is what makes it too wide", () => {
    expect(renderTable(columns, rows, { width: 40 })).toEqual([
      "name               bytes    GiB",
      "weights   15,231,233,024  14.19",
      "    exact: 339 tensors (BF16) in 4",
      "      safetensors files",
      "KV cache   1,879,048,192   1.75",
      "    exact: 28 full layers × 32,768",
      "      tokens",
    ]);
  });

  it("splits into tables that repeat the first column, every cell kept whole", () => {
    const wide: Column[] = ["format", "one", "two", "three", "four"].map((header, index) => ({ header, align: index === 0 ? "left" : "right" }));
    const cells = [["bf16", "111,111,111", "222,222,222", "333,333,333", "444,444,444"]];
    const lines = renderTable(wide, cells, { width: 40 });
    expect(lines).toEqual([
      "format          one          two",
      "bf16    111,111,111  222,222,222",
      "",
      "format        three         four",
      "bf16    333,333,333  444,444,444",
    ]);
  });
});

describe("progress without a terminal", () => {
  it("one line per 10 s, none for a short run, none at the end", () => {
    let clock = 0;
    const written: string[] = [];
    const progress = progressLines((text) => written.push(text), () => clock);
    for (let done = 1; done <= 1000; done++) {
      clock += 50; // 20 models a second
      progress.update({ done, total: 1000, failed: done > 500 ? 1 : 0 });
    }
    // 50 s in all: lines at 10, 20, 30 and 40 s; the last update (done = total) prints nothing.
    expect(written).toEqual([
      "vramplan: 200 of 1000 models done, 0 failed, 20.0/s, about 40 s left\n",
      "vramplan: 400 of 1000 models done, 0 failed, 20.0/s, about 30 s left\n",
      "vramplan: 600 of 1000 models done, 1 failed, 20.0/s, about 20 s left\n",
      "vramplan: 800 of 1000 models done, 1 failed, 20.0/s, about 10 s left\n",
    ]);
  });
});

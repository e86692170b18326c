import { describe, expect, it } from "vitest";
import { parseModelRef } from "../src/model-id.js";

describe("parseModelRef", () => {
  it("reads org/name, a bare legacy name and an @revision suffix", () => {
    expect(parseModelRef("Qwen/Qwen2.5-7B")).toEqual({ id: "Qwen/Qwen2.5-7B", revision: "main" });
    expect(parseModelRef("gpt2")).toEqual({ id: "gpt2", revision: "main" });
    expect(parseModelRef("Qwen/Qwen2.5-7B@v1.0")).toEqual({ id: "Qwen/Qwen2.5-7B", revision: "v1.0" });
    expect(parseModelRef("Qwen/Qwen2.5-7B", "dev")).toEqual({ id: "Qwen/Qwen2.5-7B", revision: "dev" });
  });

  it("rejects URLs, bad names and two different revisions, each with the fix", () => {
    expect(() => parseModelRef("https://huggingface.co/Qwen/Qwen2.5-7B/tree/main")).toThrow('pass "Qwen/Qwen2.5-7B" instead');
    expect(() => parseModelRef("a/b/c")).toThrow(/invalid model id "a\/b\/c"/);
    expect(() => parseModelRef("org--x/y")).toThrow(/invalid model id/);
    // The library names its option; the CLI spells it as the flag (test/cli/bad-input.test.ts).
    expect(() => parseModelRef("Qwen/Qwen2.5-7B@v1", "v2")).toThrow("two revisions for Qwen/Qwen2.5-7B: @v1 and `revision` v2; keep one");
    expect(parseModelRef("Qwen/Qwen2.5-7B@v1", "v1").revision).toBe("v1");
  });

  it("a revision is a path in the HF cache: nested refs like refs/pr/1 pass; a part too long for a file name, hidden or empty does not", () => {
    expect(parseModelRef("Qwen/Qwen2.5-7B@refs/pr/1").revision).toBe("refs/pr/1");
    for (const revision of ["a".repeat(255), "x/" + "b".repeat(201), ".hidden", "a//b", "refs/", "../x", "a/./b"]) {
      expect(() => parseModelRef(`Qwen/Qwen2.5-7B@${revision}`), revision).toThrow(/invalid revision/);
    }
  });
});

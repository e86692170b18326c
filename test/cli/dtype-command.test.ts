import { describe, expect, it } from "vitest";
import { EXIT_CODES } from "../../src/errors.js";
import { runCliCaptured } from "../support/run-cli.js";

describe("vramplan dtype", () => {
  it("prints the format table", async () => {
    const result = await runCliCaptured(["dtype"], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^fp16\s+1\/5\/10\s+2 B\s+65,504\s+6\.10e-5\s+5\.96e-8/m);
    expect(result.stdout).toMatch(/^fp8_e4m3\s+1\/4\/3\s+1 B\s+448/m);
  });

  it("explains a negative value written without --, and flags fp16's underflow", async () => {
    const result = await runCliCaptured(["dtype", "-1.9601084e-14", "--as", "fp32,fp16"], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("nearest   1 01010001 01100001000110100000110   stored 1 81 3181830");
    expect(result.stdout).toMatch(/UNDERFLOW: below the smallest subnormal 5\.96e-8, stored as -0/);
  });

  it("-0 keeps its sign, with or without --, and options after the value still apply", async () => {
    for (const args of [["dtype", "-0", "--as", "fp32"], ["dtype", "--", "-0", "--as", "fp32"]]) {
      const result = await runCliCaptured(args, {});
      expect(result.code, args.join(" ")).toBe(0);
      expect(result.stdout).toMatch(/^-0 \(as fp64: -0\)$/m);
      expect(result.stdout).toContain("nearest   1 00000000 00000000000000000000000   stored 1 0 0   = -0");
      // --as fp32: no other format is shown.
      expect(result.stdout).not.toContain("bf16");
    }
  });

  it("the table gives int8's minimum and NF4's levels", async () => {
    const result = await runCliCaptured(["dtype"], {});
    expect(result.stdout).toMatch(/^int8 .* 127 \(min -128\)/m);
    const levels = result.stdout.slice(result.stdout.indexOf("nf4 levels")).split("\n\n")[0] ?? "";
    // bitsandbytes create_normal_map: 16 levels from -1 through -0.6961928… to 0.7229568… and 1.
    expect(levels.split(/\s+/).filter((word) => /^-?\d/.test(word))).toHaveLength(16 + 2);
    expect(levels).toMatch(/\s-1\s+-0\.696193\s[\s\S]*0\.722957\s+1$/);
  });

  it("--json is the report object", async () => {
    const result = await runCliCaptured(["dtype", "3.14159265358979", "--as", "fp32", "--json"], {});
    const report = JSON.parse(result.stdout);
    expect(report.conversions[0].nearest.fields).toEqual({ sign: 0, exponent: 128, mantissa: 4788187 });
  });

  it("a bad value or format is a one-line usage error", async () => {
    const notNumber = await runCliCaptured(["dtype", "abc"], {});
    expect([notNumber.code, notNumber.stderr]).toEqual([EXIT_CODES.usage, expect.stringMatching(/^vramplan: "abc" is not a number/)]);
    const badFormat = await runCliCaptured(["dtype", "1", "--as", "fp7"], {});
    expect([badFormat.code, badFormat.stderr]).toEqual([EXIT_CODES.usage, expect.stringMatching(/^vramplan: unknown format "fp7": choose from fp64, fp32/)]);
  });
});

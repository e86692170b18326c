import { describe, expect, it } from "vitest";
import { encodeFloat } from "../../src/dtype/convert.js";
import { describeValue } from "../../src/dtype/describe-value.js";
import { FORMATS, findFormat, type FloatFormat } from "../../src/dtype/formats.js";
import { formatProperties } from "../../src/dtype/properties.js";

const float = (name: string): FloatFormat => {
  const format = findFormat(name);
  if (format?.kind !== "float") throw new Error(name);
  return format;
};

describe("the format table, checked against each bit layout worked out here", () => {
  // [name, exponent bits, mantissa bits, largest exponent field holding finite values,
  //  largest mantissa there, the published maximum]
  const layouts: [string, number, number, number, number, number][] = [
    // IEEE: the all-ones exponent is inf/NaN, so the largest finite is 1.11…1 × 2^(2^e − 2 − bias).
    ["fp64", 11, 52, 2046, 2 ** 52 - 1, Number.MAX_VALUE],
    ["fp32", 8, 23, 254, 2 ** 23 - 1, 3.4028234663852886e38],
    ["tf32", 8, 10, 254, 1023, (2 - 2 ** -10) * 2 ** 127],
    ["bf16", 8, 7, 254, 127, 3.3895313892515355e38],
    ["fp16", 5, 10, 30, 1023, 65504],
    ["fp8_e5m2", 5, 2, 30, 3, 57344],
    // float8_e4m3fn: only S.1111.111 is NaN, so the top exponent holds 1.110 × 2^8 = 448.
    ["fp8_e4m3", 4, 3, 15, 6, 448],
    // OCP MX fp6/fp4: no specials, every pattern is finite.
    ["fp6_e3m2", 3, 2, 7, 3, 28],
    ["fp6_e2m3", 2, 3, 3, 7, 7.5],
    ["fp4_e2m1", 2, 1, 3, 1, 6],
  ];
  for (const [name, e, m, topExponent, topMantissa, published] of layouts) {
    it(`${name}: 1 sign, ${e} exponent, ${m} mantissa bits`, () => {
      const bias = 2 ** (e - 1) - 1;
      const row = formatProperties(float(name));
      expect([row.signBits, row.exponentBits, row.mantissaBits, row.bias]).toEqual([1, e, m, bias]);
      expect(row.maxFinite).toBe((1 + topMantissa / 2 ** m) * 2 ** (topExponent - bias));
      expect(row.maxFinite).toBe(published);
      expect(row.minNormal).toBe(2 ** (1 - bias));
      expect(row.minSubnormal).toBe(2 ** (1 - bias - m));
      expect(row.epsilon).toBe(2 ** -m);
      expect(row.decimalDigits).toBe(Math.floor(m * Math.log10(2)));
    });
  }

  it("fp16's smallest values are 2^−14 normal and 2^−24 subnormal (6.10e-5, 5.96e-8)", () => {
    const row = formatProperties(float("fp16"));
    expect(row.minNormal).toBeCloseTo(6.1035e-5, 9);
    expect(row.minSubnormal).toBeCloseTo(5.9605e-8, 12);
  });

  it("integers and NF4", () => {
    expect(formatProperties(FORMATS.find((format) => format.name === "int8") ?? FORMATS[0]!)).toMatchObject({ maxFinite: 127, storageBits: 8 });
    expect(formatProperties(FORMATS.find((format) => format.name === "int4") ?? FORMATS[0]!)).toMatchObject({ maxFinite: 7, storageBits: 4 });
    // QLoRA's NF4: 16 levels, ±1 at the ends, the smallest positive 0.0796.
    const nf4 = formatProperties(FORMATS.find((format) => format.name === "nf4") ?? FORMATS[0]!);
    expect(nf4).toMatchObject({ maxFinite: 1, storageBits: 4 });
    expect(nf4.minNormal).toBeCloseTo(0.0796, 4);
  });
});

describe("how a value is stored", () => {
  it("π in fp32 is 0 10000000 10010010000111111011011, stored integers 0 128 4788187", () => {
    const [fp32] = describeValue("3.14159265358979", ["fp32"]).conversions;
    expect(fp32?.nearest.bits).toBe("0 10000000 10010010000111111011011");
    expect(fp32?.nearest.fields).toEqual({ sign: 0, exponent: 128, mantissa: 4788187 });
    // Truncating the double's mantissa instead drops the round-up: …011010.
    expect(fp32?.truncate.fields).toEqual({ sign: 0, exponent: 128, mantissa: 4788186 });
    expect(fp32?.differ).toBe(true);
  });

  it("−1.9601084e-14: fp32 1 01010001 01100001000110100000110; bf16 keeps 48 truncated, 49 rounded; fp16 underflows", () => {
    const [fp32, bf16, fp16] = describeValue("-1.9601084e-14", ["fp32", "bf16", "fp16"]).conversions;
    expect(fp32?.nearest.bits).toBe("1 01010001 01100001000110100000110");
    expect(fp32?.nearest.fields).toEqual({ sign: 1, exponent: 81, mantissa: 3181830 });
    // The fp32 mantissa 0110000 1000110100000110: its top 7 bits are 48, and the 16 dropped bits
    // are above one half, so round-to-nearest gives 49.
    expect(bf16?.truncate.fields).toEqual({ sign: 1, exponent: 81, mantissa: 48 });
    expect(bf16?.nearest.fields).toEqual({ sign: 1, exponent: 81, mantissa: 49 });
    expect(bf16?.truncate.value).toBeCloseTo(-1.95e-14, 16);
    // fp16's smallest subnormal is 2^−24 ≈ 5.96e-8: the value is stored as −0.
    expect(fp16?.nearest.flags).toContain("underflow-to-zero");
    expect(fp16?.nearest.fields).toEqual({ sign: 1, exponent: 0, mantissa: 0 });
    expect(Object.is(fp16?.nearest.value, -0)).toBe(true);
  });

  it("ties go to even: 1 + 2^−8 rounds down to 1 in bf16, 1 + 3·2^−8 rounds up to 1 + 2^−6", () => {
    expect(encodeFloat(float("bf16"), 1 + 2 ** -8, "nearest-even").mantissa).toBe(0);
    expect(encodeFloat(float("bf16"), 1 + 3 * 2 ** -8, "nearest-even").mantissa).toBe(2);
    expect(encodeFloat(float("bf16"), 1 + 3 * 2 ** -8, "truncate").mantissa).toBe(1);
  });

  it("a value below fp16's normal range becomes a subnormal: 1e-6 ≈ 17 × 2^−24", () => {
    const stored = encodeFloat(float("fp16"), 1e-6, "nearest-even");
    // 1e-6 / 2^−24 = 16.78, rounded to 17.
    expect([stored.exponent, stored.mantissa]).toEqual([0, 17]);
    expect(stored.flags).toContain("underflow-to-subnormal");
  });

  it("overflow: fp16 rounds to inf, truncation and fp8 e4m3 keep the largest finite value", () => {
    expect(encodeFloat(float("fp16"), 70000, "nearest-even").value).toBe(Infinity);
    expect(encodeFloat(float("fp16"), 70000, "truncate").value).toBe(65504);
    const e4m3 = encodeFloat(float("fp8_e4m3"), 500, "nearest-even");
    expect([e4m3.value, e4m3.flags]).toEqual([448, ["overflow"]]);
  });

  it("a value that rounds past the top of a finite-only format overflows rather than becoming NaN", () => {
    // 464 lies between 448 (1.110 × 2^8) and the NaN pattern 1.111 × 2^8 = 480.
    expect(encodeFloat(float("fp8_e4m3"), 470, "nearest-even").flags).toEqual(["overflow"]);
  });

  it("fp4 e2m1 holds exactly 0, 0.5, 1, 1.5, 2, 3, 4, 6", () => {
    const values = Array.from({ length: 8 }, (_, pattern) => encodeFloat(float("fp4_e2m1"), [0, 0.5, 1, 1.5, 2, 3, 4, 6][pattern] ?? 0, "nearest-even"));
    expect(values.map((stored) => stored.flags)).toEqual(Array.from({ length: 8 }, () => ["exact"]));
    expect(values.map((stored) => stored.exponent * 2 + stored.mantissa)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });
});

describe("edge values a user types", () => {
  it("-0 keeps its sign bit: fp32 1 00000000 000…0", () => {
    const report = describeValue("-0", ["fp32", "bf16"]);
    expect(Object.is(report.value, -0)).toBe(true);
    for (const conversion of report.conversions) {
      expect(conversion.nearest.fields).toEqual({ sign: 1, exponent: 0, mantissa: 0 });
      expect(conversion.nearest.absoluteError).toBe(0);
    }
  });

  it("infinity is exact in IEEE formats, NaN in float8_e4m3fn (no infinity), the largest value in fp4", () => {
    const [fp32, e4m3, fp4] = describeValue("inf", ["fp32", "fp8_e4m3", "fp4_e2m1"]).conversions;
    // fp32: exponent all ones (255), mantissa 0, in either rounding.
    expect([fp32?.nearest.fields, fp32?.nearest.flags, fp32?.nearest.absoluteError, fp32?.differ]).toEqual([{ sign: 0, exponent: 255, mantissa: 0 }, ["exact"], 0, false]);
    // float8_e4m3fn's only NaN pattern is S.1111.111.
    expect([e4m3?.nearest.fields, e4m3?.nearest.flags]).toEqual([{ sign: 0, exponent: 15, mantissa: 7 }, ["nan"]]);
    expect([fp4?.nearest.value, fp4?.nearest.flags]).toEqual([6, ["overflow"]]);
  });

  it("1e-400 is below fp64 itself: stored as 0 everywhere, with the whole value lost, not an error of 0", () => {
    const report = describeValue("1e-400", ["fp64", "fp32"]);
    expect(report.inputRange).toBe("underflow");
    for (const conversion of report.conversions) {
      expect(conversion.nearest.value).toBe(0);
      expect(conversion.nearest.absoluteError).toBeNull();
      expect(conversion.nearest.relativeError).toBe(1);
      expect(conversion.nearest.flags).toContain("underflow-to-zero");
    }
  });

  it("1e400 is beyond fp64: infinity rounded to nearest, the largest finite truncated, both overflows", () => {
    const [fp64] = describeValue("1e400", ["fp64"]).conversions;
    expect([fp64?.nearest.value, fp64?.nearest.flags[0], fp64?.nearest.absoluteError]).toEqual([Infinity, "overflow", Infinity]);
    expect([fp64?.truncate.value, fp64?.truncate.flags[0]]).toEqual([Number.MAX_VALUE, "overflow"]);
  });

  it("int8 reaches -128 (two's complement 10000000) and clamps below it", () => {
    expect(describeValue("-128", ["int8"]).conversions[0]?.nearest).toMatchObject({ bits: "10000000", value: -128, flags: ["exact"] });
    expect(describeValue("-200", ["int8"]).conversions[0]?.nearest).toMatchObject({ value: -128, flags: ["overflow", "rounded"] });
  });

  it("nf4 stores the nearest of bitsandbytes' 16 levels: 0.3 → level 11 (0.33791524…), and refuses a value outside [-1, 1]", () => {
    // create_normal_map's levels 10 and 11 are 0.24611230… and 0.33791524…: 0.3 is nearer the second.
    expect(describeValue("0.3", ["nf4"]).conversions[0]?.nearest).toMatchObject({ bits: "1011", fields: { index: 11 }, value: 0.33791524171829224 });
    expect(() => describeValue("3", ["nf4"])).toThrow(/between -1 and 1 .*16 levels: -1, -0\.6962/);
  });
});

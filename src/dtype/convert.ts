import type { FloatFormat, IntegerFormat } from "./formats.js";
import { floatBias, largestFinite } from "./properties.js";

export type Rounding = "nearest-even" | "truncate";

/** How a value landed in a narrower format. */
export type ConversionFlag = "exact" | "rounded" | "overflow" | "underflow-to-subnormal" | "underflow-to-zero" | "nan";

export interface FloatEncoding {
  sign: number;
  exponent: number;
  mantissa: number;
  /** "0 10000000 10010010000111111011011": the fields' bits, grouped. */
  bits: string;
  value: number;
  flags: ConversionFlag[];
}

/** A double as sign, unbiased exponent and a 53-bit integer significand (value = M × 2^(E − 52)). */
function splitDouble(x: number): { sign: number; exponent: number; significand: bigint } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const raw = view.getBigUint64(0);
  const sign = Number(raw >> 63n);
  const exponentField = Number((raw >> 52n) & 0x7ffn);
  const fraction = raw & ((1n << 52n) - 1n);
  if (exponentField !== 0) return { sign, exponent: exponentField - 1023, significand: fraction | (1n << 52n) };
  // Subnormal double: normalise so the leading 1 sits at bit 52.
  const width = fraction.toString(2).length;
  return { sign, exponent: -1074 + width - 1, significand: fraction << BigInt(53 - width) };
}

function fieldBits(value: number, width: number): string {
  return width === 0 ? "" : value.toString(2).padStart(width, "0");
}

/** Decodes fields of a float format back to a number. */
export function decodeFloat(format: FloatFormat, sign: number, exponent: number, mantissa: number): number {
  const bias = floatBias(format);
  const allOnes = 2 ** format.exponentBits - 1;
  const signed = (magnitude: number) => (sign ? -magnitude : magnitude);
  if (format.specials === "ieee" && exponent === allOnes) return mantissa === 0 ? signed(Infinity) : Number.NaN;
  if (format.specials === "fn" && exponent === allOnes && mantissa === 2 ** format.mantissaBits - 1) return Number.NaN;
  if (exponent === 0) return signed((mantissa / 2 ** format.mantissaBits) * 2 ** (1 - bias));
  return signed((1 + mantissa / 2 ** format.mantissaBits) * 2 ** (exponent - bias));
}

/**
 * Stores `x` in a float format, rounding the significand to nearest (ties to even, what frameworks
 * do) or truncating it (dropping the extra mantissa bits, the textbook explanation).
 * Exact for every format up to fp64: the arithmetic is on the double's integer significand.
 */
export function encodeFloat(format: FloatFormat, x: number, rounding: Rounding): FloatEncoding {
  const m = format.mantissaBits;
  const bias = floatBias(format);
  const finish = (sign: number, exponent: number, mantissa: number, flags: ConversionFlag[]): FloatEncoding => ({
    sign,
    exponent,
    mantissa,
    bits: [String(sign), fieldBits(exponent, format.exponentBits), fieldBits(mantissa, m)].join(" "),
    value: decodeFloat(format, sign, exponent, mantissa),
    flags,
  });
  const allOnes = 2 ** format.exponentBits - 1;
  if (Number.isNaN(x)) {
    if (format.specials === "none") return finish(0, 0, 0, ["nan"]);
    return finish(0, allOnes, format.specials === "fn" ? 2 ** m - 1 : 2 ** (m - 1), ["nan"]);
  }
  const { sign, exponent: e, significand } = splitDouble(x);
  if (x === 0) return finish(sign, 0, 0, ["exact"]);

  const max = largestFinite(format);
  const overflow = (): FloatEncoding => {
    // Round-to-nearest overflows to infinity where the format has one; truncation (round toward
    // zero) and finite-only formats keep the largest finite value, as saturating casts do.
    if (format.specials === "ieee" && rounding === "nearest-even") return finish(sign, allOnes, 0, ["overflow"]);
    return finish(sign, max.exponentField, max.mantissaField, ["overflow"]);
  };
  if (!Number.isFinite(x)) {
    // An infinity is a value IEEE formats hold exactly, in either rounding. float8_e4m3fn has no
    // infinity and casts it to NaN (PyTorch, ml_dtypes); the OCP MX formats have neither and saturate.
    if (format.specials === "ieee") return finish(sign, allOnes, 0, ["exact"]);
    if (format.specials === "fn") return finish(sign, allOnes, 2 ** m - 1, ["nan"]);
    return overflow();
  }

  const minExponent = 1 - bias;
  const subnormal = e < minExponent;
  // Bits of the double's significand below the target's last mantissa bit.
  const shift = BigInt(52 - m + (subnormal ? minExponent - e : 0));
  let kept = shift >= 64n ? 0n : significand >> shift;
  if (rounding === "nearest-even" && shift > 0n) {
    const remainder = shift >= 64n ? significand : significand & ((1n << shift) - 1n);
    const half = shift > 64n ? 1n << 64n : 1n << (shift - 1n);
    if (remainder > half || (remainder === half && (kept & 1n) === 1n)) kept += 1n;
  }
  const lost = shift > 0n && (shift >= 64n ? significand !== 0n : (significand & ((1n << shift) - 1n)) !== 0n);

  let exponentField: number;
  let mantissaField: number;
  const hidden = 1n << BigInt(m);
  if (subnormal) {
    // Rounding up may carry a subnormal into the smallest normal.
    exponentField = kept >= hidden ? 1 : 0;
    mantissaField = Number(kept >= hidden ? kept - hidden : kept);
  } else {
    let exponent = e;
    if (kept >= hidden << 1n) {
      kept >>= 1n;
      exponent += 1;
    }
    exponentField = exponent + bias;
    mantissaField = Number(kept - hidden);
  }
  if (exponentField > max.exponentField || (exponentField === max.exponentField && mantissaField > max.mantissaField)) return overflow();

  // IEEE 754's underflow: tiny and inexact. An exactly representable subnormal is not flagged.
  const flags: ConversionFlag[] = [];
  if (exponentField === 0 && mantissaField === 0) flags.push("underflow-to-zero");
  else if (exponentField === 0 && lost) flags.push("underflow-to-subnormal");
  flags.push(lost ? "rounded" : "exact");
  return finish(sign, exponentField, mantissaField, flags);
}

export interface IntegerEncoding {
  value: number;
  /** Two's-complement bits. */
  bits: string;
  flags: ConversionFlag[];
}

/** Rounds to an integer (nearest-even or toward zero) and clamps to the format's range. */
export function encodeInteger(format: IntegerFormat, x: number, rounding: Rounding): IntegerEncoding {
  const low = -(2 ** (format.bits - 1));
  const high = 2 ** (format.bits - 1) - 1;
  if (Number.isNaN(x)) return { value: 0, bits: "0".repeat(format.bits), flags: ["nan"] };
  let value = rounding === "truncate" ? Math.trunc(x) : roundHalfEven(x);
  const flags: ConversionFlag[] = [];
  if (value > high || value < low) {
    value = Math.min(high, Math.max(low, value));
    flags.push("overflow");
  } else if (value === 0 && x !== 0) flags.push("underflow-to-zero");
  flags.push(value === x ? "exact" : "rounded");
  const bits = ((value + 2 ** format.bits) % 2 ** format.bits).toString(2).padStart(format.bits, "0");
  return { value: value === 0 ? 0 : value, bits, flags };
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const difference = x - floor;
  if (difference > 0.5) return floor + 1;
  if (difference < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

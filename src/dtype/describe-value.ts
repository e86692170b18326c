import { UsageError } from "../errors.js";
import { encodeFloat, encodeInteger, type ConversionFlag, type Rounding } from "./convert.js";
import { FORMATS, findFormat, type LookupFormat, type NumberFormat } from "./formats.js";
import { formatProperties } from "./properties.js";

export interface StoredValue {
  /** The stored bits, grouped `sign exponent mantissa` (floats) or two's complement (integers). */
  bits: string;
  /** The stored integers: sign, biased exponent, mantissa (floats), the integer itself, or a level's index. */
  fields: { sign: number; exponent: number; mantissa: number } | { integer: number } | { index: number };
  value: number;
  /** null when the input is beyond fp64 itself (1e-400, or 1e400 truncated): the error is then about the whole input. */
  absoluteError: number | null;
  relativeError: number | null;
  flags: ConversionFlag[];
}

export interface FormatConversion {
  format: string;
  /** The value converted: the fp64 input for fp64/fp32, the fp32 value for narrower formats. */
  from: "fp64" | "fp32";
  nearest: StoredValue;
  truncate: StoredValue;
  /** Whether round-to-nearest-even and truncation store different bits. */
  differ: boolean;
  /** The format's largest finite value and smallest subnormal (null for integers), for messages. */
  limits: { maxFinite: number; minSubnormal: number | null };
}

export interface DtypeValueReport {
  schema: "vramplan.dtype-value/1";
  input: string;
  value: number;
  /** The decimal input is beyond fp64 itself: below its smallest subnormal, or past its largest finite. */
  inputRange: "underflow" | "overflow" | null;
  conversions: FormatConversion[];
}

export const DEFAULT_VALUE_FORMATS = ["fp32", "tf32", "bf16", "fp16", "fp8_e4m3", "fp8_e5m2", "fp4_e2m1", "int8"];

/**
 * How one number is stored in each format: the bits, the stored integers, the decoded value and its
 * error, under round-to-nearest-even (what frameworks do) and truncation (the textbook picture).
 * Narrower formats start from the fp32 value, as a framework casting an fp32 tensor does.
 */
export function describeValue(input: string, formatNames: readonly string[] = DEFAULT_VALUE_FORMATS): DtypeValueReport {
  const { value, inputRange } = parseDecimal(input);
  const fp32 = findFormat("fp32");
  if (fp32?.kind !== "float") throw new Error("fp32 format missing");
  const asFp32 = encodeFloat(fp32, value, "nearest-even").value;
  const conversions = formatNames.map((name): FormatConversion => {
    const format = findFormat(name);
    if (!format) throw new UsageError(`unknown format "${name}": choose from ${FORMATS.map((candidate) => candidate.name).join(", ")}`);
    const from = format.name === "fp64" || format.name === "fp32" ? "fp64" : "fp32";
    const source = from === "fp64" ? value : asFp32;
    const nearest = store(format, source, "nearest-even", value, inputRange);
    // bitsandbytes only rounds to the nearest level: there is no truncating NF4 cast.
    const truncate = format.kind === "lookup" ? nearest : store(format, source, "truncate", value, inputRange);
    const { maxFinite, minSubnormal } = formatProperties(format);
    return { format: format.name, from, nearest, truncate, differ: nearest.bits !== truncate.bits, limits: { maxFinite, minSubnormal } };
  });
  return { schema: "vramplan.dtype-value/1", input, value, inputRange, conversions };
}

function store(format: NumberFormat, source: number, rounding: Rounding, original: number, inputRange: DtypeValueReport["inputRange"]): StoredValue {
  const encoded = inputRange === "overflow" ? encodeBeyondFp64(format, source, rounding) : encode(format, source, rounding);
  const flags = inputRange === "underflow" && !encoded.flags.includes("underflow-to-zero") ? ["underflow-to-zero" as const, ...encoded.flags] : encoded.flags;
  // An infinity stored as itself is exact; inf − inf would say NaN.
  const same = encoded.value === original || (Number.isNaN(encoded.value) && Number.isNaN(original));
  if (inputRange !== null) {
    // The input is not a double: below fp64 every format loses all of it; beyond fp64, infinity is
    // infinitely far off, and the largest finite value is off by about the whole input.
    const infinite = inputRange === "overflow" && !Number.isFinite(encoded.value);
    return { ...encoded, flags, absoluteError: infinite ? Infinity : null, relativeError: infinite ? null : 1 };
  }
  const absoluteError = same ? 0 : Math.abs(encoded.value - original);
  const relativeError = original === 0 || !Number.isFinite(original) ? null : absoluteError / Math.abs(original);
  return { ...encoded, flags, absoluteError, relativeError };
}

/**
 * A decimal past fp64's largest finite value (1e400) reached us as ±Infinity, but it is a finite
 * number: rounded to nearest it overflows to infinity, truncated it saturates at the largest finite.
 */
function encodeBeyondFp64(format: NumberFormat, infinite: number, rounding: Rounding): Pick<StoredValue, "bits" | "fields" | "value" | "flags"> {
  const finite = encode(format, Math.sign(infinite) * Number.MAX_VALUE, rounding);
  if (finite.flags.includes("overflow")) return finite;
  const stored = rounding === "nearest-even" && format.kind === "float" && format.specials === "ieee" ? encode(format, infinite, rounding) : finite;
  return { ...stored, flags: ["overflow", ...stored.flags.filter((flag) => flag !== "exact")] };
}

function encode(format: NumberFormat, source: number, rounding: Rounding): Pick<StoredValue, "bits" | "fields" | "value" | "flags"> {
  if (format.kind === "float") {
    const float = encodeFloat(format, source, rounding);
    return { bits: float.bits, value: float.value, flags: float.flags, fields: { sign: float.sign, exponent: float.exponent, mantissa: float.mantissa } };
  }
  if (format.kind === "integer") {
    const integer = encodeInteger(format, source, rounding);
    return { bits: integer.bits, value: integer.value, flags: integer.flags, fields: { integer: integer.value } };
  }
  return encodeLevel(format, source);
}

/**
 * NF4 stores the index of the level nearest to x / absmax (bitsandbytes quantize_4bit); the value
 * given here is that quotient, so it must lie in [−1, 1].
 */
function encodeLevel(format: LookupFormat, x: number): Pick<StoredValue, "bits" | "fields" | "value" | "flags"> {
  if (!(Math.abs(x) <= 1)) {
    throw new UsageError(`${format.name} stores a value divided by its block's absmax, so give one between -1 and 1 (got ${x}); its ${format.levels.length} levels: ${format.levels.map((level) => Number(level.toPrecision(4))).join(", ")}`);
  }
  let index = 0;
  format.levels.forEach((level, candidate) => {
    if (Math.abs(level - x) < Math.abs((format.levels[index] as number) - x)) index = candidate;
  });
  const value = format.levels[index] as number;
  return { bits: index.toString(2).padStart(format.bits, "0"), fields: { index }, value, flags: [value === x ? "exact" : "rounded"] };
}

function parseDecimal(input: string): { value: number; inputRange: DtypeValueReport["inputRange"] } {
  const text = input.trim().toLowerCase();
  if (text === "nan") return { value: Number.NaN, inputRange: null };
  if (/^[+-]?(inf|infinity)$/.test(text)) return { value: text.startsWith("-") ? -Infinity : Infinity, inputRange: null };
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(text)) {
    throw new UsageError(`"${input}" is not a number: write it like 3.14159, -1.96e-14 or 65504 (after -- if it starts with a minus sign)`);
  }
  const value = Number(text);
  // A digit other than 0 before the exponent: the decimal is not zero, whatever fp64 made of it.
  const nonZero = /[1-9]/.test(text.split("e")[0] ?? "");
  return { value, inputRange: value === 0 && nonZero ? "underflow" : Number.isFinite(value) ? null : "overflow" };
}

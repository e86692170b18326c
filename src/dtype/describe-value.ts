import { UsageError } from "../errors.js";
import { encodeFloat, encodeInteger, type ConversionFlag, type Rounding } from "./convert.js";
import { FORMATS, findFormat, type NumberFormat } from "./formats.js";
import { formatProperties } from "./properties.js";

export interface StoredValue {
  /** The stored bits, grouped `sign exponent mantissa` (floats) or two's complement (integers). */
  bits: string;
  /** The stored integers: sign, biased exponent, mantissa (floats) or the integer itself. */
  fields: { sign: number; exponent: number; mantissa: number } | { integer: number };
  value: number;
  absoluteError: number;
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
  conversions: FormatConversion[];
}

export const DEFAULT_VALUE_FORMATS = ["fp32", "tf32", "bf16", "fp16", "fp8_e4m3", "fp8_e5m2", "fp4_e2m1", "int8"];

/**
 * How one number is stored in each format: the bits, the stored integers, the decoded value and its
 * error, under round-to-nearest-even (what frameworks do) and truncation (the textbook picture).
 * Narrower formats start from the fp32 value, as a framework casting an fp32 tensor does.
 */
export function describeValue(input: string, formatNames: readonly string[] = DEFAULT_VALUE_FORMATS): DtypeValueReport {
  const value = parseDecimal(input);
  const fp32 = findFormat("fp32");
  if (fp32?.kind !== "float") throw new Error("fp32 format missing");
  const asFp32 = encodeFloat(fp32, value, "nearest-even").value;
  const conversions = formatNames.map((name): FormatConversion => {
    const format = findFormat(name);
    if (!format) throw new UsageError(`unknown format "${name}": choose from ${FORMATS.map((candidate) => candidate.name).join(", ")}`);
    if (format.kind === "lookup") throw new UsageError(`${format.name} stores an index into levels scaled by a block's absmax, not a lone value: see \`vramplan dtype\` for its levels`);
    const from = format.name === "fp64" || format.name === "fp32" ? "fp64" : "fp32";
    const source = from === "fp64" ? value : asFp32;
    const nearest = store(format, source, "nearest-even", value);
    const truncate = store(format, source, "truncate", value);
    const { maxFinite, minSubnormal } = formatProperties(format);
    return { format: format.name, from, nearest, truncate, differ: nearest.bits !== truncate.bits, limits: { maxFinite, minSubnormal } };
  });
  return { schema: "vramplan.dtype-value/1", input, value, conversions };
}

function store(format: Exclude<NumberFormat, { kind: "lookup" }>, source: number, rounding: Rounding, original: number): StoredValue {
  const encoded =
    format.kind === "float"
      ? (() => {
          const float = encodeFloat(format, source, rounding);
          return { ...float, fields: { sign: float.sign, exponent: float.exponent, mantissa: float.mantissa } };
        })()
      : (() => {
          const integer = encodeInteger(format, source, rounding);
          return { ...integer, fields: { integer: integer.value } };
        })();
  const { fields } = encoded;
  const absoluteError = Math.abs(encoded.value - original);
  return {
    bits: encoded.bits,
    fields,
    value: encoded.value,
    absoluteError,
    relativeError: original === 0 ? null : absoluteError / Math.abs(original),
    flags: encoded.flags,
  };
}

function parseDecimal(input: string): number {
  const text = input.trim().toLowerCase();
  if (text === "nan") return Number.NaN;
  if (/^[+-]?(inf|infinity)$/.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(text)) {
    throw new UsageError(`"${input}" is not a number: write it like 3.14159, -1.96e-14 or 65504 (after -- if it starts with a minus sign)`);
  }
  return Number(text);
}

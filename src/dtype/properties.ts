import type { FloatFormat, NumberFormat } from "./formats.js";

/** A format's row in `vramplan dtype`: everything derived from its bit layout. */
export interface FormatProperties {
  name: string;
  kind: NumberFormat["kind"];
  signBits: number;
  exponentBits: number | null;
  mantissaBits: number | null;
  /** Bits in memory (bytes = bits / 8, fractional for sub-byte formats). */
  storageBits: number;
  bias: number | null;
  maxFinite: number;
  /** Smallest positive normal number (floats) or smallest positive step (integers, NF4 levels). */
  minNormal: number | null;
  minSubnormal: number | null;
  /** Distance from 1 to the next value: 2^−mantissa bits. */
  epsilon: number | null;
  /** ⌊mantissa bits × log10 2⌋. */
  decimalDigits: number | null;
  hasInfinity: boolean;
  hasNaN: boolean;
  note: string;
}

export function floatBias(format: FloatFormat): number {
  return 2 ** (format.exponentBits - 1) - 1;
}

/** The largest exponent field holding finite numbers, and the largest mantissa at that exponent. */
export function largestFinite(format: FloatFormat): { exponentField: number; mantissaField: number } {
  const allOnesExponent = 2 ** format.exponentBits - 1;
  const allOnesMantissa = 2 ** format.mantissaBits - 1;
  if (format.specials === "ieee") return { exponentField: allOnesExponent - 1, mantissaField: allOnesMantissa };
  // float8_e4m3fn keeps S.1111.111 for NaN: its top exponent holds finite values up to mantissa 110.
  if (format.specials === "fn") return { exponentField: allOnesExponent, mantissaField: allOnesMantissa - 1 };
  return { exponentField: allOnesExponent, mantissaField: allOnesMantissa };
}

export function formatProperties(format: NumberFormat): FormatProperties {
  if (format.kind === "integer") {
    return {
      name: format.name,
      kind: "integer",
      signBits: 1,
      exponentBits: null,
      mantissaBits: null,
      storageBits: format.bits,
      bias: null,
      maxFinite: 2 ** (format.bits - 1) - 1,
      minNormal: 1,
      minSubnormal: null,
      epsilon: null,
      decimalDigits: null,
      hasInfinity: false,
      hasNaN: false,
      note: format.note,
    };
  }
  if (format.kind === "lookup") {
    const positive = format.levels.filter((level) => level > 0);
    return {
      name: format.name,
      kind: "lookup",
      signBits: 0,
      exponentBits: null,
      mantissaBits: null,
      storageBits: format.bits,
      bias: null,
      maxFinite: Math.max(...format.levels),
      minNormal: Math.min(...positive),
      minSubnormal: null,
      epsilon: null,
      decimalDigits: null,
      hasInfinity: false,
      hasNaN: false,
      note: format.note,
    };
  }
  const bias = floatBias(format);
  const { exponentField, mantissaField } = largestFinite(format);
  return {
    name: format.name,
    kind: "float",
    signBits: 1,
    exponentBits: format.exponentBits,
    mantissaBits: format.mantissaBits,
    storageBits: format.storageBits,
    bias,
    maxFinite: (1 + mantissaField / 2 ** format.mantissaBits) * 2 ** (exponentField - bias),
    minNormal: 2 ** (1 - bias),
    minSubnormal: 2 ** (1 - bias - format.mantissaBits),
    epsilon: 2 ** -format.mantissaBits,
    decimalDigits: Math.floor(format.mantissaBits * Math.log10(2)),
    hasInfinity: format.specials === "ieee",
    hasNaN: format.specials !== "none",
    note: format.note,
  };
}

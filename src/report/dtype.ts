import type { DtypeValueReport, FormatConversion, StoredValue } from "../dtype/describe-value.js";
import { FORMATS } from "../dtype/formats.js";
import type { FormatProperties } from "../dtype/properties.js";
import { renderTable, wrapParts, wrapText, type Column, type Layout } from "./layout.js";
import { formatInt } from "./units.js";

/** A real number for a table: plain within [1e-4, 1e6), else 3 significant digits in e-notation. */
export function formatReal(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0" : "0";
  const magnitude = Math.abs(x);
  if (magnitude >= 1e-4 && magnitude < 1e6) {
    return Number.isInteger(x) ? formatInt(x) : String(Number(x.toPrecision(6)));
  }
  return x.toExponential(2);
}

export function renderFormatTable(rows: FormatProperties[], layout: Layout = {}): string {
  const header = ["format", "bits s/e/m", "per value", "largest finite", "smallest normal", "smallest subnormal", "epsilon", "digits"];
  const lines = rows.map((row) => {
    const layout =
      row.kind === "float" ? `${row.signBits}/${row.exponentBits}/${row.mantissaBits}` : row.kind === "integer" ? `${row.storageBits} (integer)` : `${row.storageBits} (index)`;
    const storage = row.storageBits % 8 === 0 ? `${row.storageBits / 8} B` : `${row.storageBits} bits`;
    const scaled = (x: number) => (row.kind === "lookup" ? `${formatReal(x)} × absmax` : formatReal(x));
    return [
      row.name,
      layout,
      storage,
      // Two's complement reaches one further below zero than above it.
      row.kind === "integer" ? `${formatReal(row.maxFinite)} (min ${formatReal(-row.maxFinite - 1)})` : scaled(row.maxFinite),
      row.minNormal === null ? "—" : row.kind === "integer" ? "1 (step)" : scaled(row.minNormal),
      row.minSubnormal === null ? "—" : formatReal(row.minSubnormal),
      row.epsilon === null ? "—" : formatReal(row.epsilon),
      row.decimalDigits === null ? "—" : String(row.decimalDigits),
    ];
  });
  const columns: Column[] = header.map((cell, column) => ({ header: cell, align: column === 0 ? "left" : "right" }));
  const out = [...renderTable(columns, lines, layout), ""];
  const nameWidth = Math.max(...rows.map((row) => row.name.length));
  for (const row of rows) out.push(...wrapText(`${row.name.padEnd(nameWidth)}  ${row.note}`, layout, nameWidth + 2));
  for (const format of FORMATS) {
    if (format.kind === "lookup" && rows.some((row) => row.name === format.name)) {
      out.push("", `${format.name} levels (× the block's absmax; index 0 to ${format.levels.length - 1}):`, ...wrapText(`  ${format.levels.map((level) => formatReal(level)).join("  ")}`, layout, 0));
    }
  }
  out.push("", ...wrapText("digits = ⌊mantissa bits × log10 2⌋; epsilon = 2^−mantissa bits, the gap between 1 and the next value.", layout));
  return out.join("\n") + "\n";
}

export function renderValueReport(report: DtypeValueReport, layout: Layout = {}): string {
  const out = [`${report.input} (as fp64: ${formatExact(report.value)})`];
  if (report.inputRange === "underflow") out.push(...wrapText(`${report.input} is below fp64's smallest subnormal (4.94e-324): every format stores 0, losing all of it`, layout));
  if (report.inputRange === "overflow") out.push(...wrapText(`${report.input} is beyond fp64's largest finite value (1.80e+308): rounded to nearest it is infinity, truncated the largest finite value`, layout));
  out.push("");
  for (const conversion of report.conversions) {
    const origin = conversion.from === "fp64" ? "from the input" : "from its fp32 value";
    out.push(`${conversion.format} (${origin}${conversion.differ ? "; truncation and round-to-nearest-even differ" : ""})`);
    out.push(...storedLines("nearest ", conversion.nearest, conversion, report, layout));
    out.push(...(conversion.differ ? storedLines("truncate", conversion.truncate, conversion, report, layout) : ["  truncate  same bits"]));
    out.push("");
  }
  out.push(...wrapText("nearest = round to nearest, ties to even (what frameworks do); truncate = drop the extra mantissa bits.", layout));
  return out.join("\n") + "\n";
}

/** The stored bits, fields, value, error and flags: on one line, or broken between them when it is too long. */
function storedLines(label: string, stored: StoredValue, conversion: FormatConversion, report: DtypeValueReport, layout: Layout): string[] {
  const fields =
    "integer" in stored.fields
      ? `integer ${stored.fields.integer}`
      : "index" in stored.fields
        ? `level ${stored.fields.index}`
        : `stored ${stored.fields.sign} ${stored.fields.exponent} ${stored.fields.mantissa}`;
  // null: the input is below fp64's range, so the error is all of it.
  const absolute = stored.absoluteError === null ? report.input.trim() : formatReal(stored.absoluteError);
  const error = stored.relativeError === null ? `error ${absolute}` : `error ${absolute} (${formatReal(stored.relativeError)} relative)`;
  const decoded = formatExact(stored.value);
  const flags = stored.flags.filter((flag) => flag !== "rounded" && flag !== "exact").map((flag) => describeFlag(flag, stored, conversion, Math.abs(report.value) === Infinity && report.inputRange === null));
  return wrapParts([`  ${label}  ${stored.bits}`, `${fields}   = ${decoded}`, error, ...(flags.length ? [flags.join("; ")] : [])], layout, "   ", 12);
}

/** Every digit JavaScript needs to give the double back, with the sign of zero. */
function formatExact(x: number): string {
  return Object.is(x, -0) ? "-0" : String(x);
}

function describeFlag(flag: string, stored: StoredValue, conversion: FormatConversion, infiniteInput: boolean): string {
  const { maxFinite, minSubnormal } = conversion.limits;
  switch (flag) {
    case "overflow":
      return "integer" in stored.fields
        ? `OVERFLOW: outside ${formatReal(-maxFinite - 1)} to ${formatReal(maxFinite)}, stored as ${formatReal(stored.value)}`
        : `OVERFLOW: beyond ±${formatReal(maxFinite)}, stored as ${formatReal(stored.value)}`;
    case "underflow-to-zero":
      return `UNDERFLOW: below the smallest subnormal ${formatReal(minSubnormal ?? 0)}, stored as ${Object.is(stored.value, -0) ? "-0" : "0"}`;
    case "underflow-to-subnormal":
      return "underflow to a subnormal: fewer significant bits";
    case "nan":
      return infiniteInput ? "no infinity in this format: stored as NaN, as PyTorch casts it" : "NaN";
    default:
      return flag;
  }
}

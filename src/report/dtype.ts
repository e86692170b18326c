import type { DtypeValueReport, FormatConversion, StoredValue } from "../dtype/describe-value.js";
import type { FormatProperties } from "../dtype/properties.js";
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

export function renderFormatTable(rows: FormatProperties[]): string {
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
      scaled(row.maxFinite),
      row.minNormal === null ? "—" : row.kind === "integer" ? "1 (step)" : scaled(row.minNormal),
      row.minSubnormal === null ? "—" : formatReal(row.minSubnormal),
      row.epsilon === null ? "—" : formatReal(row.epsilon),
      row.decimalDigits === null ? "—" : String(row.decimalDigits),
    ];
  });
  const widths = header.map((_, column) => Math.max(header[column]?.length ?? 0, ...lines.map((line) => line[column]?.length ?? 0)));
  const render = (cells: string[]) => cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join("  ");
  const out = [render(header), ...lines.map(render), ""];
  for (const row of rows) out.push(`${row.name.padEnd(widths[0] ?? 0)}  ${row.note}`);
  out.push("", "digits = ⌊mantissa bits × log10 2⌋; epsilon = 2^−mantissa bits, the gap between 1 and the next value.");
  return out.join("\n") + "\n";
}

export function renderValueReport(report: DtypeValueReport): string {
  const out = [`${report.input} (as fp64: ${report.value})`, ""];
  for (const conversion of report.conversions) {
    const origin = conversion.from === "fp64" ? "from the input" : "from its fp32 value";
    out.push(`${conversion.format} (${origin}${conversion.differ ? "; truncation and round-to-nearest-even differ" : ""})`);
    out.push(storedLine("nearest ", conversion.nearest, conversion));
    out.push(conversion.differ ? storedLine("truncate", conversion.truncate, conversion) : "  truncate  same bits");
    out.push("");
  }
  out.push("nearest = round to nearest, ties to even (what frameworks do); truncate = drop the extra mantissa bits.");
  return out.join("\n") + "\n";
}

function storedLine(label: string, stored: StoredValue, conversion: FormatConversion): string {
  const fields = "integer" in stored.fields ? `integer ${stored.fields.integer}` : `stored ${stored.fields.sign} ${stored.fields.exponent} ${stored.fields.mantissa}`;
  const error = stored.relativeError === null ? `error ${formatReal(stored.absoluteError)}` : `error ${formatReal(stored.absoluteError)} (${formatReal(stored.relativeError)} relative)`;
  const decoded = Object.is(stored.value, -0) ? "-0" : String(stored.value);
  const flags = stored.flags.filter((flag) => flag !== "rounded" && flag !== "exact").map((flag) => describeFlag(flag, stored, conversion));
  return `  ${label}  ${stored.bits}   ${fields}   = ${decoded}   ${error}${flags.length ? `   ${flags.join("; ")}` : ""}`;
}

function describeFlag(flag: string, stored: StoredValue, conversion: FormatConversion): string {
  const { maxFinite, minSubnormal } = conversion.limits;
  switch (flag) {
    case "overflow":
      return `OVERFLOW: beyond ±${formatReal(maxFinite)}, stored as ${formatReal(stored.value)}`;
    case "underflow-to-zero":
      return `UNDERFLOW: below the smallest subnormal ${formatReal(minSubnormal ?? 0)}, stored as ${Object.is(stored.value, -0) ? "-0" : "0"}`;
    case "underflow-to-subnormal":
      return "underflow to a subnormal: fewer significant bits";
    case "nan":
      return "NaN";
    default:
      return flag;
  }
}

/** Display-only rounding lives here; every byte count before this point is an exact integer. */

export const GIB = 2 ** 30;
export const GB = 1e9;

/** 15231233024 → "15,231,233,024". Not toLocaleString: loading ICU costs start-up time. */
export function formatInt(value: number): string {
  const sign = value < 0 ? "-" : "";
  return sign + String(Math.abs(value)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

export function formatGiB(bytes: number): string {
  return (bytes / GIB).toFixed(2);
}

export function formatGB(bytes: number): string {
  return (bytes / GB).toFixed(2);
}

/** "15,231,233,024 B (14.19 GiB, 15.23 GB)": both units named, never a bare "GB" for 2^30. */
export function formatBytes(bytes: number): string {
  return `${formatInt(bytes)} B (${formatGiB(bytes)} GiB, ${formatGB(bytes)} GB)`;
}

/** "7.62 billion" — words, because "7.62 B" reads as bytes. */
export function formatCount(value: number): string {
  if (value >= 1e9) return `${(value / 1e9).toFixed(2)} billion`;
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)} million`;
  return formatInt(value);
}

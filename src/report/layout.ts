/**
 * Fitting text views to a width without losing a number: prose wraps between words, a line of
 * " · "-separated facts breaks between facts, and a table too wide for the width first moves its
 * free-text column under each row, then splits into several tables that each repeat the first
 * column. A word or a cell is never cut: an id, a path or a figure stays whole and pasteable.
 */

/** What a view is fitted to when the output is not a terminal. */
export const DEFAULT_WIDTH = 100;
/** Narrower than this, the views stop shrinking and let the terminal fold. */
const MIN_WIDTH = 40;

export interface Layout {
  /** Characters per line; undefined: no limit (the library's default, and JSON-like callers). */
  width?: number | undefined;
  /** Rewords prose before it is measured: the CLI names options as its flags. */
  words?: ((text: string) => string) | undefined;
}

function limitOf(layout: Layout): number {
  return layout.width === undefined ? Number.POSITIVE_INFINITY : Math.max(MIN_WIDTH, layout.width);
}

/** Words of `text` on lines of at most `width`; continuation lines start with `hang` spaces. */
export function wrapText(original: string, layout: Layout, hang = 2): string[] {
  const width = limitOf(layout);
  const text = layout.words ? layout.words(original) : original;
  if (text.length <= width) return [text];
  const indent = /^ */.exec(text)?.[0] ?? "";
  const words = text.slice(indent.length).split(/ +/);
  const lines: string[] = [];
  let line = indent;
  for (const word of words) {
    const candidate = line.trim().length === 0 ? `${line}${word}` : `${line} ${word}`;
    if (candidate.length <= width || line.trim().length === 0) line = candidate;
    else {
      lines.push(line);
      line = `${" ".repeat(indent.length + hang)}${word}`;
    }
  }
  lines.push(line);
  return lines;
}

/** Facts joined by `separator`, broken between facts when the line is too long (and inside one only when it alone is). */
export function wrapParts(parts: readonly string[], layout: Layout, separator = " · ", hang = 2): string[] {
  const width = limitOf(layout);
  const lines: string[] = [];
  let line = "";
  for (const original of parts) {
    const part = layout.words ? layout.words(original) : original;
    const candidate = line === "" ? part : `${line}${separator}${part}`;
    // Room kept for the separator that ends the line if another fact follows.
    if (candidate.length + separator.trimEnd().length <= width || line === "") line = candidate;
    else {
      lines.push(`${line}${separator.trimEnd()}`);
      line = `${" ".repeat(hang)}${part}`;
    }
  }
  if (line !== "") lines.push(line);
  // A single fact longer than the line wraps between its words.
  return lines.flatMap((wrapped) => wrapText(wrapped, { width: layout.width }, hang));
}

export interface Column {
  header: string;
  align: "left" | "right";
  /** Free text (a note, a formula): moved under its row, wrapped, when the table is too wide. */
  prose?: boolean;
}

export interface TableStyle extends Layout {
  indent?: string;
  gap?: string;
}

/** A table fitted to the width; cells are never cut. */
export function renderTable(columns: readonly Column[], given: readonly (readonly string[])[], style: TableStyle = {}): string[] {
  const width = limitOf(style);
  const rows = style.words ? given.map((row) => row.map((cell, column) => (columns[column]?.prose ? (style.words as (text: string) => string)(cell) : cell))) : given;
  const proseStyle: Layout = { width: style.width };
  const indent = style.indent ?? "";
  const gap = style.gap ?? "  ";
  const all = columns.map((_, index) => index);
  const widthOf = (indexes: readonly number[]) =>
    indent.length + indexes.reduce((sum, column) => sum + columnWidth(columns, rows, column), 0) + gap.length * Math.max(0, indexes.length - 1);
  if (widthOf(all) <= width) return grid(columns, rows, all, indent, gap);

  // Free text under each row, the numbers side by side.
  const proseColumns = all.filter((column) => columns[column]?.prose);
  const gridColumns = all.filter((column) => !columns[column]?.prose);
  const under = (row: readonly string[]) =>
    proseColumns.flatMap((column) => (row[column] ? wrapText(`${indent}    ${row[column]}`, proseStyle, 2) : []));
  if (widthOf(gridColumns) <= width) {
    const lines = grid(columns, rows, gridColumns, indent, gap);
    // lines[0] is the header row.
    return [lines[0] as string, ...rows.flatMap((row, index) => [lines[index + 1] as string, ...under(row)])];
  }

  // Still too wide: several tables, each with the first column.
  const groups: number[][] = [];
  let current: number[] = [gridColumns[0] as number];
  for (const column of gridColumns.slice(1)) {
    if (current.length > 1 && widthOf([...current, column]) > width) {
      groups.push(current);
      current = [gridColumns[0] as number];
    }
    current.push(column);
  }
  groups.push(current);
  const lines: string[] = [];
  groups.forEach((group, index) => {
    if (index > 0) lines.push("");
    const block = grid(columns, rows, group, indent, gap);
    if (index < groups.length - 1 || proseColumns.length === 0) lines.push(...block);
    else lines.push(block[0] as string, ...rows.flatMap((row, rowIndex) => [block[rowIndex + 1] as string, ...under(row)]));
  });
  return lines;
}

function columnWidth(columns: readonly Column[], rows: readonly (readonly string[])[], column: number): number {
  return Math.max(columns[column]?.header.length ?? 0, ...rows.map((row) => row[column]?.length ?? 0));
}

function grid(columns: readonly Column[], rows: readonly (readonly string[])[], indexes: readonly number[], indent: string, gap: string): string[] {
  const widths = indexes.map((column) => columnWidth(columns, rows, column));
  const line = (cells: readonly string[]) =>
    `${indent}${indexes
      .map((column, position) => {
        const cell = cells[column] ?? "";
        const cellWidth = widths[position] ?? 0;
        return columns[column]?.align === "right" ? cell.padStart(cellWidth) : cell.padEnd(cellWidth);
      })
      .join(gap)}`.trimEnd();
  return [line(columns.map((column) => column.header)), ...rows.map(line)];
}

/** `note:` and `warning:` lines, continuation lines hanging under the message. */
export function messageLines(notes: readonly string[], warnings: readonly { message: string }[], layout: Layout): string[] {
  return [
    ...notes.flatMap((note) => wrapText(`note: ${note}`, layout, "note: ".length)),
    ...warnings.flatMap((warning) => wrapText(`warning: ${warning.message}`, layout, "warning: ".length)),
  ];
}

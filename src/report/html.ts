/**
 * HTML for the web page, built from the same cells the terminal tables print. Everything that comes
 * from a model, a Hub or a request is escaped here; `Html` marks markup that already is.
 */
export class Html {
  constructor(readonly markup: string) {}
  toString(): string {
    return this.markup;
  }
}

export function escapeHtml(text: string): string {
  return text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&#39;");
}

type Part = Html | string | number | null | undefined | false | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return "";
  if (part instanceof Html) return part.markup;
  if (Array.isArray(part)) return part.map(render).join("");
  return escapeHtml(String(part));
}

/** A template whose substitutions are escaped unless they are `Html`. */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0] ?? "";
  parts.forEach((part, index) => {
    out += render(part) + (strings[index + 1] ?? "");
  });
  return new Html(out);
}

/** Prose in which the library's option names (`kv-dtype`, in backticks) become code. */
export function prose(text: string): Html {
  return new Html(
    text
      .split(/(`[^`]+`)/)
      .map((piece) => (piece.startsWith("`") && piece.endsWith("`") && piece.length > 2 ? `<code>${escapeHtml(piece.slice(1, -1))}</code>` : escapeHtml(piece)))
      .join(""),
  );
}

export interface HtmlColumn {
  header: string;
  numeric?: boolean;
}

/** A table with a caption and column headers; numeric columns align right. The first cell of a row heads it. */
export function htmlTable(caption: string, columns: readonly HtmlColumn[], rows: readonly (readonly (string | Html)[])[], className = ""): Html {
  const cls = (column: HtmlColumn | undefined) => (column?.numeric ? ' class="num"' : "");
  // A wide table scrolls in its own region, which keyboard users can reach and scroll.
  return html`<div class="table-scroll" role="region" tabindex="0" aria-label="${caption}"><table${new Html(className ? ` class="${escapeHtml(className)}"` : "")}>
<caption>${caption}</caption>
<thead><tr>${columns.map((column) => html`<th scope="col"${new Html(cls(column))}>${column.header}</th>`)}</tr></thead>
<tbody>
${rows.map(
  (row) =>
    html`<tr>${row.map((cell, index) =>
      index === 0 ? html`<th scope="row">${cell}</th>` : html`<td${new Html(cls(columns[index]))}>${cell}</td>`,
    )}</tr>\n`,
)}</tbody>
</table></div>`;
}

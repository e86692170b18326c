// Stands in for `string-width` inside the CLI bundle (see bundle-cli.mjs). yargs and cliui use it
// to lay out help text; the real package builds an Intl.Segmenter and RGI_Emoji regular expressions
// when loaded, which cost ~25 ms of every run, help or not. Column widths of help text only need
// code points, East Asian width and zero-width marks.
import { eastAsianWidth } from "get-east-asian-width";

const ANSI_ESCAPE = /[\u001B\u009B][[\]()#;?]*(?:(?:(?:;[-a-zA-Z\d/#&.:=?%@~_]+)*|[a-zA-Z\d]+(?:;[-a-zA-Z\d/#&.:=?%@~_]*)*)?\u0007|(?:\d{1,4}(?:;\d{0,4})*)?[\dA-PR-TZcf-nq-uy=><~])/g;
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cf}\p{Cc}\u200B-\u200D\uFE0E\uFE0F]/u;

export default function stringWidth(text, { ambiguousIsNarrow = true, countAnsiEscapeCodes = false } = {}) {
  if (typeof text !== "string" || text.length === 0) return 0;
  const visible = countAnsiEscapeCodes ? text : text.replace(ANSI_ESCAPE, "");
  let width = 0;
  for (const character of visible) {
    if (ZERO_WIDTH.test(character)) continue;
    width += eastAsianWidth(character.codePointAt(0), { ambiguousAsWide: !ambiguousIsNarrow });
  }
  return width;
}

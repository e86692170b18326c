import { MalformedFileError } from "../errors.js";

/**
 * Where a JSON text goes wrong, as line and column: JSON.parse says what, but on Node 20 not
 * always where. Run only after JSON.parse has failed; a small validator, not a parser.
 */
export interface JsonErrorLocation {
  offset: number;
  line: number;
  column: number;
  problem: string;
}

class Stop extends Error {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {
    super(problem);
  }
}

export function locateJsonError(text: string): JsonErrorLocation | undefined {
  let index = 0;
  const fail = (problem: string): never => {
    throw new Stop(index, index >= text.length ? "unexpected end of file" : problem);
  };
  const describe = () => (index >= text.length ? "end of file" : JSON.stringify(text[index]));
  const skipSpace = () => {
    while (index < text.length && " \t\n\r".includes(text[index] as string)) index++;
  };
  const literal = (word: string) => {
    for (const char of word) {
      if (text[index] !== char) fail(`unexpected ${describe()}`);
      index++;
    }
  };
  const string = () => {
    index++; // the opening quote
    for (;;) {
      if (index >= text.length) fail("unterminated string");
      const char = text[index] as string;
      if (char === '"') {
        index++;
        return;
      }
      if (char < " ") fail("a control character inside a string (write \\n for a new line)");
      if (char === "\\") {
        index++;
        const escape = text[index];
        if (escape === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(index + 1, index + 5))) fail("\\u needs four hex digits");
          index += 5;
          continue;
        }
        if (escape === undefined || !'"\\/bfnrt'.includes(escape)) fail(`invalid escape \\${escape ?? ""}`);
      }
      index++;
    }
  };
  const number = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(index));
    if (!match || match[0] === "-") fail(`unexpected ${describe()}`);
    index += (match as RegExpExecArray)[0].length;
  };
  const value = (): void => {
    skipSpace();
    const char = text[index];
    if (char === "{") {
      index++;
      skipSpace();
      if (text[index] === "}") {
        index++;
        return;
      }
      for (;;) {
        skipSpace();
        if (text[index] !== '"') fail(`expected a "quoted" property name, found ${describe()}`);
        string();
        skipSpace();
        if (text[index] !== ":") fail(`expected ':' after the property name, found ${describe()}`);
        index++;
        value();
        skipSpace();
        if (text[index] === ",") {
          index++;
          continue;
        }
        if (text[index] === "}") {
          index++;
          return;
        }
        fail(`expected ',' or '}' after a property value, found ${describe()}`);
      }
    }
    if (char === "[") {
      index++;
      skipSpace();
      if (text[index] === "]") {
        index++;
        return;
      }
      for (;;) {
        value();
        skipSpace();
        if (text[index] === ",") {
          index++;
          continue;
        }
        if (text[index] === "]") {
          index++;
          return;
        }
        fail(`expected ',' or ']' after an array element, found ${describe()}`);
      }
    }
    if (char === '"') return string();
    if (char === "t") return literal("true");
    if (char === "f") return literal("false");
    if (char === "n") return literal("null");
    if (char === "-" || (char !== undefined && char >= "0" && char <= "9")) return number();
    fail(`unexpected ${describe()}`);
  };

  try {
    value();
    skipSpace();
    if (index < text.length) fail(`unexpected ${describe()} after the end of the JSON value`);
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    return { offset: error.offset, ...lineAndColumn(text, error.offset), problem: error.problem };
  }
}

/** 1-based line and column of a string offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/**
 * JSON.parse for a file a person may have to fix: a failure is a MalformedFileError naming the
 * file, the line and column and what is wrong there, then `advice` if given.
 */
/**
 * How deep a JSON file may nest. Configs, tokenizers and conversations nest a handful of levels;
 * thousands would overflow the stack of whatever walks the value afterwards (huggingface.js
 * bounds safetensors indexes at 64 for the same reason).
 */
export const MAX_JSON_DEPTH = 100;

/** The deepest nesting of `text`, stopping once past `limit`: one pass, strings skipped. */
function nestingDepth(text: string, limit: number): number {
  let depth = 0;
  let deepest = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 0x22) {
      // A string: skip to its closing quote, past escaped characters.
      for (index++; index < text.length && text.charCodeAt(index) !== 0x22; index++) if (text.charCodeAt(index) === 0x5c) index++;
    } else if (code === 0x5b || code === 0x7b) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (code === 0x5d || code === 0x7d) depth--;
  }
  return deepest;
}

export function parseJsonFile(text: string, file: string, advice?: string): unknown {
  if (nestingDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new MalformedFileError(file, `nests more than ${MAX_JSON_DEPTH} levels deep: not a file vramplan reads${advice ? `: ${advice}` : ""}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    const where = locateJsonError(text);
    const detail = where ? `line ${where.line}, column ${where.column}: ${where.problem}` : (error as Error).message;
    throw new MalformedFileError(file, `not valid JSON (${detail})${advice ? `: ${advice}` : ""}`);
  }
}

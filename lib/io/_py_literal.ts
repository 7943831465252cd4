/**
 * A parser for the small subset of Python literals found in `.npy` headers:
 * dicts with string keys, tuples, lists, strings, integers, True/False/None.
 * Private to `lib/io/`; throws SyntaxError, which callers turn into
 * FormatError.
 *
 * @module
 */

/** A parsed literal: dicts become Maps, tuples and lists arrays. */
export type PyValue = string | number | boolean | null | PyValue[] | Map<string, PyValue>;

const MAX_DEPTH = 8;

/** Parses `text` as one Python literal (surrounding whitespace allowed). */
export function parsePyLiteral(text: string): PyValue {
  let pos = 0;

  const fail = (what: string): never => {
    throw new SyntaxError(`${what} at character ${pos} of ${JSON.stringify(text.slice(0, 80))}`);
  };
  const skipSpace = () => {
    while (pos < text.length && " \t\r\n".includes(text[pos])) pos++;
  };
  const expectChar = (c: string) => {
    skipSpace();
    if (text[pos] !== c) fail(`expected "${c}"`);
    pos++;
  };

  function parseSequence(close: string, depth: number): PyValue[] {
    const items: PyValue[] = [];
    skipSpace();
    while (text[pos] !== close) {
      items.push(parseValue(depth + 1));
      skipSpace();
      if (text[pos] === ",") {
        pos++;
        skipSpace();
      } else if (text[pos] !== close) {
        fail(`expected "," or "${close}"`);
      }
    }
    pos++;
    return items;
  }

  function parseDict(depth: number): Map<string, PyValue> {
    const out = new Map<string, PyValue>();
    skipSpace();
    while (text[pos] !== "}") {
      const key = parseValue(depth + 1);
      if (typeof key !== "string") fail("dict key is not a string");
      if (out.has(key as string)) fail(`duplicate key ${JSON.stringify(key)}`);
      expectChar(":");
      out.set(key as string, parseValue(depth + 1));
      skipSpace();
      if (text[pos] === ",") {
        pos++;
        skipSpace();
      } else if (text[pos] !== "}") {
        fail('expected "," or "}"');
      }
    }
    pos++;
    return out;
  }

  function parseValue(depth: number): PyValue {
    if (depth > MAX_DEPTH) fail("literal nested too deeply");
    skipSpace();
    const c = text[pos];
    if (c === undefined) return fail("unexpected end");
    if (c === "{") {
      pos++;
      return parseDict(depth);
    }
    if (c === "(") {
      pos++;
      return parseSequence(")", depth);
    }
    if (c === "[") {
      pos++;
      return parseSequence("]", depth);
    }
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, pos + 1);
      if (end < 0) fail("unterminated string");
      const value = text.slice(pos + 1, end);
      if (value.includes("\\") || value.includes("\n")) fail("unsupported string escape");
      pos = end + 1;
      return value;
    }
    const word = /^(True|False|None|-?\d+)L?/.exec(text.slice(pos, pos + 32));
    if (!word) return fail("unexpected character");
    pos += word[0].length;
    if (word[1] === "True") return true;
    if (word[1] === "False") return false;
    if (word[1] === "None") return null;
    const n = Number(word[1]);
    if (!Number.isSafeInteger(n)) fail(`integer ${word[1]} is too large`);
    return n;
  }

  const value = parseValue(0);
  skipSpace();
  if (pos !== text.length) fail("trailing characters");
  return value;
}

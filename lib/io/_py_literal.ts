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

/**
 * Parses `text` as one Python literal (surrounding whitespace allowed).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePyLiteral } from "./_py_literal.ts";
 * const dict = parsePyLiteral("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");
 * assert.ok(dict instanceof Map);
 * assert.deepEqual(dict.get("shape"), [2, 3]);
 * assert.throws(() => parsePyLiteral("{'a': 1"), SyntaxError);
 * ```
 */
export function parsePyLiteral(text: string): PyValue {
  return new PyLiteralParser(text).parseWhole();
}

/** A recursive-descent parser over `text`, one character position at a time. */
class PyLiteralParser {
  readonly #text: string;
  #pos = 0;

  constructor(text: string) {
    this.#text = text;
  }

  /** The one literal of the text, with nothing but whitespace after it. */
  parseWhole(): PyValue {
    const value = this.#value(0);
    this.#skipSpace();
    if (this.#pos !== this.#text.length) this.#fail("trailing characters");
    return value;
  }

  #fail(what: string): never {
    const text = this.#text;
    throw new SyntaxError(
      `${what} at character ${this.#pos} of ${JSON.stringify(text.slice(0, 80))}`,
    );
  }

  #skipSpace(): void {
    while (this.#pos < this.#text.length && " \t\r\n".includes(this.#text[this.#pos])) this.#pos++;
  }

  #expectChar(c: string): void {
    this.#skipSpace();
    if (this.#text[this.#pos] !== c) this.#fail(`expected "${c}"`);
    this.#pos++;
  }

  /** After an item of a sequence or dict: skips a comma, or checks that `close` comes next. */
  #afterItem(close: string): void {
    this.#skipSpace();
    if (this.#text[this.#pos] === ",") {
      this.#pos++;
      this.#skipSpace();
    } else if (this.#text[this.#pos] !== close) {
      this.#fail(`expected "," or "${close}"`);
    }
  }

  /** Items up to `close` (the opening bracket already read). */
  #sequence(close: string, depth: number): PyValue[] {
    const items: PyValue[] = [];
    this.#skipSpace();
    while (this.#text[this.#pos] !== close) {
      items.push(this.#value(depth + 1));
      this.#afterItem(close);
    }
    this.#pos++;
    return items;
  }

  /** `key: value` pairs up to `}` (the `{` already read). */
  #dict(depth: number): Map<string, PyValue> {
    const out = new Map<string, PyValue>();
    this.#skipSpace();
    while (this.#text[this.#pos] !== "}") {
      const key = this.#value(depth + 1);
      if (typeof key !== "string") this.#fail("dict key is not a string");
      if (out.has(key as string)) this.#fail(`duplicate key ${JSON.stringify(key)}`);
      this.#expectChar(":");
      out.set(key as string, this.#value(depth + 1));
      this.#afterItem("}");
    }
    this.#pos++;
    return out;
  }

  /** A quoted string without escapes (the quote at the current position). */
  #string(quote: string): string {
    const end = this.#text.indexOf(quote, this.#pos + 1);
    if (end < 0) this.#fail("unterminated string");
    const value = this.#text.slice(this.#pos + 1, end);
    if (value.includes("\\") || value.includes("\n")) this.#fail("unsupported string escape");
    this.#pos = end + 1;
    return value;
  }

  /** `True`, `False`, `None` or an integer (with an optional Python 2 `L`). */
  #word(): boolean | null | number {
    const word = /^(True|False|None|-?\d+)L?/.exec(this.#text.slice(this.#pos, this.#pos + 32));
    if (!word) return this.#fail("unexpected character");
    this.#pos += word[0].length;
    if (word[1] === "True") return true;
    if (word[1] === "False") return false;
    if (word[1] === "None") return null;
    const n = Number(word[1]);
    if (!Number.isSafeInteger(n)) this.#fail(`integer ${word[1]} is too large`);
    return n;
  }

  #value(depth: number): PyValue {
    if (depth > MAX_DEPTH) this.#fail("literal nested too deeply");
    this.#skipSpace();
    const c = this.#text[this.#pos];
    if (c === undefined) return this.#fail("unexpected end");
    if (c === "{" || c === "(" || c === "[") {
      this.#pos++;
      return c === "{" ? this.#dict(depth) : this.#sequence(c === "(" ? ")" : "]", depth);
    }
    if (c === "'" || c === '"') return this.#string(c);
    return this.#word();
  }
}

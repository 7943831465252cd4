/**
 * Makes text safe to echo to a terminal: clip ids and paths come from files
 * and may hold ESC (colour and cursor sequences), CR (overwrite the line), LF
 * (forge another line) or other control characters.
 *
 * @module
 */

const NAMED: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e" };

/**
 * `text` with every C0 and C1 control character, DEL, and the Unicode
 * line/paragraph separators and bidirectional overrides written as visible
 * escapes (`\e`, `\r`, `\n`, `\t`, `\xNN`, `\u{NNNN}`), so what is printed is
 * one line that cannot move the cursor or recolour the terminal. A backslash
 * is left as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { escapeForTerminal } from "./_escape.ts";
 * assert.equal(escapeForTerminal("clip\x1b[2J\r\nfake"), "clip\\e[2J\\r\\nfake");
 * assert.equal(escapeForTerminal("a\x00b\x9bc\u202ed"), "a\\x00b\\x9bc\\u{202e}d");
 * assert.equal(escapeForTerminal("plain/path ünïcode.wav"), "plain/path ünïcode.wav");
 * ```
 */
export function escapeForTerminal(text: string): string {
  return String(text).replace(
    // deno-lint-ignore no-control-regex -- matching control characters is the point
    /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g,
    (c) => {
      const named = NAMED[c];
      if (named) return named;
      const code = c.charCodeAt(0);
      return code <= 0xff
        ? `\\x${code.toString(16).padStart(2, "0")}`
        : `\\u{${code.toString(16)}}`;
    },
  );
}

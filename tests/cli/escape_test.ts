import assert from "node:assert/strict";
import { escapeForTerminal } from "../../cli/_escape.ts";
import { describeError } from "../../cli/cli_error.ts";
import { FormatError } from "../../lib/util/errors.ts";

Deno.test("escapeForTerminal() writes every C0/C1 control character visibly and keeps printable text", () => {
  for (let c = 0; c < 0xa0; c++) {
    const ch = String.fromCharCode(c);
    const control = c < 0x20 || (c >= 0x7f && c <= 0x9f);
    const out = escapeForTerminal(`a${ch}b`);
    if (control) {
      assert.ok(!out.includes(ch), `U+${c.toString(16)} left raw`);
      assert.ok(/^a\\(e|r|n|t|x[0-9a-f]{2})b$/.test(out), out);
    } else {
      assert.equal(out, `a${ch}b`);
    }
  }
  assert.equal(escapeForTerminal("\x1b]0;title\x07"), "\\e]0;title\\x07");
  assert.equal(escapeForTerminal("x\u2028y"), "x\\u{2028}y");
});

Deno.test("describeError() prints one escaped line for a clip id or path with ESC, CR and LF", () => {
  const path = "/data/evil\x1b[2J\r\nvatt: done.wav";
  const e = new FormatError("not a readable WAV file: no RIFF/WAVE header", { path });
  const { message, exitCode } = describeError(e);
  assert.equal(exitCode, 1);
  assert.equal(
    message,
    "/data/evil\\e[2J\\r\\nvatt: done.wav: not a readable WAV file: no RIFF/WAVE header",
  );
  // deno-lint-ignore no-control-regex -- matching control characters is the point
  assert.ok(!/[\x00-\x1f\x7f-\x9f]/.test(message));
  const r = describeError(new RangeError(`unknown clip id "a\x1b[31mred\r"`));
  assert.equal(r.message, 'unknown clip id "a\\e[31mred\\r"');
  assert.equal(r.exitCode, 2);
});

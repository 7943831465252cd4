/**
 * The fuzz suite at its CI share: every reader, fed generated and mutated
 * inputs, ends each one in a correct result or a clean typed error, without
 * hanging or allocating from an untrusted size; and the harness itself
 * catches every kind of broken reader.
 *
 * @module
 */
import assert from "node:assert/strict";
import { FormatError, MismatchError } from "../../lib/util/errors.ts";
import { classifyError } from "./_classify.ts";
import { formatFuzzReport } from "./_fuzz.ts";
import { runFuzzInSubprocess } from "./_fuzz_main.ts";
import { applyBytePlan, applyJsonPlan, bytePlan, draw, jsonPlan } from "./_mutate.ts";

Deno.test("classifyError() counts vatt's typed errors as clean and engine errors as crashes", () => {
  assert.ok(classifyError(new FormatError("header length 9 exceeds the file")).clean);
  assert.ok(classifyError(new MismatchError("tensor video has shape [1], expected [2]")).clean);
  assert.ok(classifyError(new RangeError("clip 9 is outside 0..7")).clean);
  assert.ok(!classifyError(new TypeError("Cannot read properties of null (reading 'row')")).clean);
  assert.ok(!classifyError(new RangeError("Invalid typed array length: 4294967296")).clean);
  assert.ok(!classifyError(new RangeError("Offset is outside the bounds of the DataView")).clean);
  assert.ok(!classifyError(new SyntaxError("Unexpected token")).clean);
  assert.ok(!classifyError("a thrown string").clean);
});

Deno.test("byte and JSON mutation plans are reproducible from their seed", () => {
  const bytes = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);
  const a = draw(bytePlan, 5, 20).map((p) => applyBytePlan(bytes, p, 64));
  const b = draw(bytePlan, 5, 20).map((p) => applyBytePlan(bytes, p, 64));
  assert.deepEqual(a, b);
  assert.ok(a.some((m) => m.length !== bytes.length || m.some((x, i) => x !== bytes[i])));
  const doc = { a: [1, 2, { b: "c" }], d: { e: 5 } };
  const j1 = draw(jsonPlan, 9, 10).map((p) => applyJsonPlan(doc, p));
  assert.deepEqual(j1, draw(jsonPlan, 9, 10).map((p) => applyJsonPlan(doc, p)));
  assert.ok(j1.some((t) => t !== JSON.stringify(doc)));
  assert.deepEqual(doc, { a: [1, 2, { b: "c" }], d: { e: 5 } }); // the original is untouched
});

Deno.test("the fuzz harness reports engine errors, untrusted allocations (even hidden), wrong results, hangs, unhandled rejections and dead processes", async () => {
  const report = await runFuzzInSubprocess({ level: "ci", targets: ["selftest"] });
  const t = report.targets[0];
  assert.deepEqual(
    t.failures.map((f) => `${f.index}:${f.outcome}`).sort(),
    ["10:crash", "2:crash", "3:crash", "4:crash", "5:crash", "6:hang", "7:crash", "9:crash"],
    formatFuzzReport(report),
  );
  assert.match(
    t.failures.find((f) => f.index === 4)!.label,
    /UntrustedAllocationError.*then: FormatError/,
  );
  assert.match(t.failures.find((f) => f.index === 7)!.label, /unhandled rejection/);
  assert.match(t.failures.find((f) => f.index === 10)!.label, /worker died/);
  // 0, 7 (before its rejection surfaced), 8 and 11, each after the process was replaced
  assert.equal(t.ok, 4);
  assert.equal(t.clean, 1);
});

Deno.test("every reader ends each fuzzed input in a correct result or a clean typed error (CI share)", async () => {
  const report = await runFuzzInSubprocess({ level: "ci", seed: 1 });
  const text = formatFuzzReport(report);
  assert.equal(report.crashed, 0, text);
  assert.ok(report.tried >= 600, text);
  for (const t of report.targets) {
    assert.ok(t.ok >= 1, `${t.name}: not even the valid seed files were read\n${text}`);
    assert.ok(t.clean >= 1, `${t.name}: no input was rejected, the mutations do nothing\n${text}`);
  }
});

import assert from "node:assert/strict";
import fc from "fast-check";
import { safeFileName } from "../../../../lib/data/manifest/safe_file_name.ts";

const enc = new TextEncoder();

Deno.test("safeFileName() keeps safe ids and sanitises the rest with a hash suffix", async (t) => {
  await t.step("safe ids are unchanged", () => {
    for (const id of ["clip_001", "a-b.c", "Vidéo東京", "x".repeat(120)]) {
      assert.equal(safeFileName(id), id);
    }
  });
  await t.step("dangerous characters are removed", () => {
    for (
      const id of [
        "../etc/passwd",
        "a/b",
        "..",
        ".",
        ".hidden",
        "a\0b",
        "tab\there",
        "line\nbreak",
        "C:\\x",
        "con",
        "LPT1.txt",
        "end.",
        "",
        "a..b",
      ]
    ) {
      const name = safeFileName(id);
      assert.match(name, /^[\p{L}\p{N}_.-]+$/u, JSON.stringify(id));
      assert.ok(!name.includes(".."), name);
      assert.ok(!name.startsWith("."), name);
      assert.ok(!name.endsWith("."), name);
      assert.match(name, /-[0-9a-f]{10}$/, name);
      assert.ok(!/^(con|lpt1)(\.|$)/i.test(name), name);
    }
  });
  await t.step("sanitised ids do not collide with each other or with safe ids", () => {
    const ids = ["a/b", "a:b", "a_b", "a?b", "a b"];
    assert.equal(new Set(ids.map((id) => safeFileName(id))).size, ids.length);
    assert.equal(safeFileName("a_b"), "a_b");
    assert.equal(safeFileName("a/b"), safeFileName("a/b"));
  });
  await t.step("long ids are cut to maxBytes, whole characters, distinct by hash", () => {
    const long1 = "東".repeat(200) + "1";
    const long2 = "東".repeat(200) + "2";
    const n1 = safeFileName(long1);
    const n2 = safeFileName(long2, { maxBytes: 120 });
    assert.ok(enc.encode(n1).length <= 120);
    assert.notEqual(n1, n2);
    assert.ok(enc.encode(safeFileName("x".repeat(500), { maxBytes: 40 })).length <= 40);
    assert.throws(() => safeFileName("a", { maxBytes: 4 }), RangeError);
    assert.throws(() => safeFileName(3 as unknown as string), TypeError);
  });
  await t.step("any id gives a safe name; distinct ids give distinct names", () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ unit: "grapheme", maxLength: 40 }), { maxLength: 30 }),
        (ids) => {
          const names = ids.map((id) => safeFileName(id, { maxBytes: 32 }));
          for (const name of names) {
            assert.match(name, /^[\p{L}\p{N}_.-]+$/u);
            assert.ok(!name.includes("..") && !name.startsWith("."));
            assert.ok(enc.encode(name).length <= 32);
          }
          assert.equal(new Set(names).size, names.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

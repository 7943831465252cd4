import assert from "node:assert/strict";
import { hashString, Rng } from "../../../lib/util/rng.ts";

// Pinned values: every seeded shuffle, DropToken mask and initialiser in the
// project flows from these streams, so a change here changes every run.
Deno.test("Rng draws the pinned stream for seed 42", () => {
  const rng = new Rng(42);
  assert.deepEqual([rng.nextUint32(), rng.nextUint32()], [2837322924, 544945897]);
  assert.equal(rng.nextFloat(), 0.11170196393504739);
  assert.equal(rng.nextInt(10), 8);
  assert.equal(rng.normal(), 2.221739259712483);
});

Deno.test("Rng.shuffle() and Rng.sample() are pinned by the seed", () => {
  assert.deepEqual(new Rng(1).shuffle([0, 1, 2, 3, 4, 5, 6, 7]), [3, 0, 7, 1, 2, 6, 5, 4]);
  assert.deepEqual(new Rng(2).sample(10, 4), [2, 4, 7, 9]);
});

Deno.test("hashString(), Rng.fork() and Rng.forLabel() depend on the label only", () => {
  assert.equal(hashString("video/patch/kernel"), 1472790911);
  assert.equal(new Rng(3).fork("a").nextUint32(), 1096030961);
  assert.equal(Rng.forLabel(3, "a").nextUint32(), 676761530);
  assert.notEqual(Rng.forLabel(3, "b").nextUint32(), 676761530);
});

Deno.test("Rng.fromState() resumes the stream where state() left it", () => {
  const rng = new Rng(7);
  rng.nextUint32();
  const saved = rng.state();
  const next = rng.nextUint32();
  assert.equal(Rng.fromState(saved).nextUint32(), next);
});

Deno.test("Rng.fillUint32() gives the pinned stream and the same draws and state as nextUint32()", () => {
  const pinned = new Uint32Array(2);
  new Rng(42).fillUint32(pinned);
  assert.deepEqual([...pinned], [2837322924, 544945897]);
  for (const seed of [0, 1, 42, 0xffffffff, 123456789]) {
    const a = new Rng(seed);
    const b = new Rng(seed);
    const bulk = new Uint32Array(10_000);
    a.fillUint32(bulk);
    for (let i = 0; i < bulk.length; i++) {
      assert.equal(bulk[i], b.nextUint32(), `seed ${seed}, draw ${i}`);
    }
    assert.deepEqual(a.state(), b.state());
  }
});

Deno.test("Rng.advance(n) lands where n draws land, for small, odd and large n", () => {
  for (const n of [0, 1, 7, 255, 256, 257, 4097, 1_000_003, 9_999_991]) {
    const drawn = new Rng(n + 11);
    const jumped = new Rng(n + 11);
    if (n > 0) drawn.fillUint32(new Uint32Array(n));
    jumped.advance(n);
    assert.deepEqual(jumped.state(), drawn.state(), `n = ${n}`);
  }
});

Deno.test("Rng.advance() composes: 2^52 draws are two jumps of 2^51, and a jump then draws", () => {
  const once = new Rng(5);
  const twice = new Rng(5);
  once.advance(2 ** 52);
  twice.advance(2 ** 51);
  twice.advance(2 ** 51);
  assert.deepEqual(once.state(), twice.state());
  assert.notDeepEqual(once.state(), new Rng(5).state());
  const a = new Rng(6);
  const b = new Rng(6);
  a.advance(2 ** 40 + 300);
  b.advance(2 ** 40);
  b.fillUint32(new Uint32Array(300));
  assert.deepEqual(a.state(), b.state());
});

Deno.test("Rng.advance() refuses a negative or fractional count", () => {
  assert.throws(() => new Rng(1).advance(-1), /Cannot jump/);
  assert.throws(() => new Rng(1).advance(1.5), /Cannot jump/);
});

/**
 * Jumping a xoshiro128** state `n` draws ahead in O(log n): its state update
 * is linear over GF(2), a 128 × 128 bit matrix `T`, so `n` updates are
 * `T^n`, the product of the powers `T^(2^k)` of the set bits of `n`
 * (computed once, by squaring, when first needed).
 *
 * @module
 */

/** A 128 × 128 bit matrix: column `i` (the image of state bit `i`) is words `4i … 4i+3`. */
type BitMatrix = Uint32Array;

/** One xoshiro128** state update, in place (the output is not needed here). */
export function stepState(s: Uint32Array): void {
  const t = (s[1] << 9) >>> 0;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = ((s[3] << 11) | (s[3] >>> 21)) >>> 0;
}

/** `out = m · s`: the XOR of the columns of `m` whose bit in `s` is set. */
function multiply(m: BitMatrix, s: Uint32Array, at: number, out: Uint32Array, outAt: number): void {
  let a = 0, b = 0, c = 0, d = 0;
  for (let i = 0; i < 128; i++) {
    if ((s[at + (i >>> 5)] >>> (i & 31)) & 1) {
      a ^= m[4 * i];
      b ^= m[4 * i + 1];
      c ^= m[4 * i + 2];
      d ^= m[4 * i + 3];
    }
  }
  out[outAt] = a;
  out[outAt + 1] = b;
  out[outAt + 2] = c;
  out[outAt + 3] = d;
}

/** `T^(2^k)` for k = 0, 1, …: the update matrix and its repeated squares. */
const powers: BitMatrix[] = [];

function powerOfTwo(k: number): BitMatrix {
  if (powers.length === 0) {
    const t = new Uint32Array(512);
    for (let i = 0; i < 128; i++) {
      const s = new Uint32Array(4);
      s[i >>> 5] = 1 << (i & 31);
      stepState(s);
      t.set(s, 4 * i);
    }
    powers.push(t);
  }
  while (powers.length <= k) {
    const m = powers[powers.length - 1];
    const square = new Uint32Array(512);
    for (let i = 0; i < 128; i++) multiply(m, m, 4 * i, square, 4 * i); // column i of m·m
    powers.push(square);
  }
  return powers[k];
}

/**
 * Moves the state `s` (four words) `n` updates ahead, as `n` draws would.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { jumpState, stepState } from "./_rng_jump.ts";
 * const a = new Uint32Array([1, 2, 3, 4]);
 * const b = a.slice();
 * for (let i = 0; i < 1000; i++) stepState(a);
 * jumpState(b, 1000);
 * assert.deepEqual([...b], [...a]);
 * ```
 */
export function jumpState(s: Uint32Array, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new RangeError(`Cannot jump a generator ${n} draws ahead`);
  }
  if (n < 256) {
    for (let i = 0; i < n; i++) stepState(s);
    return;
  }
  const next = new Uint32Array(4);
  for (let k = 0, rest = n; rest > 0; k++, rest = Math.floor(rest / 2)) {
    if (rest % 2 === 1) {
      multiply(powerOfTwo(k), s, 0, next, 0);
      s.set(next);
    }
  }
}

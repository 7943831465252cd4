/**
 * A small seeded pseudo-random generator (xoshiro128**) whose whole state is
 * four 32-bit words, so it can be saved in a checkpoint and restored exactly.
 *
 * One seed per run feeds every random choice (shuffling, DropToken,
 * initialisers) through `fork`, so two runs with the same seed are identical.
 *
 * @module
 */
/** The serialisable state of an {@linkcode Rng}: four unsigned 32-bit words. */
export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * FNV-1a hash of a string to an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hashString } from "./rng.ts";
 * assert.equal(hashString("a"), hashString("a"));
 * assert.notEqual(hashString("a"), hashString("b"));
 * ```
 */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * Seeded generator with exact, restorable state.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Rng } from "./rng.ts";
 * const a = new Rng(42);
 * const b = new Rng(42);
 * assert.equal(a.nextFloat(), b.nextFloat());
 * const saved = a.state();
 * const x = a.nextInt(10);
 * assert.equal(Rng.fromState(saved).nextInt(10), x);
 * ```
 */
export class Rng {
  #s: Uint32Array;

  /** Creates a generator from an integer seed. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new TypeError(`Cannot seed a generator with ${seed}`);
    const next = splitmix32(Math.floor(seed));
    this.#s = new Uint32Array([next(), next(), next(), next()]);
    if (this.#s.every((v) => v === 0)) this.#s[0] = 1;
  }

  /** Restores a generator from {@linkcode Rng.state}. */
  static fromState(state: RngState): Rng {
    const r = new Rng(0);
    r.#s = new Uint32Array(state);
    return r;
  }

  /** The current state, for checkpoints. */
  state(): RngState {
    return [this.#s[0], this.#s[1], this.#s[2], this.#s[3]];
  }

  /**
   * A generator that depends only on `seed` and `label`, not on any other draw:
   * adding a new weight or consumer never changes the others' numbers.
   */
  static forLabel(seed: number, label: string): Rng {
    return new Rng((Math.floor(seed) ^ hashString(label)) >>> 0);
  }

  /** A new independent generator derived from this one's seed path and a label. */
  fork(label: string): Rng {
    return new Rng((this.nextUint32() ^ hashString(label)) >>> 0);
  }

  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number {
    const s = this.#s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /**
   * Sets the state to `state` (as {@linkcode Rng.state} returned it), in
   * place: whoever holds this generator draws on from there.
   *
   * @example
   * ```ts
   * import assert from "node:assert/strict";
   * import { Rng } from "./rng.ts";
   * const a = new Rng(1);
   * const b = new Rng(2);
   * b.restore(a.state());
   * assert.equal(b.nextUint32(), a.nextUint32());
   * ```
   */
  restore(state: RngState): void {
    this.#s.set(state);
  }

  /** Uniform float in [0, 1). */
  nextFloat(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`Cannot draw an integer below ${n}`);
    return Math.floor(this.nextFloat() * n);
  }

  /** Standard normal sample (Box–Muller). */
  normal(): number {
    let u = this.nextFloat();
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** `count` distinct indices from [0, n), in increasing order. */
  sample(n: number, count: number): number[] {
    if (count > n || count < 0) throw new RangeError(`Cannot sample ${count} of ${n}`);
    const idx = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + this.nextInt(n - i);
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    return idx.slice(0, count).sort((a, b) => a - b);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

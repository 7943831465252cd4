/**
 * Byte-level and JSON-level mutation of valid files, driven by fast-check
 * arbitraries so every case is reproducible from a seed and its index.
 *
 * A byte plan is a list of 1–4 operations (flip a bit, set a byte, write an
 * interesting 16/32/64-bit little-endian integer, truncate, delete, insert,
 * duplicate or zero a range). Positions are either anywhere in the file or,
 * half of the time, inside its "hot" prefix (the header, where lengths and
 * offsets live), so a 1 MiB checkpoint is not fuzzed only in its weights.
 *
 * @module
 */
import fc from "fast-check";

/** One byte-level edit; positions are fractions of the (hot) length. */
export type ByteOp =
  | { op: "flip"; at: number; hot: boolean; bit: number }
  | { op: "set"; at: number; hot: boolean; value: number }
  | { op: "int"; at: number; hot: boolean; width: 2 | 4 | 8; value: bigint }
  | { op: "truncate"; at: number; hot: boolean }
  | { op: "delete"; at: number; hot: boolean; length: number }
  | { op: "insert"; at: number; hot: boolean; bytes: Uint8Array }
  | { op: "duplicate"; at: number; hot: boolean; length: number }
  | { op: "zero"; at: number; hot: boolean; length: number };

/** Integers that break length and offset arithmetic. */
export const INTERESTING_INTS: bigint[] = [
  0n,
  1n,
  2n,
  7n,
  8n,
  0x7fn,
  0x80n,
  0xffn,
  0x100n,
  0x7fffn,
  0xffffn,
  0x10000n,
  0x7fffffffn,
  0x80000000n,
  0xffffffffn,
  0x100000000n,
  2n ** 53n - 1n,
  2n ** 53n,
  2n ** 63n,
  2n ** 64n - 1n,
];

/**
 * A position anywhere in [0, 1), without fast-check's bias towards the ends
 * (which would make most truncations empty files).
 */
export const fraction: fc.Arbitrary<number> = fc.noBias(fc.integer({ min: 0, max: 2 ** 30 - 1 }))
  .map((n) => n / 2 ** 30);

const position = fc.record({ at: fraction, hot: fc.boolean() });

/** An arbitrary byte edit: mostly in-place edits, sometimes a change of length. */
export const byteOp: fc.Arbitrary<ByteOp> = fc.oneof(
  {
    weight: 3,
    arbitrary: position.chain((p) =>
      fc.integer({ min: 0, max: 7 }).map((bit) => ({ op: "flip" as const, ...p, bit }))
    ),
  },
  {
    weight: 3,
    arbitrary: position.chain((p) =>
      fc.oneof(fc.integer({ min: 0, max: 255 }), fc.constantFrom(0, 0x20, 0x22, 0x5b, 0x7b, 0xff))
        .map((value) => ({ op: "set" as const, ...p, value }))
    ),
  },
  {
    weight: 3,
    arbitrary: position.chain((p) =>
      fc.record({
        width: fc.constantFrom(2 as const, 4 as const, 8 as const),
        value: fc.constantFrom(...INTERESTING_INTS),
      }).map((r) => ({ op: "int" as const, ...p, ...r }))
    ),
  },
  { weight: 1, arbitrary: position.map((p) => ({ op: "truncate" as const, ...p })) },
  {
    weight: 1,
    arbitrary: position.chain((p) =>
      fc.integer({ min: 1, max: 64 }).map((length) => ({ op: "delete" as const, ...p, length }))
    ),
  },
  {
    weight: 1,
    arbitrary: position.chain((p) =>
      fc.uint8Array({ minLength: 1, maxLength: 32 }).map((bytes) => ({
        op: "insert" as const,
        ...p,
        bytes,
      }))
    ),
  },
  {
    weight: 1,
    arbitrary: position.chain((p) =>
      fc.integer({ min: 1, max: 256 }).map((length) => ({ op: "duplicate" as const, ...p, length }))
    ),
  },
  {
    weight: 1,
    arbitrary: position.chain((p) =>
      fc.integer({ min: 1, max: 512 }).map((length) => ({ op: "zero" as const, ...p, length }))
    ),
  },
);

/** A plan of 1–4 edits. */
export const bytePlan: fc.Arbitrary<ByteOp[]> = fc.array(byteOp, { minLength: 1, maxLength: 4 });

/** Applies `plan` to a copy of `bytes`; `hot` is the length of the header-like prefix. */
export function applyBytePlan(bytes: Uint8Array, plan: ByteOp[], hot = bytes.length): Uint8Array {
  let out: Uint8Array = bytes.slice();
  for (const edit of plan) {
    const span = edit.hot ? Math.min(hot, out.length) : out.length;
    const at = Math.floor(edit.at * Math.max(span, 1));
    switch (edit.op) {
      case "flip":
        if (at < out.length) out[at] ^= 1 << edit.bit;
        break;
      case "set":
        if (at < out.length) out[at] = edit.value;
        break;
      case "int": {
        let v = edit.value & ((1n << BigInt(edit.width * 8)) - 1n);
        for (let i = 0; i < edit.width && at + i < out.length; i++) {
          out[at + i] = Number(v & 0xffn);
          v >>= 8n;
        }
        break;
      }
      case "truncate":
        out = out.slice(0, at);
        break;
      case "delete":
        out = concat(out.subarray(0, at), out.subarray(Math.min(out.length, at + edit.length)));
        break;
      case "insert":
        out = concat(out.subarray(0, at), edit.bytes, out.subarray(at));
        break;
      case "duplicate":
        out = concat(out.subarray(0, at + edit.length), out.subarray(at));
        break;
      case "zero":
        out.fill(0, at, Math.min(out.length, at + edit.length));
        break;
    }
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Values that break validation of JSON fields. */
export const hostileJsonValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    null,
    true,
    false,
    0,
    -1,
    0.5,
    1e308,
    -1e308,
    2 ** 53,
    2 ** 31,
    2 ** 32,
    1e12,
    "",
    "..",
    "../../x",
    "/etc/passwd",
    "a/b",
    "NaN",
    [],
    {},
    [[[[[]]]]],
  ),
  fc.integer({ min: -10, max: 1_000_000_000 }),
  fc.string({ maxLength: 20 }),
  fc.jsonValue({ maxDepth: 2 }),
);

/** One edit of a parsed JSON document: a path chosen by index, and what to do there. */
export interface JsonEdit {
  /** Picks the node (modulo the number of nodes). */
  pick: number;
  /** Replace the node, delete it from its parent, or duplicate an array item. */
  action: "replace" | "delete" | "grow";
  value: unknown;
}

/** A plan of 1–3 JSON edits. */
export const jsonPlan: fc.Arbitrary<JsonEdit[]> = fc.array(
  fc.record({
    pick: fc.nat(),
    action: fc.constantFrom(
      "replace" as const,
      "replace" as const,
      "delete" as const,
      "grow" as const,
    ),
    value: hostileJsonValue,
  }),
  { minLength: 1, maxLength: 3 },
);

type Node = { parent: Record<string, unknown> | unknown[]; key: string | number };

function nodesOf(value: unknown, out: Node[] = []): Node[] {
  if (Array.isArray(value)) {
    value.forEach((v, i) => {
      out.push({ parent: value, key: i });
      nodesOf(v, out);
    });
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.push({ parent: value as Record<string, unknown>, key: k });
      nodesOf(v, out);
    }
  }
  return out;
}

/** Applies `plan` to a deep copy of `doc` and returns it as JSON text. */
export function applyJsonPlan(doc: unknown, plan: JsonEdit[]): string {
  const copy = structuredClone(doc);
  for (const edit of plan) {
    const nodes = nodesOf(copy);
    if (nodes.length === 0) break;
    const { parent, key } = nodes[edit.pick % nodes.length];
    const p = parent as Record<string | number, unknown>;
    if (edit.action === "replace") p[key] = structuredClone(edit.value);
    else if (edit.action === "delete") {
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete p[key];
    } else if (Array.isArray(p[key])) {
      const list = p[key] as unknown[];
      list.push(...structuredClone(list));
    } else p[key] = [p[key], edit.value];
  }
  return JSON.stringify(copy);
}

/**
 * `count` values of `arb` drawn from `seed`: the same seed always gives the
 * same values, so case `i` can be rebuilt in another worker.
 */
export function draw<T>(arb: fc.Arbitrary<T>, seed: number, count: number): T[] {
  return count <= 0 ? [] : fc.sample(arb, { seed, numRuns: count });
}

/**
 * Case `i` of a target whose first cases are its seed files as they are:
 * whether it is one of those (`valid`), its drawn plan, and the seed file it
 * starts from (a mutated case's plan picks one by `source`).
 */
export function seedCase<P extends { source: number }>(
  files: readonly string[],
  plans: readonly P[],
  i: number,
): { valid: boolean; p: P; file: string } {
  const valid = i < files.length;
  const p = plans[i];
  return { valid, p, file: files[(valid ? i : p.source) % files.length] };
}

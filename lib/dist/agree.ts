/**
 * What every rank must agree on before a data-parallel run starts or goes on:
 * a text (the resolved config) hashed and compared across ranks, a value
 * decided by rank 0 (the checkpoint to resume from) passed to all, and a
 * flag any rank may raise (a stop request).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Collectives } from "./mpi.ts";

/**
 * A rank's text differs from rank 0's: names the ranks and what differs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RankMismatchError } from "./agree.ts";
 * assert.match(new RankMismatchError("the resolved config", [1]).message, /rank 1 differs from rank 0/);
 * ```
 */
export class RankMismatchError extends Error {
  readonly ranks: number[];
  constructor(what: string, ranks: number[]) {
    super(
      `${what} of rank${ranks.length > 1 ? "s" : ""} ${ranks.join(", ")} ` +
        `differs from rank 0: every rank must be started with the same flags and data`,
    );
    this.name = "RankMismatchError";
    this.ranks = ranks;
  }
}

/**
 * Throws a {@linkcode RankMismatchError} on every rank when the SHA-256 of
 * `text` is not the same on all ranks of `c` (`what` names it in the message).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkSameOnAllRanks } from "./agree.ts";
 * import { SOLO } from "./mpi.ts";
 * assert.doesNotThrow(() => checkSameOnAllRanks(SOLO, '{"batch":8}', "the config"));
 * ```
 */
export function checkSameOnAllRanks(c: Collectives, text: string, what: string): void {
  const digest = new Uint8Array(createHash("sha256").update(text).digest());
  const all = c.allgather(digest);
  const differ: number[] = [];
  for (let r = 1; r < c.size; r++) {
    const theirs = all.subarray(r * 32, (r + 1) * 32);
    if (theirs.some((b, i) => b !== all[i])) differ.push(r);
  }
  if (differ.length > 0) throw new RankMismatchError(what, differ);
}

/**
 * Rank 0's `value` (JSON-serialisable) on every rank; other ranks' `value` is ignored.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fromRankZero } from "./agree.ts";
 * import { SOLO } from "./mpi.ts";
 * assert.deepEqual(fromRankZero(SOLO, { resume: "run/checkpoints/step-0000004" }), {
 *   resume: "run/checkpoints/step-0000004",
 * });
 * ```
 */
export function fromRankZero<T>(c: Collectives, value: T): T {
  const mine = c.rank === 0 ? new TextEncoder().encode(JSON.stringify(value ?? null)) : undefined;
  const length = new Uint8Array(new Uint32Array([mine?.length ?? 0]).buffer);
  c.broadcast(length, 0);
  const bytes = mine ?? new Uint8Array(new Uint32Array(length.buffer)[0]);
  c.broadcast(bytes, 0);
  return JSON.parse(new TextDecoder().decode(bytes)) as T;
}

/**
 * Whether `flag` is true on any rank (every rank gets the same answer).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { anyRank } from "./agree.ts";
 * import { SOLO } from "./mpi.ts";
 * assert.equal(anyRank(SOLO, true), true);
 * assert.equal(anyRank(SOLO, false), false);
 * ```
 */
export function anyRank(c: Collectives, flag: boolean): boolean {
  return c.allreduceSum(new Float64Array([flag ? 1 : 0]))[0] > 0;
}

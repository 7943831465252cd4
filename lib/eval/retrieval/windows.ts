/**
 * Clips stored as several windows: entries with ids `<clip>#w<k>`, k = 0…K−1,
 * grouped back into clips ({@linkcode groupWindows}) and their embeddings
 * averaged per clip ({@linkcode meanOfGroups}). See `retrieval.ts` for how
 * zero-shot retrieval uses them.
 *
 * @module
 */
import { MismatchError } from "../../util/errors.ts";

/** Dataset entries grouped into clips. */
export interface WindowGroups {
  /** Clip ids (the part before `#w<k>`; the entry ids themselves when K = 1), first seen first. */
  clipIds: string[];
  /** For each clip, its entries' positions in window order (k = 0…K−1). */
  members: number[][];
}

const WINDOW_ID = /^(.*)#w(\d+)$/;

/**
 * Groups entries with ids `<clip>#w<k>` into clips of `windows` entries each.
 * With `windows` 1 every entry is its own clip.
 *
 * @throws {RangeError} if `windows` is not a positive integer;
 *   {MismatchError} if an id does not follow the convention or a clip lacks a window.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { groupWindows } from "./windows.ts";
 * const g = groupWindows(["a#w1", "b#w0", "a#w0", "b#w1"], 2);
 * assert.equal(g.clipIds.join(), "a,b");
 * assert.equal(g.members[0].join(), "2,0");
 * ```
 */
export function groupWindows(ids: readonly string[], windows: number): WindowGroups {
  if (!Number.isInteger(windows) || windows < 1) {
    throw new RangeError(
      `Cannot group windows: windows must be a positive integer, got ${windows}`,
    );
  }
  if (windows === 1) return { clipIds: [...ids], members: ids.map((_, i) => [i]) };
  const byClip = new Map<string, (number | undefined)[]>();
  ids.forEach((id, i) => {
    const m = WINDOW_ID.exec(id);
    if (!m) {
      throw new MismatchError(
        `Cannot average ${windows} windows per clip: id ${
          JSON.stringify(id)
        } is not of the form <clip>#w<k>`,
      );
    }
    const k = Number(m[2]);
    let slots = byClip.get(m[1]);
    if (!slots) byClip.set(m[1], slots = new Array(windows).fill(undefined));
    if (k >= windows || slots[k] !== undefined) {
      throw new MismatchError(
        `Cannot average ${windows} windows per clip: clip ${JSON.stringify(m[1])} has ${
          k >= windows ? `window ${k}, beyond 0…${windows - 1}` : `window ${k} twice`
        }`,
      );
    }
    slots[k] = i;
  });
  const clipIds: string[] = [];
  const members: number[][] = [];
  for (const [clip, slots] of byClip) {
    const missing = slots.flatMap((s, k) => (s === undefined ? [k] : []));
    if (missing.length > 0) {
      throw new MismatchError(
        `Cannot average ${windows} windows per clip: clip ${JSON.stringify(clip)} lacks window ${
          missing.join(", ")
        }`,
      );
    }
    clipIds.push(clip);
    members.push(slots as number[]);
  }
  return { clipIds, members };
}

/**
 * Means of groups of rows: row `g` of the result is the mean of the rows
 * `members[g]` of `vectors` (`[N, dim]`) whose `mask` is set (all when no
 * mask). A group with no row left is all zeros and unset in `has`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { meanOfGroups } from "./windows.ts";
 * const m = meanOfGroups(new Float32Array([1, 2, 3, 4, 9, 9]), { dim: 2, members: [[0, 1], [2]] });
 * assert.equal(m.vectors.join(), "2,3,9,9");
 * assert.equal(m.has.join(), "1,1");
 * ```
 */
export function meanOfGroups(
  vectors: Float32Array,
  options: { dim: number; members: readonly (readonly number[])[]; mask?: Uint8Array },
): { vectors: Float32Array; has: Uint8Array } {
  const { dim, members, mask } = options;
  const out = new Float32Array(members.length * dim);
  const has = new Uint8Array(members.length);
  const sum = new Float64Array(dim);
  members.forEach((rows, g) => {
    sum.fill(0);
    let n = 0;
    for (const r of rows) {
      if (mask && !mask[r]) continue;
      n++;
      for (let j = 0; j < dim; j++) sum[j] += vectors[r * dim + j];
    }
    if (n === 0) return;
    has[g] = 1;
    for (let j = 0; j < dim; j++) out[g * dim + j] = sum[j] / n;
  });
  return { vectors: out, has };
}

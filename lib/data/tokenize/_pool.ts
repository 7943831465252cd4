/**
 * A small worker pool for decoding clips a few at a time.
 *
 * @module
 */

/** Options of {@linkcode mapPool}. */
export interface MapPoolOptions {
  /** Items in flight at once. */
  workers: number;
  /** Stops starting new items; the pool then throws its reason. */
  signal?: AbortSignal;
}

/**
 * Runs `fn` over `items` with `workers` at once. On the first failure (or an
 * abort) no new item starts, the ones in flight finish, and then the error is
 * thrown: nothing keeps running (no ffmpeg process) after this returns.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mapPool } from "./_pool.ts";
 * assert.deepEqual(await mapPool([1, 2, 3], (x) => Promise.resolve(x * 10), { workers: 2 }), [10, 20, 30]);
 * ```
 */
export async function mapPool<T, R>(
  items: T[],
  fn: (item: T) => Promise<R>,
  options: MapPoolOptions,
): Promise<R[]> {
  const { workers, signal } = options;
  const out = new Array<R>(items.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      if (signal?.aborted) {
        failure = { error: signal.reason };
        break;
      }
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (e) {
        failure ??= { error: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, items.length) }, worker));
  if (failure) throw failure.error;
  return out;
}

/*
 * The native kernels' pool of threads (pool.c). Between jobs the workers poll a while, then
 * sleep; one job runs at a time (a caller that finds the pool taken runs the same ranges alone,
 * one after another). A job's ranges depend on its size and the number of threads only; the
 * threads claim them as they come.
 */
#ifndef VATT_POOL_H
#define VATT_POOL_H

/* One range [begin, end) of a job's items. */
typedef void (*range_fn)(const void *job, int begin, int end);

/* Threads the kernels may use (1 to 64), the caller's included; exported to FFI. */
void vatt_set_threads(int threads);
int vatt_threads(void);

/* `fn` over `count` items of `per_item` values each (the unit of MIN_PARALLEL, pool.c),
 * split into contiguous ranges of items over the threads when there are enough values to
 * be worth waking them; returns when every range is done. */
void vatt_parallel_items(range_fn fn, const void *job, int count, long long per_item);

/* `fn` over `count` items split over every thread (up to one item each), whatever their size:
 * for jobs the caller knows are large (gemm.c's products). */
void vatt_parallel_all(range_fn fn, const void *job, int count);

/* `fn` over each of `count` items, one item a range (the caller knows each is large enough). */
void vatt_parallel_each(range_fn fn, const void *job, int count);

/* The same as vatt_parallel_items over `n` single values. */
static inline void parallel(range_fn fn, const void *job, int n) {
  vatt_parallel_items(fn, job, n, 1);
}

#endif

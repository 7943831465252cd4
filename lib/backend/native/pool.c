/*
 * The native kernels' pool of threads (pool.h): one job at a time, split into contiguous ranges
 * of items. The pool is the process's only source of parallel work where the library is loaded
 * (the BLAS then runs on one thread, its large products split here: gemm.c), so its workers may
 * poll for the next job a little while (SPIN_NS) before they sleep: a job that comes soon starts
 * within nanoseconds instead of the tens of microseconds a sleeping thread takes to wake.
 *
 * The ranges are fixed by the job (its count, its number of ranges), never by timing; which
 * thread runs which range is not: the caller and the workers claim the next unclaimed range
 * until none is left (one atomic word: the job's number, its ranges, the next range). A worker
 * that wakes late, or is descheduled by the host, then delays nothing: the caller runs the
 * ranges it has not claimed (on a virtual machine, waking a sleeping worker took 30 µs to
 * several ms). The caller raises each worker's generation to the job's number once the job is
 * written, and waits until every range is done.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "pool.h"

#define MAX_THREADS 64
/* Below this many values a job runs on the calling thread alone. Measured on 2 cores of a
 * virtual machine (GELU with dropout): 40,000 values took 30 µs alone and 60 split, 100,000
 * 76 and 93, 300,000 227 and 186: waking a worker costs tens of µs. */
#define MIN_PARALLEL 262144
/* How long a worker polls for its next job before it sleeps (nanoseconds). */
#define SPIN_NS 200000LL

typedef struct {
  atomic_ulong generation; /* the number of the last job posted to this worker */
  int sleeping;            /* under pool_mutex */
  pthread_cond_t wake;
} slot_t;

/* The job being run: written by the caller before it publishes the job's claim word, read by a
 * thread only after it has claimed one of the job's ranges (so never while it is rewritten). */
typedef struct {
  range_fn fn;
  const void *job;
  int count, ranges, align;
} job_t;

static slot_t slots[MAX_THREADS];
static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static int pool_threads = 1; /* threads a job may use, the caller included */
static int pool_started = 1; /* threads running, the caller included */
static job_t current;
static unsigned long job_number; /* under pool_owner */
/* The job's number (bits 32–63), its ranges (16–31) and the next unclaimed range (0–15). */
static atomic_ulong claims;
static atomic_int pool_pending; /* the job's ranges not yet done */

static long long now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static inline void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Contiguous parts, each a multiple of `align` items but the last. */
static void pool_range(int part, int parts, int n, int align, int *begin, int *end) {
  int chunk = ((n + parts - 1) / parts + align - 1) / align * align;
  *begin = part * chunk < n ? part * chunk : n;
  *end = (part + 1) * chunk < n ? (part + 1) * chunk : n;
}

/* Waits until slot s's generation differs from `seen`: polling for SPIN_NS, then asleep. */
static unsigned long next_job(slot_t *s, unsigned long seen) {
  const long long until = now_ns() + SPIN_NS;
  for (int i = 1;; i++) {
    unsigned long g = atomic_load_explicit(&s->generation, memory_order_acquire);
    if (g != seen) return g;
    if ((i & 255) == 0 && now_ns() > until) break;
    relax();
  }
  unsigned long g;
  pthread_mutex_lock(&pool_mutex);
  s->sleeping = 1;
  while ((g = atomic_load_explicit(&s->generation, memory_order_acquire)) == seen) {
    pthread_cond_wait(&s->wake, &pool_mutex);
  }
  s->sleeping = 0;
  pthread_mutex_unlock(&pool_mutex);
  return g;
}

/* Claims and runs ranges of job `number` until none is left unclaimed. */
static void run_claimed(unsigned long number) {
  unsigned long c = atomic_load_explicit(&claims, memory_order_acquire);
  for (;;) {
    if ((c >> 32) != (number & 0xffffffffUL) || (c & 0xffff) >= ((c >> 16) & 0xffff)) return;
    if (!atomic_compare_exchange_weak_explicit(&claims, &c, c + 1, memory_order_acq_rel,
                                               memory_order_acquire))
      continue;
    const int range = (int)(c & 0xffff);
    int begin, end;
    pool_range(range, current.ranges, current.count, current.align, &begin, &end);
    current.fn(current.job, begin, end);
    atomic_fetch_sub_explicit(&pool_pending, 1, memory_order_release);
    c = atomic_load_explicit(&claims, memory_order_acquire);
  }
}

static void *pool_worker(void *arg) {
  slot_t *s = arg;
  /* Generations start at 0: a job posted before this thread first runs is still seen. */
  unsigned long seen = 0;
  for (;;) {
    seen = next_job(s, seen);
    run_claimed(seen);
  }
  return NULL;
}

/* Threads the kernels may use (1 to MAX_THREADS), the caller's included. */
void vatt_set_threads(int threads) {
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  pthread_mutex_lock(&pool_mutex);
  while (pool_started < threads) {
    slot_t *s = &slots[pool_started];
    pthread_cond_init(&s->wake, NULL);
    pthread_t t;
    if (pthread_create(&t, NULL, pool_worker, s) != 0) break;
    pthread_detach(t);
    pool_started++;
  }
  pool_threads = threads < pool_started ? threads : pool_started;
  pthread_mutex_unlock(&pool_mutex);
}

int vatt_threads(void) { return pool_threads; }

/* Held by the caller whose job the workers run: one job at a time. The process may call from
 * several threads at once (Deno's parallel test modules and its workers are isolates on threads
 * of one process, sharing this library): a caller that finds the pool taken runs the same parts
 * alone, so that its results do not depend on when it called. */
static pthread_mutex_t pool_owner = PTHREAD_MUTEX_INITIALIZER;

/* `fn` over `count` items in `ranges` ranges (each a multiple of `align` items but the last),
 * claimed by the caller and the workers as they come. */
static void run_ranges(range_fn fn, const void *job, int count, int ranges, int align) {
  if (ranges > count) ranges = count;
  if (ranges > 0xffff) ranges = 0xffff;
  if (ranges < 1) ranges = 1; /* no items: fn still sees the empty range */
  if (ranges <= 1 || pool_threads <= 1 || pthread_mutex_trylock(&pool_owner) != 0) {
    /* One thread, or the pool is another caller's: the same ranges one after another (a
     * product's bits depend on how it is split: gemm.c). */
    for (int range = 0; range < ranges; range++) {
      int begin, end;
      pool_range(range, ranges, count, align, &begin, &end);
      fn(job, begin, end);
    }
    return;
  }
  current = (job_t){fn, job, count, ranges, align};
  const unsigned long number = ++job_number & 0xffffffffUL;
  atomic_store_explicit(&pool_pending, ranges, memory_order_relaxed);
  atomic_store_explicit(&claims, number << 32 | (unsigned long)ranges << 16, memory_order_release);
  const int workers = ranges < pool_threads ? ranges : pool_threads;
  for (int w = 1; w < workers; w++)
    atomic_store_explicit(&slots[w].generation, number, memory_order_release);
  pthread_mutex_lock(&pool_mutex); /* wake the workers that went to sleep */
  for (int w = 1; w < workers; w++) {
    if (slots[w].sleeping) pthread_cond_signal(&slots[w].wake);
  }
  pthread_mutex_unlock(&pool_mutex);
  run_claimed(number);
  for (int i = 1; atomic_load_explicit(&pool_pending, memory_order_acquire) > 0; i++) {
    if (i < 4096) relax();
    else sched_yield(); /* a worker was descheduled inside a range: leave it the core */
  }
  pthread_mutex_unlock(&pool_owner);
}

void vatt_parallel_items(range_fn fn, const void *job, int count, long long per_item) {
  long long total = (long long)count * per_item;
  int parts = pool_threads;
  if (parts > 1 && total >= MIN_PARALLEL) {
    long long most = total / (MIN_PARALLEL / 2); /* ≥ 131,072 values each */
    if (parts > most) parts = (int)most;
  } else {
    parts = 1;
  }
  run_ranges(fn, job, count, parts, per_item == 1 ? 16 : 1);
}

void vatt_parallel_all(range_fn fn, const void *job, int count) {
  run_ranges(fn, job, count, pool_threads, 1);
}

void vatt_parallel_each(range_fn fn, const void *job, int count) {
  run_ranges(fn, job, count, count, 1);
}

/* ---------------------------------------------------------------------------------------
 * A probe of the claiming, for tests (tests/lib/backend/native/pool_test.ts).
 * --------------------------------------------------------------------------------------- */

static _Thread_local int probe_is_caller;
static atomic_int probe_by_others, probe_by_caller;

typedef struct {
  int ranges;
  int32_t *runs;
} probe_t;

/* The caller's ranges wait (up to 1 s) until the other threads have run every other range. */
static void probe_range(const void *p, int begin, int end) {
  const probe_t *j = p;
  for (int r = begin; r < end; r++) {
    if (probe_is_caller) {
      const long long until = now_ns() + 1000000000LL;
      while (atomic_load(&probe_by_others) < j->ranges - 1 && now_ns() < until) relax();
      atomic_fetch_add(&probe_by_caller, 1);
    } else {
      atomic_fetch_add(&probe_by_others, 1);
    }
    __atomic_fetch_add(&j->runs[r], 1, __ATOMIC_RELAXED);
  }
}

/* A job of `ranges` ranges (one item each) in which the calling thread's ranges wait for the
 * workers to run all the others; runs[r] counts the runs of range r. Returns the ranges the
 * calling thread ran: 1 (or 0) where the workers claimed the rest while it waited, `ranges`
 * where the pool was another caller's. */
int vatt_pool_probe(int ranges, int32_t *runs) {
  probe_t j = {ranges, runs};
  atomic_store(&probe_by_others, 0);
  atomic_store(&probe_by_caller, 0);
  probe_is_caller = 1;
  vatt_parallel_each(probe_range, &j, ranges);
  probe_is_caller = 0;
  return atomic_load(&probe_by_caller);
}

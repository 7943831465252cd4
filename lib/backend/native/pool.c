/*
 * The native kernels' pool of threads (pool.h): one job at a time, split into contiguous ranges
 * of items; the calling thread takes the first range, a worker each of the others. The pool is
 * the process's only source of parallel work where the library is loaded (the BLAS then runs
 * on one thread, its large products split here: gemm.c), so its workers may poll for the next
 * job a little while (SPIN_NS) before they sleep: a job that comes soon starts within
 * nanoseconds instead of the tens of microseconds a sleeping thread takes to wake.
 *
 * Each worker has its own slot (its range of the job, the job, a generation count): the
 * caller writes only the slots of the workers a job uses, then raises their generations; a
 * worker reads its slot after seeing its generation change, runs its range, and counts down
 * the job's pending ranges. The caller waits for that count to reach zero.
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
  atomic_ulong generation; /* raised by the caller once the fields below are written */
  range_fn fn;
  const void *job;
  int begin, end;
  int sleeping;      /* under pool_mutex */
  pthread_cond_t wake;
} slot_t;

static slot_t slots[MAX_THREADS];
static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static int pool_threads = 1; /* threads a job may use, the caller included */
static int pool_started = 1; /* threads running, the caller included */
static atomic_int pool_pending;

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

static void *pool_worker(void *arg) {
  slot_t *s = arg;
  /* Generations start at 0: a job posted before this thread first runs is still seen. */
  unsigned long seen = 0;
  for (;;) {
    seen = next_job(s, seen);
    s->fn(s->job, s->begin, s->end);
    atomic_fetch_sub_explicit(&pool_pending, 1, memory_order_release);
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

/* `fn` over `count` items in `parts` ranges (each a multiple of `align` items but the last). */
static void run_parts(range_fn fn, const void *job, int count, int parts, int align) {
  if (parts > count) parts = count;
  if (parts <= 1) {
    fn(job, 0, count);
    return;
  }
  if (pthread_mutex_trylock(&pool_owner) != 0) {
    /* The pool is another caller's: the same parts, one after another on this thread (a
     * product's bits depend on how it is split: gemm.c). */
    for (int part = 0; part < parts; part++) {
      int begin, end;
      pool_range(part, parts, count, align, &begin, &end);
      fn(job, begin, end);
    }
    return;
  }
  atomic_store_explicit(&pool_pending, parts - 1, memory_order_relaxed);
  for (int w = 1; w < parts; w++) {
    slot_t *s = &slots[w];
    s->fn = fn;
    s->job = job;
    pool_range(w, parts, count, align, &s->begin, &s->end);
    atomic_fetch_add_explicit(&s->generation, 1, memory_order_release);
  }
  pthread_mutex_lock(&pool_mutex); /* wake the workers that went to sleep */
  for (int w = 1; w < parts; w++) {
    if (slots[w].sleeping) pthread_cond_signal(&slots[w].wake);
  }
  pthread_mutex_unlock(&pool_mutex);
  int begin, end;
  pool_range(0, parts, count, align, &begin, &end);
  fn(job, begin, end);
  for (int i = 1; atomic_load_explicit(&pool_pending, memory_order_acquire) > 0; i++) {
    if (i < 4096) relax();
    else sched_yield(); /* a worker was descheduled: leave it the core */
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
  run_parts(fn, job, count, parts, per_item == 1 ? 16 : 1);
}

void vatt_parallel_all(range_fn fn, const void *job, int count) {
  run_parts(fn, job, count, pool_threads, 1);
}

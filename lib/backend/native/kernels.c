/*
 * vatt's native elementwise kernels: the SIMD kernels of lib/backend/simd/kernels.as.ts (GELU
 * and its gradient, with or without dropout; dropout; Adam; LayerNorm) in C, on as many
 * threads as the native BLAS uses, with the vector width of the machine they were built on
 * (`deno task build:native`; lib/backend/native/native.ts loads them).
 *
 * Every value is computed with the float32 operations of the AssemblyScript kernels, in
 * their order (no contraction into fused multiply-adds: -ffp-contract=off; no reordering:
 * no -ffast-math), so the results are bit-identical to theirs whatever the vector width or
 * the number of threads: each value depends on its own inputs alone, and the threads split
 * the values (LayerNorm: the rows), never a sum.
 */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
 * A pool of threads that split [0, n) (values or rows) into contiguous ranges: the calling
 * thread takes the first, each worker one of the others; the call returns when all are done.
 * Workers wait on a condition variable between jobs (they never spin, so they leave the
 * cores to the BLAS's threads).
 * --------------------------------------------------------------------------------------- */
#define MAX_THREADS 64
/* Below this many values a job runs on the calling thread alone. Measured on 2 cores of a
 * virtual machine (GELU with dropout): 40,000 values took 30 µs alone and 60 split, 100,000
 * 76 and 93, 300,000 227 and 186: waking a worker costs tens of µs. */
#define MIN_PARALLEL 262144

typedef void (*range_fn)(const void *job, int begin, int end);

static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_start = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static int pool_threads = 1;   /* threads a job may use, the caller included */
static int pool_started = 1;   /* threads running, the caller included */
static unsigned long pool_generation = 0;
static int pool_pending = 0;
static range_fn pool_fn;
static const void *pool_job;
static int pool_n;
static int pool_parts;

static void pool_range(int part, int parts, int n, int *begin, int *end) {
  /* Contiguous parts, each a multiple of 16 values but the last. */
  int chunk = ((n + parts - 1) / parts + 15) & ~15;
  *begin = part * chunk < n ? part * chunk : n;
  *end = (part + 1) * chunk < n ? (part + 1) * chunk : n;
}

static void *pool_worker(void *arg) {
  int part = (int)(intptr_t)arg;
  unsigned long seen = 0;
  pthread_mutex_lock(&pool_mutex);
  for (;;) {
    while (pool_generation == seen) pthread_cond_wait(&pool_start, &pool_mutex);
    seen = pool_generation;
    if (part < pool_parts) {
      range_fn fn = pool_fn;
      const void *job = pool_job;
      int begin, end;
      pool_range(part, pool_parts, pool_n, &begin, &end);
      pthread_mutex_unlock(&pool_mutex);
      fn(job, begin, end);
      pthread_mutex_lock(&pool_mutex);
      if (--pool_pending == 0) pthread_cond_signal(&pool_done);
    }
  }
  return NULL;
}

/* Threads the kernels may use (1 to MAX_THREADS), the caller's included. */
void vatt_set_threads(int threads) {
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  pthread_mutex_lock(&pool_mutex);
  while (pool_started < threads) {
    pthread_t t;
    if (pthread_create(&t, NULL, pool_worker, (void *)(intptr_t)pool_started) != 0) break;
    pthread_detach(t);
    pool_started++;
  }
  pool_threads = threads < pool_started ? threads : pool_started;
  pthread_mutex_unlock(&pool_mutex);
}

int vatt_threads(void) { return pool_threads; }

/* Held by the caller whose job the workers run: one job at a time. The process may call from
 * several threads at once (Deno's parallel test modules and its workers are isolates on threads
 * of one process, sharing this library): a caller that finds the pool taken runs alone. */
static pthread_mutex_t pool_owner = PTHREAD_MUTEX_INITIALIZER;

/* `fn` over `count` items of `per_item` values each, split into contiguous ranges of items
 * over the threads when there are enough values to be worth waking them. */
static void parallel_items(range_fn fn, const void *job, int count, long long per_item) {
  long long total = (long long)count * per_item;
  int parts = pool_threads;
  if (parts > 1 && total >= MIN_PARALLEL) {
    long long most = total / (MIN_PARALLEL / 2); /* ≥ 131,072 values each */
    if (parts > most) parts = (int)most;
    if (parts > count) parts = count;
  } else {
    parts = 1;
  }
  if (parts <= 1 || pthread_mutex_trylock(&pool_owner) != 0) {
    fn(job, 0, count);
    return;
  }
  pthread_mutex_lock(&pool_mutex);
  pool_fn = fn;
  pool_job = job;
  pool_n = count;
  pool_parts = parts;
  pool_pending = parts - 1;
  pool_generation++;
  pthread_cond_broadcast(&pool_start);
  pthread_mutex_unlock(&pool_mutex);
  int begin, end;
  pool_range(0, parts, count, &begin, &end);
  fn(job, begin, end);
  pthread_mutex_lock(&pool_mutex);
  while (pool_pending > 0) pthread_cond_wait(&pool_done, &pool_mutex);
  pthread_mutex_unlock(&pool_mutex);
  pthread_mutex_unlock(&pool_owner);
}

static void parallel(range_fn fn, const void *job, int n) { parallel_items(fn, job, n, 1); }

/* ---------------------------------------------------------------------------------------
 * The arithmetic, value by value, as kernels.as.ts does it lane by lane.
 * --------------------------------------------------------------------------------------- */
/* Constants as AssemblyScript folds them: the decimal (or f64 quotient) rounded to float32. */
#define F(x) ((float)(x))
static const float P0 = F(1.1283791821055682), P1 = F(0.18471050080153265),
  P2 = F(0.05433255979346322), P3 = F(0.0038395276964266318), P4 = F(0.00038268988548873515),
  P5 = F(4.780474302371052e-06), P6 = F(-1.366646121270243e-08), Q1 = F(0.4970289647130287),
  Q2 = F(0.11382632085921052), Q3 = F(0.015453505163543409), Q4 = F(0.001309575554470448),
  Q5 = F(6.40086481122756e-05), SQRT1_2 = F(0.7071067811865476),
  INV_SQRT_2PI = F(0.3989422804014327);
static const float LOG2E = F(1.4426950408889634), LN2_HI = F(0.693145751953125),
  LN2_LO = F(1.4286068203094173e-6), E6 = F(1.0 / 720), E5 = F(1.0 / 120), E4 = F(1.0 / 24),
  E3 = F(1.0 / 6);

/* Φ(x) = ½(1 + erf(x/√2)), erf(u) = u·P(u²)/Q(u²) on u clamped to [−4, 4] (cdf4). */
static inline float cdf1(float x) {
  float u = x * SQRT1_2;
  u = u < -4.0f ? -4.0f : u; /* pmax(u, −4) */
  u = 4.0f < u ? 4.0f : u;   /* pmin(u, 4) */
  float t = u * u;
  float p = t * P6 + P5;
  p = t * p + P4;
  p = t * p + P3;
  p = t * p + P2;
  p = t * p + P1;
  p = t * p + P0;
  float q = t * Q5 + Q4;
  q = t * q + Q3;
  q = t * q + Q2;
  q = t * q + Q1;
  q = t * q + 1.0f;
  float erf = (u * p) / q;
  return 0.5f + 0.5f * erf;
}

/* exp(z) for z ≤ 0 (expNonPositive4). */
static inline float exp_non_positive(float z0) {
  float z = z0 < -87.0f ? -87.0f : z0; /* pmax(z, −87) */
  float k = rintf(z * LOG2E);          /* nearest, ties to even */
  float r = (z - k * LN2_HI) - k * LN2_LO;
  float e = r * E6 + E5;
  e = r * e + E4;
  e = r * e + E3;
  e = r * e + 0.5f;
  e = r * e + 1.0f;
  e = r * e + 1.0f;
  int32_t bits = ((int32_t)k + 127) << 23;
  float scale;
  memcpy(&scale, &bits, sizeof scale);
  return e * scale;
}

/* dx = dy·(Φ(x) + x·φ(x)) (geluGrad4). */
static inline float gelu_grad1(float x, float c, float dy) {
  float pdf = INV_SQRT_2PI * exp_non_positive(-0.5f * (x * x));
  return dy * (c + x * pdf);
}

/* The murmur3 finalizer, twice: the dropout bits of a position (fmix4, dropMask4). */
static inline uint32_t fmix(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

typedef struct {
  uint32_t base; /* offset + k1: the position of value 0 */
  uint32_t k2;
  uint32_t threshold;
  float scale;
} drop_t;

static inline float drop_mask(const drop_t *d, int i) {
  uint32_t bits = fmix(fmix(d->base + (uint32_t)i) ^ d->k2);
  return bits < d->threshold ? d->scale : 0.0f;
}

/* ---------------------------------------------------------------------------------------
 * The kernels: each packs its arguments into a job and splits the values over the pool.
 * --------------------------------------------------------------------------------------- */
typedef struct {
  const float *x, *cdf_in, *dy;
  float *y, *cdf, *dx;
  drop_t drop;
  int dropped;
} gelu_job;

/* Each range function copies its arguments into restrict-qualified locals: the compiler may
 * then vectorise the loop (stores through one pointer cannot change another's data). */
static void gelu_range(const void *p, int begin, int end) {
  const gelu_job *j = p;
  const float *restrict x = j->x;
  float *restrict y = j->y;
  float *restrict cdf = j->cdf;
  if (!j->dropped) {
    for (int i = begin; i < end; i++) {
      float c = cdf1(x[i]);
      cdf[i] = c;
      y[i] = x[i] * c;
    }
    return;
  }
  const drop_t d = j->drop;
  for (int i = begin; i < end; i++) {
    float c = cdf1(x[i]);
    cdf[i] = c;
    y[i] = (x[i] * c) * drop_mask(&d, i);
  }
}

static void gelu_grad_range(const void *p, int begin, int end) {
  const gelu_job *j = p;
  const float *restrict x = j->x;
  const float *restrict cdf = j->cdf_in;
  const float *restrict dy = j->dy;
  float *restrict dx = j->dx;
  if (!j->dropped) {
    for (int i = begin; i < end; i++) dx[i] = gelu_grad1(x[i], cdf[i], dy[i]);
    return;
  }
  const drop_t d = j->drop;
  for (int i = begin; i < end; i++) dx[i] = gelu_grad1(x[i], cdf[i], dy[i] * drop_mask(&d, i));
}

static void dropout_range(const void *p, int begin, int end) {
  const gelu_job *j = p;
  const float *restrict x = j->x;
  float *restrict y = j->y;
  const drop_t d = j->drop;
  for (int i = begin; i < end; i++) y[i] = x[i] * drop_mask(&d, i);
}

static drop_t make_drop(uint32_t offset, uint32_t k1, uint32_t k2, uint32_t threshold,
                        float scale) {
  drop_t d = {offset + k1, k2, threshold, scale};
  return d;
}

void vatt_gelu(const float *x, float *y, float *cdf, int n) {
  gelu_job j = {.x = x, .y = y, .cdf = cdf};
  parallel(gelu_range, &j, n);
}

void vatt_gelu_dropout(const float *x, float *y, float *cdf, int n, uint32_t offset,
                       uint32_t k1, uint32_t k2, uint32_t threshold, float scale) {
  gelu_job j = {.x = x, .y = y, .cdf = cdf, .dropped = 1};
  j.drop = make_drop(offset, k1, k2, threshold, scale);
  parallel(gelu_range, &j, n);
}

void vatt_gelu_grad(const float *x, const float *cdf, const float *dy, float *dx, int n) {
  gelu_job j = {.x = x, .cdf_in = cdf, .dy = dy, .dx = dx};
  parallel(gelu_grad_range, &j, n);
}

void vatt_gelu_grad_dropout(const float *x, const float *cdf, const float *dy, float *dx, int n,
                            uint32_t offset, uint32_t k1, uint32_t k2, uint32_t threshold,
                            float scale) {
  gelu_job j = {.x = x, .cdf_in = cdf, .dy = dy, .dx = dx, .dropped = 1};
  j.drop = make_drop(offset, k1, k2, threshold, scale);
  parallel(gelu_grad_range, &j, n);
}

void vatt_dropout(const float *x, float *y, int n, uint32_t offset, uint32_t k1, uint32_t k2,
                  uint32_t threshold, float scale) {
  gelu_job j = {.x = x, .y = y, .dropped = 1};
  j.drop = make_drop(offset, k1, k2, threshold, scale);
  parallel(dropout_range, &j, n);
}

typedef struct {
  const float *w, *m, *v, *g;
  float *w_out, *m_out, *v_out;
  float b1, c1, b2, c2, lrc, rbc2, eps, decay;
} adam_job;

/* Adam(W) as kernels.as.ts's adam, into the outputs: the inputs first copied there when they
 * are other buffers (GCC 12 vectorises the in-place loop only), then updated in place, each
 * value read before it is written. */
static void adam_range(const void *p, int begin, int end) {
  const adam_job *j = p;
  const float b1 = j->b1, c1 = j->c1, b2 = j->b2, c2 = j->c2, lrc = j->lrc, rbc2 = j->rbc2;
  const float eps = j->eps, decay = j->decay;
  float *w = j->w_out, *m = j->m_out, *v = j->v_out;
  const float *g = j->g;
  size_t bytes = (size_t)(end - begin) * sizeof(float);
  if (w != j->w) memcpy(w + begin, j->w + begin, bytes);
  if (m != j->m) memcpy(m + begin, j->m + begin, bytes);
  if (v != j->v) memcpy(v + begin, j->v + begin, bytes);
  for (int i = begin; i < end; i++) {
    float gi = g[i], wi = w[i];
    float mi = m[i] * b1 + gi * c1;
    float vi = v[i] * b2 + (gi * gi) * c2;
    float next = wi - (mi * lrc) / (sqrtf(vi * rbc2) + eps);
    if (decay != 0.0f) next = next - wi * decay;
    m[i] = mi;
    v[i] = vi;
    w[i] = next;
  }
}

void vatt_adam(const float *w, const float *m, const float *v, const float *g, float *w_out,
               float *m_out, float *v_out, int n, float b1, float c1, float b2, float c2,
               float lrc, float rbc2, float eps, float decay) {
  adam_job j = {w, m, v, g, w_out, m_out, v_out, b1, c1, b2, c2, lrc, rbc2, eps, decay};
  parallel(adam_range, &j, n);
}

/* ---------------------------------------------------------------------------------------
 * LayerNorm over rows of d values, as kernels.as.ts's layerNorm: each sum over a row in four
 * lanes (value j in lane j % 4 up to the last multiple of 4), the lanes added as
 * (l0 + l1) + (l2 + l3), then the rest in order; rows split over the threads. (Its gradient
 * stays with the SIMD module: done here, with γ's and β's sums over the rows taken by columns
 * in a second pass to keep their order, it measured slower: 0.72 against 0.62 ms on
 * 1,032 × 512.)
 * --------------------------------------------------------------------------------------- */
static inline float lane_sum(const float acc[4]) { return (acc[0] + acc[1]) + (acc[2] + acc[3]); }

/* Mean and 1/√(variance + ε) of one row (rowStats). */
static inline void row_stats(const float *row, int d, float epsilon, float *mean_out,
                             float *rstd_out) {
  float acc[4] = {0, 0, 0, 0};
  int j = 0;
  for (; j + 4 <= d; j += 4)
    for (int l = 0; l < 4; l++) acc[l] += row[j + l];
  float sum = lane_sum(acc);
  for (; j < d; j++) sum += row[j];
  const float mean = sum / (float)d;
  float sq_acc[4] = {0, 0, 0, 0};
  j = 0;
  for (; j + 4 <= d; j += 4)
    for (int l = 0; l < 4; l++) {
      float c = row[j + l] - mean;
      sq_acc[l] += c * c;
    }
  float sq = lane_sum(sq_acc);
  for (; j < d; j++) {
    float c = row[j] - mean;
    sq += c * c;
  }
  *mean_out = mean;
  *rstd_out = 1.0f / sqrtf(sq / (float)d + epsilon);
}

typedef struct {
  const float *x, *gamma, *beta;
  float *y;
  int d;
  float epsilon;
} norm_job;

static void layer_norm_rows(const void *p, int begin, int end) {
  const norm_job *k = p;
  const int d = k->d;
  const float *restrict gamma = k->gamma;
  const float *restrict beta = k->beta;
  for (int r = begin; r < end; r++) {
    const float *restrict x = k->x + (size_t)r * d;
    float *restrict y = k->y + (size_t)r * d;
    float mean, rstd;
    row_stats(x, d, k->epsilon, &mean, &rstd);
    for (int j = 0; j < d; j++) y[j] = ((x[j] - mean) * rstd) * gamma[j] + beta[j];
  }
}

void vatt_layer_norm(const float *x, const float *gamma, const float *beta, float *y, int rows,
                     int d, float epsilon) {
  norm_job k = {.x = x, .gamma = gamma, .beta = beta, .y = y, .d = d, .epsilon = epsilon};
  parallel_items(layer_norm_rows, &k, rows, d);
}

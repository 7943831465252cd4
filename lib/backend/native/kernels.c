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
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dropout_bits.h"
#include "exp_non_positive.h"
#include "kernels.h"
#include "row_stats.h"
#include "pool.h"

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

/* dx = dy·(Φ(x) + x·φ(x)) (geluGrad4). */
static inline float gelu_grad1(float x, float c, float dy) {
  float pdf = INV_SQRT_2PI * exp_non_positive(-0.5f * (x * x));
  return dy * (c + x * pdf);
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

typedef struct {
  uint8_t *heap;
  const uint32_t *at;
  const float *decays;
  const long long *starts; /* tensor i's values are [starts[i], starts[i + 1]) of the whole */
  int count;
  float b1, c1, b2, c2, lrc, rbc2, eps;
} adam_many_job;

/* Values [begin, end) of the tensors laid end to end: each tensor's part by adam_range. */
static void adam_many_range(const void *p, int begin, int end) {
  const adam_many_job *j = p;
  int t = 0;
  while (t < j->count && j->starts[t + 1] <= begin) t++;
  for (; t < j->count && j->starts[t] < end; t++) {
    const uint32_t *at = j->at + 4 * t;
    float *w = (float *)(j->heap + at[0]), *m = (float *)(j->heap + at[1]);
    float *v = (float *)(j->heap + at[2]);
    const float *g = (const float *)(j->heap + at[3]);
    adam_job one = {w, m, v, g, w, m, v, j->b1, j->c1, j->b2, j->c2, j->lrc, j->rbc2, j->eps,
                    j->decays[t]};
    const long long lo = begin > j->starts[t] ? begin : j->starts[t];
    const long long hi = end < j->starts[t + 1] ? end : j->starts[t + 1];
    adam_range(&one, (int)(lo - j->starts[t]), (int)(hi - j->starts[t]));
  }
}

/* vatt_adam in place on `count` tensors of the wasm heap at once: tensor i's weight, moments and
 * gradient at the byte offsets at[4i .. 4i + 3] of `heap`, sizes[i] values, its decay decays[i];
 * one job over all their values, split over the threads (the same bits as one call each). */
void vatt_adam_many(uint8_t *heap, const uint32_t *at, const int32_t *sizes, const float *decays,
                    int count, float b1, float c1, float b2, float c2, float lrc, float rbc2,
                    float eps) {
  long long *starts = malloc(sizeof(long long) * (size_t)(count + 1));
  if (!starts) abort();
  starts[0] = 0;
  for (int i = 0; i < count; i++) starts[i + 1] = starts[i] + sizes[i];
  adam_many_job j = {heap, at, decays, starts, count, b1, c1, b2, c2, lrc, rbc2, eps};
  if (starts[count] > 0) parallel(adam_many_range, &j, (int)starts[count]);
  free(starts);
}

/* ---------------------------------------------------------------------------------------
 * LayerNorm over rows of d values, as kernels.as.ts's layerNorm: each sum over a row in four
 * lanes (value j in lane j % 4 up to the last multiple of 4), the lanes added as
 * (l0 + l1) + (l2 + l3), then the rest in order; rows split over the threads. (Its gradient
 * stays with the SIMD module: done here, with γ's and β's sums over the rows taken by columns
 * in a second pass to keep their order, it measured slower: 0.72 against 0.62 ms on
 * 1,032 × 512.)
 * --------------------------------------------------------------------------------------- */
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
  vatt_parallel_items(layer_norm_rows, &k, rows, d);
}

/*
 * Multi-head attention's forward and backward passes in C (lib/backend/kernels/attention.ts
 * calls them where the library is built): the same arithmetic as the kernels' BLAS path, every
 * clip-head block's small products, softmax and dropout in one call each way, the blocks split
 * over the pool's threads.
 *
 * Queries, keys and values are in the dense layers' layout [B, L, H·dh]: the block of clip b and
 * head h is the [L, dh] matrix at b·L·D + h·dh with rows D apart. The products run as rows of
 * multiply-adds over the contiguous dimension (explicit fmaf), four rows at a time, so they are
 * not bit-identical to the BLAS's (another order of the same sums); the gradient of the
 * position bias is summed over the clips in order, each head on one thread, so every result is
 * the same whatever the number of threads.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exp_non_positive.h"
#include "kernels.h"
#include "pool.h"

/* The products' sums contract into fused multiply-adds (the rest of the library does not). */
#if defined(__clang__)
#pragma clang fp contract(fast)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=fast")
#endif

/* Sixteen floats, one AVX-512 register (two AVX ones, four NEON ones), loaded unaligned. */
typedef float v16 __attribute__((vector_size(64)));

static inline v16 load16(const float *p) {
  v16 v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void store16(float *p, v16 v) { memcpy(p, &v, sizeof v); }

/* Value (i, p) of A, at a[i·ars + p·acs]. */
#define A_AT(i, p) a[(size_t)(i) * ars + (size_t)(p) * acs]

/* C[i..i+R) [j, j + 16) = alpha · A B: R accumulators of 16 columns held in registers over the
 * sum's k terms, one function for each R the loops unroll on (a fused multiply-add takes four
 * cycles and two issue each cycle: eight rows keep them busy). */
#define TILE(R)                                                                                \
  static inline void tile##R(int i, int j, int k, const float *a, int ars, int acs,           \
                             const float *b, int ldb, float *c, int ldc, float alpha) {       \
    v16 acc[R] = {{0}};                                                                        \
    for (int p = 0; p < k; p++) {                                                              \
      const v16 bp = load16(b + (size_t)p * ldb + j);                                          \
      for (int r = 0; r < R; r++) acc[r] += A_AT(i + r, p) * bp;                               \
    }                                                                                          \
    for (int r = 0; r < R; r++) store16(c + (size_t)(i + r) * ldc + j, acc[r] * alpha);        \
  }
TILE(8)
TILE(4)
TILE(1)

/* C[m, n] = alpha · A B, A's value (i, p) at a[i·ars + p·acs], B [k, n] with rows ldb apart,
 * C with rows ldc apart: tiles of 8, 4 or 1 rows × 16 columns, the last columns (n mod 16) one
 * sum at a time. */
static void product(int m, int n, int k, const float *a, int ars, int acs, const float *b,
                    int ldb, float *c, int ldc, float alpha) {
  const int full = n & ~15;
  for (int i = 0, rows; i < m; i += rows) {
    rows = m - i >= 8 ? 8 : m - i >= 4 ? 4 : 1;
    for (int j = 0; j < full; j += 16) {
      if (rows == 8) tile8(i, j, k, a, ars, acs, b, ldb, c, ldc, alpha);
      else if (rows == 4) tile4(i, j, k, a, ars, acs, b, ldb, c, ldc, alpha);
      else tile1(i, j, k, a, ars, acs, b, ldb, c, ldc, alpha);
    }
    for (int r = i; r < i + rows; r++) {
      for (int j = full; j < n; j++) {
        float sum = 0.0f;
        for (int p = 0; p < k; p++) sum = fmaf(A_AT(r, p), b[(size_t)p * ldb + j], sum);
        c[(size_t)r * ldc + j] = sum * alpha;
      }
    }
  }
}

/* out [cols, ldo] = the transpose of the block x [rows, cols] (rows ld apart). */
static void transpose(const float *restrict x, int rows, int cols, int ld, int ldo,
                      float *restrict out) {
  for (int r = 0; r < rows; r++)
    for (int c = 0; c < cols; c++) out[(size_t)c * ldo + r] = x[(size_t)r * ld + c];
}

/* Softmax of each row of s [l, l] (rows lds apart) into alpha [l, l], after adding bias [l, l]
 * and mask [l] (either may be NULL): exponentials of the values less the row's maximum, times
 * 1 / their sum. */
static void softmax_rows(float *s, int lds, float *alpha, const float *bias, const float *mask,
                         int l) {
  for (int i = 0; i < l; i++) {
    float *restrict row = s + (size_t)i * lds;
    if (bias) {
      const float *restrict brow = bias + (size_t)i * l;
      for (int j = 0; j < l; j++) row[j] += brow[j];
    }
    if (mask) {
      for (int j = 0; j < l; j++) row[j] += mask[j];
    }
    float max = -INFINITY;
    for (int j = 0; j < l; j++) max = row[j] > max ? row[j] : max;
    float sum = 0.0f;
    for (int j = 0; j < l; j++) {
      const float e = exp_non_positive(row[j] - max);
      row[j] = e;
      sum += e;
    }
    const float inv = 1.0f / sum;
    float *restrict out = alpha + (size_t)i * l;
    for (int j = 0; j < l; j++) out[j] = row[j] * inv;
  }
}

typedef struct {
  const float *q, *k, *v, *bias, *mask, *drop, *dz, *alpha_in;
  float *z, *alpha, *dq, *dk, *dv, *dbias;
  int b, l, d, h, dh;
  float scale;
} attention_job;

/* Scratch of one thread: a transposed block t [dh, lp] whose columns past L stay 0, the logits
 * (or their gradient) s1 [L, lp], and s2 [L, L]; lp is L rounded up to 16, so the products into
 * s1 run in whole tiles. */
typedef struct {
  float *t, *s1, *s2;
  int lp;
} scratch_t;

static void scratch_alloc(scratch_t *w, int l, int dh) {
  w->lp = (l + 15) & ~15;
  const size_t t = (size_t)dh * w->lp, s1 = (size_t)l * w->lp, s2 = (size_t)l * l;
  w->t = calloc(t + s1 + s2, sizeof(float));
  if (!w->t) abort();
  w->s1 = w->t + t;
  w->s2 = w->s1 + s1;
}

/* The values of block (bi, hi): its first value in q, k, v and their gradients, and in the
 * [B, H, L, L] tensors. */
static size_t token_at(const attention_job *j, int bi, int hi) {
  return (size_t)bi * j->l * j->d + (size_t)hi * j->dh;
}

static size_t logit_at(const attention_job *j, int bi, int hi) {
  return ((size_t)bi * j->h + hi) * j->l * j->l;
}

static void forward_block(const attention_job *j, scratch_t *w, int bi, int hi) {
  const int l = j->l, d = j->d, dh = j->dh, lp = w->lp;
  const size_t ll = (size_t)l * l, at = token_at(j, bi, hi);
  float *alpha = j->alpha + logit_at(j, bi, hi);
  transpose(j->k + at, l, dh, d, lp, w->t);                                 /* Kᵀ [dh, lp] */
  product(l, lp, dh, j->q + at, d, 1, w->t, lp, w->s1, lp, j->scale);      /* S = scale·Q Kᵀ */
  softmax_rows(w->s1, lp, alpha, j->bias ? j->bias + (size_t)hi * ll : NULL,
               j->mask ? j->mask + (size_t)bi * l : NULL, l);               /* α */
  const float *p = alpha;
  if (j->drop) {                                                            /* α ⊙ drop */
    const float *restrict m = j->drop + logit_at(j, bi, hi);
    for (size_t i = 0; i < ll; i++) w->s2[i] = alpha[i] * m[i];
    p = w->s2;
  }
  product(l, dh, l, p, l, 1, j->v + at, d, j->z + at, d, 1.0f);            /* Z = α V */
}

static void forward_range(const void *p, int begin, int end) {
  const attention_job *j = p;
  scratch_t w;
  scratch_alloc(&w, j->l, j->dh);
  for (int n = begin; n < end; n++) forward_block(j, &w, n / j->h, n % j->h);
  free(w.t);
}

/* Per clip b and head h: α = softmax(scale·Q Kᵀ + bias_h + mask_b), z = (α ⊙ drop_bh) V;
 * bias [H, L, L], mask [B, L], drop [B, H, L, L] may each be NULL. */
void vatt_attention(const float *q, const float *k, const float *v, const float *bias,
                    const float *mask, const float *drop, float *z, float *alpha, int b, int l,
                    int d, int h, float scale) {
  attention_job j = {.q = q, .k = k, .v = v, .bias = bias, .mask = mask, .drop = drop, .z = z,
                     .alpha = alpha, .b = b, .l = l, .d = d, .h = h, .dh = d / h, .scale = scale};
  vatt_parallel_items(forward_range, &j, b * h, (long long)l * l * (d / h) / 8);
}

/* The logits' gradient of block (bi, hi) into w->s1 (rows lp apart); returns the probabilities
 * the values were multiplied by: α, or α ⊙ drop in w->s2. */
static const float *logits_grad(const attention_job *j, scratch_t *w, int bi, int hi) {
  const int l = j->l, d = j->d, dh = j->dh, lp = w->lp;
  const size_t at = token_at(j, bi, hi);
  const float *alpha = j->alpha_in + logit_at(j, bi, hi);
  transpose(j->v + at, l, dh, d, lp, w->t);                                 /* Vᵀ [dh, lp] */
  product(l, lp, dh, j->dz + at, d, 1, w->t, lp, w->s1, lp, 1.0f);         /* dα = dZ Vᵀ */
  const float *p = alpha;
  if (j->drop) {
    const float *m = j->drop + logit_at(j, bi, hi);
    for (int i = 0; i < l; i++) {
      float *restrict g = w->s1 + (size_t)i * lp, *restrict pr = w->s2 + (size_t)i * l;
      const float *restrict mr = m + (size_t)i * l, *restrict ar = alpha + (size_t)i * l;
      for (int c = 0; c < l; c++) {
        g[c] *= mr[c];
        pr[c] = ar[c] * mr[c];
      }
    }
    p = w->s2;
  }
  for (int i = 0; i < l; i++) { /* dS = α ⊙ (dα − Σ_j α_j dα_j), by rows */
    const float *restrict a = alpha + (size_t)i * l;
    float *restrict g = w->s1 + (size_t)i * lp;
    float dot = 0.0f;
    for (int c = 0; c < l; c++) dot += a[c] * g[c];
    for (int c = 0; c < l; c++) g[c] = a[c] * (g[c] - dot);
  }
  return p;
}

static void backward_block(const attention_job *j, scratch_t *w, int bi, int hi) {
  const int l = j->l, d = j->d, dh = j->dh, lp = w->lp;
  const size_t at = token_at(j, bi, hi);
  const float *p = logits_grad(j, w, bi, hi);
  if (j->dbias) {
    for (int i = 0; i < l; i++) {
      float *restrict acc = j->dbias + ((size_t)hi * l + i) * l;
      const float *restrict g = w->s1 + (size_t)i * lp;
      for (int c = 0; c < l; c++) acc[c] += g[c];
    }
  }
  product(l, dh, l, w->s1, lp, 1, j->k + at, d, j->dq + at, d, j->scale);  /* dQ = scale·dS K */
  product(l, dh, l, w->s1, 1, lp, j->q + at, d, j->dk + at, d, j->scale);  /* dK = scale·dSᵀ Q */
  product(l, dh, l, p, 1, l, j->dz + at, d, j->dv + at, d, 1.0f);          /* dV = αᵀ dZ */
}

/* Items are blocks (n = b·H + h), or with the bias's gradient heads, each over its clips in order. */
static void backward_range(const void *p, int begin, int end) {
  const attention_job *j = p;
  scratch_t w;
  scratch_alloc(&w, j->l, j->dh);
  for (int n = begin; n < end; n++) {
    if (j->dbias) {
      memset(j->dbias + (size_t)n * j->l * j->l, 0, (size_t)j->l * j->l * sizeof(float));
      for (int bi = 0; bi < j->b; bi++) backward_block(j, &w, bi, n);
    } else {
      backward_block(j, &w, n / j->h, n % j->h);
    }
  }
  free(w.t);
}

/* The gradients of vatt_attention: dq, dk, dv [B, L, D] and, where dbias is not NULL, the
 * position bias's [H, L, L] (the logits' gradient summed over the clips). */
void vatt_attention_grad(const float *dz, const float *q, const float *k, const float *v,
                         const float *alpha, const float *drop, float *dq, float *dk, float *dv,
                         float *dbias, int b, int l, int d, int h, float scale) {
  attention_job j = {.dz = dz, .q = q, .k = k, .v = v, .alpha_in = alpha, .drop = drop, .dq = dq,
                     .dk = dk, .dv = dv, .dbias = dbias, .b = b, .l = l, .d = d, .h = h,
                     .dh = d / h, .scale = scale};
  const long long work = (long long)l * l * (d / h) / 4;
  if (dbias) vatt_parallel_items(backward_range, &j, h, work * b);
  else vatt_parallel_items(backward_range, &j, b * h, work);
}

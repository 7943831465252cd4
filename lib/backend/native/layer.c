/*
 * One pre-LayerNorm encoder layer each way in one native call (lib/backend/kernels/
 * encoder_layer_native.ts): the same parts as the VattEncoderLayer macro (LayerNorm, the dense
 * layers' products on the BLAS, attention, GELU, the dropouts, the residual adds), but with the
 * layer's clips split over the pool's threads once per pass instead of each part split on its
 * own: a layer of the `tiny` model is too small for its parts to be worth waking a thread, and
 * large enough as a whole.
 *
 * Forward: each thread runs the whole layer on its clips (every part but attention is by rows,
 * attention by clip). Backward, in two jobs: first each thread takes its clips back through the
 * layer to dx, keeping the outputs' gradients of every weighted part; then the weights'
 * gradients (products over all rows, column sums), each product whole on whichever thread
 * claims it (on up to 3 threads) or split by columns. The position bias's gradient is summed
 * per part over its clips, then over the parts in order.
 *
 * The values are the macro's up to the order of sums: the BLAS may sum a product over a part's
 * rows in another order than over all of them, and the bias's gradient is summed in parts. They
 * depend on the number of threads, never on timing.
 *
 * Tensors are passed as byte offsets into the wasm heap (`at`, 0 where absent). Where switched
 * on, each part's time and each pass's is summed (phases.h; `tasks/profile_step.ts --phases`).
 */
#include <stdint.h>
#include <string.h>

#include "dropout_bits.h"
#include "gemm.h"
#include "kernels.h"
#include "phases.h"
#include "pool.h"
#include "row_stats.h"

/* The tensors of a call: indices into `at`. */
enum {
  T_X, /* the layer's input [B, L, D] */
  T_W, /* the 16 weights in LAYER_WEIGHTS's order (encoder_layer.ts): T_W + W_... */
  T_BIAS = T_W + 16, T_MASK, T_DROP, /* [H, L, L], [B, L], [B, H, L, L]; optional */
  T_OUT, T_H1, T_Q, T_K, T_V, T_ALPHA, T_Z, T_Y, T_H2, T_F1, T_CDF, T_INNER, /* the saved */
  T_DY, T_DX, T_DW, /* T_DW + W_...: the weights' gradients */
  T_DBIAS = T_DW + 16, T_SCRATCH, T_COUNT
};
enum { W_LN1G, W_LN1B, W_QK, W_QB, W_KK, W_KB, W_VK, W_VB, W_OK, W_OB, W_LN2G, W_LN2B,
       W_F1K, W_F1B, W_F2K, W_F2B };
/* `dims`: clips, tokens, width, heads, MLP width, and the parts the clips are split into. */
enum { D_B, D_L, D_D, D_H, D_M, D_PARTS };
/* `reals`: LayerNorm's ε, the logits' scale; `drops`: per dropout (after attention, inside
 * the MLP, after it) {on, offset, k1, k2, threshold} and its scale in reals[2 + i]. */

typedef struct {
  uint32_t on, offset, k1, k2, threshold;
  float scale;
} drop_arg;

typedef struct {
  uint8_t *heap;
  const uint32_t *at;
  int b, l, d, h, m, parts;
  float eps, scale;
  drop_arg drop[3];
} layer_t;

static float *tensor(const layer_t *c, int i) {
  return c->at[i] ? (float *)(c->heap + c->at[i]) : NULL;
}

static layer_t layer_of(uint8_t *heap, const uint32_t *at, const int32_t *dims,
                        const float *reals, const uint32_t *drops) {
  layer_t c = {.heap = heap, .at = at, .b = dims[D_B], .l = dims[D_L], .d = dims[D_D],
               .h = dims[D_H], .m = dims[D_M], .parts = dims[D_PARTS], .eps = reals[0],
               .scale = reals[1]};
  for (int i = 0; i < 3; i++) {
    const uint32_t *p = drops + 5 * i;
    c.drop[i] = (drop_arg){p[0], p[1], p[2], p[3], p[4], reals[2 + i]};
  }
  return c;
}

/* The mask of dropout `a` from position `first` of its tensor on. */
static drop_t mask_from(const drop_arg *a, size_t first) {
  return make_drop(a->offset + (uint32_t)first, a->k1, a->k2, a->threshold, a->scale);
}

/* y [rows, n] = x [rows, k] · w [k, n] + bias: the bias in every row, then the product added. */
static void dense_rows(const float *x, int rows, int k, const float *w, const float *bias, int n,
                       float *y) {
  if (bias)
    for (int r = 0; r < rows; r++) memcpy(y + (size_t)r * n, bias, (size_t)n * sizeof(float));
  vatt_sgemm_here(0, 0, rows, n, k, 1.0f, x, k, w, n, bias ? 1.0f : 0.0f, y, n);
}

/* t = x + t ⊙ mask over n values from position `first` (a residual after a dropout). */
static void add_dropped(const float *restrict x, float *restrict t, size_t n, const drop_arg *a,
                        size_t first) {
  if (!a->on) {
    for (size_t i = 0; i < n; i++) t[i] = x[i] + t[i];
    return;
  }
  const drop_t m = mask_from(a, first);
  for (size_t i = 0; i < n; i++) t[i] = x[i] + t[i] * drop_mask(&m, (int)i);
}

/* out = g ⊙ mask over n values from position `first`; g itself without the dropout. */
static const float *dropped(const float *restrict g, float *restrict out, size_t n,
                            const drop_arg *a, size_t first) {
  if (!a->on) return g;
  const drop_t m = mask_from(a, first);
  for (size_t i = 0; i < n; i++) out[i] = g[i] * drop_mask(&m, (int)i);
  return out;
}

/* The layer forward on clips [s0, s1). */
static void forward_clips(const layer_t *c, int s0, int s1) {
  const int l = c->l, d = c->d, m = c->m, h = c->h, rows = (s1 - s0) * l;
  const size_t r0 = (size_t)s0 * l, a0 = (size_t)s0 * h * l * l;
  const float *x = tensor(c, T_X) + r0 * d, *w[16];
  for (int i = 0; i < 16; i++) w[i] = tensor(c, T_W + i);
  float *h1 = tensor(c, T_H1) + r0 * d, *q = tensor(c, T_Q) + r0 * d;
  float *k = tensor(c, T_K) + r0 * d, *v = tensor(c, T_V) + r0 * d;
  float *z = tensor(c, T_Z) + r0 * d, *y = tensor(c, T_Y) + r0 * d;
  float *h2 = tensor(c, T_H2) + r0 * d, *out = tensor(c, T_OUT) + r0 * d;
  float *f1 = tensor(c, T_F1) + r0 * m, *cdf = tensor(c, T_CDF) + r0 * m;
  float *inner = tensor(c, T_INNER) + r0 * m;
  const float *mask = tensor(c, T_MASK), *drop = tensor(c, T_DROP);
  long long t = phase_start();
  vatt_layer_norm(x, w[W_LN1G], w[W_LN1B], h1, rows, d, c->eps);
  phase(PH_NORM, &t);
  dense_rows(h1, rows, d, w[W_QK], w[W_QB], d, q);
  dense_rows(h1, rows, d, w[W_KK], w[W_KB], d, k);
  dense_rows(h1, rows, d, w[W_VK], w[W_VB], d, v);
  phase(PH_QKV, &t);
  vatt_attention(q, k, v, tensor(c, T_BIAS), mask ? mask + r0 : NULL, drop ? drop + a0 : NULL, z,
                 tensor(c, T_ALPHA) + a0, s1 - s0, l, d, h, c->scale);
  phase(PH_ATTENTION, &t);
  dense_rows(z, rows, d, w[W_OK], w[W_OB], d, y);
  phase(PH_OUT, &t);
  add_dropped(x, y, (size_t)rows * d, &c->drop[0], r0 * d); /* y = x + Drop(o(z)) */
  phase(PH_RESIDUAL, &t);
  vatt_layer_norm(y, w[W_LN2G], w[W_LN2B], h2, rows, d, c->eps);
  phase(PH_NORM, &t);
  dense_rows(h2, rows, d, w[W_F1K], w[W_F1B], m, f1);
  phase(PH_MLP, &t);
  const drop_arg *g = &c->drop[1];
  if (g->on)
    vatt_gelu_dropout(f1, inner, cdf, rows * m, g->offset + (uint32_t)(r0 * m), g->k1, g->k2,
                      g->threshold, g->scale);
  else vatt_gelu(f1, inner, cdf, rows * m);
  phase(PH_GELU, &t);
  dense_rows(inner, rows, m, w[W_F2K], w[W_F2B], d, out);
  phase(PH_MLP, &t);
  add_dropped(y, out, (size_t)rows * d, &c->drop[2], r0 * d); /* out = y + Drop(fc2(…)) */
  phase(PH_RESIDUAL, &t);
}

static void forward_parts(const void *p, int begin, int end) {
  const layer_t *c = p;
  for (int u = begin; u < end; u++) {
    forward_clips(c, (int)((long long)c->b * u / c->parts),
                  (int)((long long)c->b * (u + 1) / c->parts));
  }
}

/* VattEncoderLayer: out and the saved tensors (encoder_layer.ts's LAYER_SAVED). */
void vatt_encoder_layer(uint8_t *heap, const uint32_t *at, const int32_t *dims,
                        const float *reals, const uint32_t *drops) {
  layer_t c = layer_of(heap, at, dims, reals, drops);
  vatt_blas_one_thread();
  long long t = phase_start();
  vatt_parallel_each(forward_parts, &c, c.parts);
  phase(PH_FORWARD_WALL, &t);
}

/* ---------------------------------------------------------------------------------------
 * The backward pass.
 * --------------------------------------------------------------------------------------- */

/* The backward pass's scratch (floats of T_SCRATCH, in this order; R = B·L rows): the
 * gradients of fc2's, fc1's, o's, q's, k's and v's outputs and of LN₂'s and LN₁'s outputs,
 * which the weights' gradients need ([R, D], fc1's [R, M]); dInner [R, M], dY and dZ [R, D]
 * on the way; both LayerNorms' row means and 1/σ [R]; the bias's gradient per part. */
typedef struct {
  float *df2, *df1, *da, *dq, *dk, *dv, *dh2, *dh1, *dinner, *dyy, *dz;
  float *mean1, *rstd1, *mean2, *rstd2, *dbias_parts;
} grads_t;

static grads_t grads_of(const layer_t *c) {
  const size_t rd = (size_t)c->b * c->l * c->d, rm = (size_t)c->b * c->l * c->m;
  const size_t rows = (size_t)c->b * c->l;
  float *s = tensor(c, T_SCRATCH);
  grads_t g;
  g.df2 = s, s += rd;
  g.df1 = s, s += rm;
  g.da = s, s += rd;
  g.dq = s, s += rd;
  g.dk = s, s += rd;
  g.dv = s, s += rd;
  g.dh2 = s, s += rd;
  g.dh1 = s, s += rd;
  g.dinner = s, s += rm;
  g.dyy = s, s += rd;
  g.dz = s, s += rd;
  g.mean1 = s, s += rows;
  g.rstd1 = s, s += rows;
  g.mean2 = s, s += rows;
  g.rstd2 = s, s += rows;
  g.dbias_parts = s;
  return g;
}

/* LayerNorm's input gradient dx of rows [rows, d] (as kernels.as.ts's layerNormGrad), keeping
 * each row's mean and 1/σ for γ's gradient. */
static void layer_norm_dx(const float *x, const float *gamma, const float *dy, float *dx,
                          float *mean_out, float *rstd_out, int rows, int d, float eps) {
  for (int r = 0; r < rows; r++) {
    const float *restrict xr = x + (size_t)r * d, *restrict g = dy + (size_t)r * d;
    float *restrict out = dx + (size_t)r * d;
    float mean, rstd;
    row_stats(xr, d, eps, &mean, &rstd);
    mean_out[r] = mean;
    rstd_out[r] = rstd;
    float acc_g[4] = {0, 0, 0, 0}, acc_gx[4] = {0, 0, 0, 0};
    int j = 0;
    for (; j + 4 <= d; j += 4)
      for (int t = 0; t < 4; t++) {
        const float gy = g[j + t] * gamma[j + t];
        acc_g[t] += gy;
        acc_gx[t] += gy * ((xr[j + t] - mean) * rstd);
      }
    float sum_g = lane_sum(acc_g), sum_gx = lane_sum(acc_gx);
    for (; j < d; j++) {
      const float gy = g[j] * gamma[j];
      sum_g += gy;
      sum_gx += gy * ((xr[j] - mean) * rstd);
    }
    const float mean_g = sum_g / (float)d, mean_gx = sum_gx / (float)d;
    for (j = 0; j < d; j++) {
      const float xhat = (xr[j] - mean) * rstd;
      out[j] = rstd * ((g[j] * gamma[j] - mean_g) - xhat * mean_gx);
    }
  }
}

/* a += b over n values. */
static void add_into(float *restrict a, const float *restrict b, size_t n) {
  for (size_t i = 0; i < n; i++) a[i] = b[i] + a[i];
}

/* Clips [s0, s1) back through the layer (part u): dx, and the gradients kept in `g`. */
static void backward_clips(const layer_t *c, const grads_t *g, int s0, int s1, int u) {
  const int l = c->l, d = c->d, m = c->m, h = c->h, rows = (s1 - s0) * l;
  const size_t r0 = (size_t)s0 * l, rd = r0 * d, rm = r0 * m, a0 = (size_t)s0 * h * l * l;
  const size_t nd = (size_t)rows * d;
  const float *w[16];
  for (int i = 0; i < 16; i++) w[i] = tensor(c, T_W + i);
  const float *dy = tensor(c, T_DY) + rd;
  float *dx = tensor(c, T_DX) + rd, *dyy = g->dyy + rd, *dh1 = g->dh1 + rd, *dh2 = g->dh2 + rd;
  /* The MLP branch: out = y + Drop(fc2(Drop(GELU(fc1(LN₂(y)))))). */
  long long t = phase_start();
  const float *df2 = dropped(dy, g->df2 + rd, nd, &c->drop[2], rd);
  phase(PH_RESIDUAL_DX, &t);
  vatt_sgemm_here(0, 1, rows, m, d, 1.0f, df2, d, w[W_F2K], d, 0.0f, g->dinner + rm, m);
  phase(PH_MLP_DX, &t);
  const drop_arg *gd = &c->drop[1];
  const float *f1 = tensor(c, T_F1) + rm, *cdf = tensor(c, T_CDF) + rm;
  if (gd->on)
    vatt_gelu_grad_dropout(f1, cdf, g->dinner + rm, g->df1 + rm, rows * m,
                           gd->offset + (uint32_t)rm, gd->k1, gd->k2, gd->threshold, gd->scale);
  else vatt_gelu_grad(f1, cdf, g->dinner + rm, g->df1 + rm, rows * m);
  phase(PH_GELU_DX, &t);
  vatt_sgemm_here(0, 1, rows, d, m, 1.0f, g->df1 + rm, m, w[W_F1K], m, 0.0f, dh2, d);
  phase(PH_MLP_DX, &t);
  layer_norm_dx(tensor(c, T_Y) + rd, w[W_LN2G], dh2, dyy, g->mean2 + r0, g->rstd2 + r0, rows, d,
                c->eps);
  phase(PH_NORM_DX, &t);
  add_into(dyy, dy, nd); /* dY = dy + LN₂'s dx */
  /* The attention branch: y = x + Drop(o(MHA(LN₁(x)))). */
  const float *da = dropped(dyy, g->da + rd, nd, &c->drop[0], rd);
  phase(PH_RESIDUAL_DX, &t);
  vatt_sgemm_here(0, 1, rows, d, d, 1.0f, da, d, w[W_OK], d, 0.0f, g->dz + rd, d);
  phase(PH_OUT_DX, &t);
  const size_t ll = (size_t)l * l;
  float *dbias = tensor(c, T_DBIAS) ? g->dbias_parts + (size_t)u * h * ll : NULL;
  const float *drop = tensor(c, T_DROP);
  vatt_attention_grad(g->dz + rd, tensor(c, T_Q) + rd, tensor(c, T_K) + rd, tensor(c, T_V) + rd,
                      tensor(c, T_ALPHA) + a0, drop ? drop + a0 : NULL, g->dq + rd, g->dk + rd,
                      g->dv + rd, dbias, s1 - s0, l, d, h, c->scale);
  phase(PH_ATTENTION_DX, &t);
  /* LN₁'s output gradient summed as the engine sums it: (v + k) + q. */
  vatt_sgemm_here(0, 1, rows, d, d, 1.0f, g->dv + rd, d, w[W_VK], d, 0.0f, dh1, d);
  vatt_sgemm_here(0, 1, rows, d, d, 1.0f, g->dk + rd, d, w[W_KK], d, 1.0f, dh1, d);
  vatt_sgemm_here(0, 1, rows, d, d, 1.0f, g->dq + rd, d, w[W_QK], d, 1.0f, dh1, d);
  phase(PH_QKV_DX, &t);
  layer_norm_dx(tensor(c, T_X) + rd, w[W_LN1G], dh1, dx, g->mean1 + r0, g->rstd1 + r0, rows, d,
                c->eps);
  phase(PH_NORM_DX, &t);
  add_into(dx, dyy, nd); /* dx = dY + LN₁'s dx */
  phase(PH_RESIDUAL_DX, &t);
}

typedef struct {
  const layer_t *c;
  const grads_t *g;
} backward_job;

static void backward_parts(const void *p, int begin, int end) {
  const backward_job *j = p;
  const layer_t *c = j->c;
  for (int u = begin; u < end; u++) {
    backward_clips(c, j->g, (int)((long long)c->b * u / c->parts),
                   (int)((long long)c->b * (u + 1) / c->parts), u);
  }
}

/* Columns [lo, hi) of n for slice u of `slices`, in runs of 16. */
static void columns(int n, int u, int slices, int *lo, int *hi) {
  const int chunk = ((n + slices - 1) / slices + 15) & ~15;
  *lo = u * chunk < n ? u * chunk : n;
  *hi = (u + 1) * chunk < n ? (u + 1) * chunk : n;
}

/* out[j] = Σ_r g[r, j] for j in [lo, hi), the rows in order. */
static void column_sums(const float *g, int rows, int n, int lo, int hi, float *out) {
  for (int j = lo; j < hi; j++) out[j] = 0.0f;
  for (int r = 0; r < rows; r++) {
    const float *restrict row = g + (size_t)r * n;
    float *restrict acc = out;
    for (int j = lo; j < hi; j++) acc[j] += row[j];
  }
}

/* A LayerNorm's γ and β gradients over columns [lo, hi): Σ_r dy·x̂ and Σ_r dy. */
static void layer_norm_dw(const float *x, const float *dy, const float *mean, const float *rstd,
                          int rows, int d, int lo, int hi, float *dgamma, float *dbeta) {
  for (int j = lo; j < hi; j++) dgamma[j] = dbeta[j] = 0.0f;
  for (int r = 0; r < rows; r++) {
    const float *restrict xr = x + (size_t)r * d, *restrict g = dy + (size_t)r * d;
    float *restrict dg = dgamma, *restrict db = dbeta;
    const float mu = mean[r], s = rstd[r];
    for (int j = lo; j < hi; j++) {
      dg[j] += g[j] * ((xr[j] - mu) * s);
      db[j] += g[j];
    }
  }
}

/* Up to this many threads, each weight's product runs whole, one range of the job each, the
 * largest first (fc1, fc2, then the four d × d), claimed by whichever thread is free: no two
 * threads pack the same input, and a thread the host delays takes fewer. Beyond, every product
 * is split by columns, one slice a thread. Either way a product's values do not depend on which
 * thread computes it. */
enum { WHOLE_PRODUCTS_MAX_THREADS = 3, PRODUCTS = 6 };

/* The six weights' products dW = xᵀ dy [k, n] and their bias gradients Σ_rows dy. */
typedef struct {
  const float *x, *dy;
  int k, n, w;
} weight_product;

static void weight_products(const layer_t *c, const grads_t *g, weight_product out[PRODUCTS]) {
  const int d = c->d, m = c->m;
  const float *df2 = c->drop[2].on ? g->df2 : tensor(c, T_DY);
  const float *da = c->drop[0].on ? g->da : g->dyy;
  const float *h1 = tensor(c, T_H1);
  /* the largest first */
  out[0] = (weight_product){tensor(c, T_H2), g->df1, d, m, W_F1K};
  out[1] = (weight_product){tensor(c, T_INNER), df2, m, d, W_F2K};
  out[2] = (weight_product){h1, g->dq, d, d, W_QK};
  out[3] = (weight_product){h1, g->dk, d, d, W_KK};
  out[4] = (weight_product){h1, g->dv, d, d, W_VK};
  out[5] = (weight_product){tensor(c, T_Z), da, d, d, W_OK};
}

/* Columns [lo, hi) of product p's weight and bias gradients. */
static void product_columns(const layer_t *c, const weight_product *p, int lo, int hi) {
  if (hi <= lo) return;
  const int rows = c->b * c->l;
  float *dw = tensor(c, T_DW + p->w);
  vatt_sgemm_here(1, 0, p->k, hi - lo, rows, 1.0f, p->x, p->k, p->dy + lo, p->n, 0.0f, dw + lo,
                  p->n);
  column_sums(p->dy, rows, p->n, lo, hi, tensor(c, T_DW + p->w + 1));
}

/* Slice u of `slices` of the LayerNorms' γ and β gradients and of the bias's gradient. */
static void norms_slice(const layer_t *c, const grads_t *g, int u, int slices) {
  const int d = c->d, rows = c->b * c->l;
  int lo, hi;
  columns(d, u, slices, &lo, &hi);
  layer_norm_dw(tensor(c, T_X), g->dh1, g->mean1, g->rstd1, rows, d, lo, hi,
                tensor(c, T_DW + W_LN1G), tensor(c, T_DW + W_LN1B));
  layer_norm_dw(tensor(c, T_Y), g->dh2, g->mean2, g->rstd2, rows, d, lo, hi,
                tensor(c, T_DW + W_LN2G), tensor(c, T_DW + W_LN2B));
  float *dbias = tensor(c, T_DBIAS);
  if (!dbias) return;
  const int n = c->h * c->l * c->l; /* the parts' sums added in order */
  columns(n, u, slices, &lo, &hi);
  for (int j = lo; j < hi; j++) {
    float acc = g->dbias_parts[j];
    for (int p = 1; p < c->parts; p++) acc += g->dbias_parts[(size_t)p * n + j];
    dbias[j] = acc;
  }
}

typedef struct {
  const layer_t *c;
  const grads_t *g;
  weight_product products[PRODUCTS];
  int slices, whole;
} weights_job;

/* Ranges of the weights' job: with whole products, range r < 6 is product r and the rest the
 * norms' slices; else range u is column slice u of everything. */
static void weights_parts(const void *p, int begin, int end) {
  const weights_job *j = p;
  long long t = phase_start();
  for (int r = begin; r < end; r++) {
    if (j->whole) {
      if (r < PRODUCTS) product_columns(j->c, &j->products[r], 0, j->products[r].n);
      else norms_slice(j->c, j->g, r - PRODUCTS, j->slices);
      phase(r < PRODUCTS ? PH_WEIGHT_PRODUCTS : PH_NORM_WEIGHTS, &t);
      continue;
    }
    for (int i = 0; i < PRODUCTS; i++) {
      int lo, hi;
      columns(j->products[i].n, r, j->slices, &lo, &hi);
      product_columns(j->c, &j->products[i], lo, hi);
    }
    phase(PH_WEIGHT_PRODUCTS, &t);
    norms_slice(j->c, j->g, r, j->slices);
    phase(PH_NORM_WEIGHTS, &t);
  }
}

/* The floats of scratch vatt_encoder_layer_grad needs (T_SCRATCH), for `dims` with or without
 * the bias's gradient. */
long long vatt_encoder_layer_scratch(const int32_t *dims, int with_bias) {
  const long long rows = (long long)dims[D_B] * dims[D_L];
  const long long ll = (long long)dims[D_L] * dims[D_L];
  return rows * (9LL * dims[D_D] + 2LL * dims[D_M] + 4) +
         (with_bias ? (long long)dims[D_PARTS] * dims[D_H] * ll : 0);
}

/* VattEncoderLayerGrad: dx and the weights' gradients (and the bias's with T_DBIAS). */
void vatt_encoder_layer_grad(uint8_t *heap, const uint32_t *at, const int32_t *dims,
                             const float *reals, const uint32_t *drops) {
  layer_t c = layer_of(heap, at, dims, reals, drops);
  grads_t g = grads_of(&c);
  vatt_blas_one_thread();
  backward_job back = {&c, &g};
  long long t = phase_start();
  vatt_parallel_each(backward_parts, &back, c.parts);
  phase(PH_BACKWARD_WALL, &t);
  weights_job weights = {.c = &c, .g = &g, .slices = vatt_threads()};
  weights.whole = weights.slices <= WHOLE_PRODUCTS_MAX_THREADS;
  weight_products(&c, &g, weights.products);
  vatt_parallel_each(weights_parts, &weights, weights.slices + (weights.whole ? PRODUCTS : 0));
  phase(PH_WEIGHTS_WALL, &t);
}

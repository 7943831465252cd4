/*
 * Large matrix products split over the pool's threads, each part one call of the BLAS's
 * cblas_sgemm on one thread (lib/backend/blas.ts binds the library it loaded and sets it to
 * one thread). One pool then runs all of the process's parallel work: the BLAS's own threads,
 * which poll for work for up to about 0.1 s after each product, no longer take the cores the
 * pool's kernels need between two products.
 *
 * A product C [m, n] is split into as many parts as the pool has threads, each a run of bands of
 * 16 rows (when m ≥ n) or 16 columns. The BLAS may sum a part's values in another order than the
 * whole product's (it picks its kernels by size): the bits depend on the number of threads, as
 * with the BLAS's own threads, never on timing (pool.c computes the same parts when it is busy).
 */
#include <dlfcn.h>
#include <stddef.h>

#include "gemm.h"
#include "pool.h"

/* cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc). */
typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *,
                         int, float, float *, int);

static sgemm_fn sgemm;
/* openblas_set_num_threads and openblas_get_num_threads, where the library has them. */
static void (*blas_set_threads)(int);
static int (*blas_get_threads)(void);

enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112, BAND = 16 };

/* Binds cblas_sgemm of the library at `path`, which the process has already loaded; 1 when
 * bound. */
int vatt_blas_bind(const char *path) {
  void *lib = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
  if (!lib) return 0;
  sgemm = (sgemm_fn)dlsym(lib, "cblas_sgemm");
  blas_set_threads = (void (*)(int))dlsym(lib, "openblas_set_num_threads");
  blas_get_threads = (int (*)(void))dlsym(lib, "openblas_get_num_threads");
  return sgemm != NULL;
}

typedef struct {
  int trans_a, trans_b, m, n, k, lda, ldb, ldc, by_rows;
  float alpha, beta;
  const float *a, *b;
  float *c;
} gemm_job;

static void gemm_bands(const void *p, int begin, int end) {
  const gemm_job *j = p;
  const int size = j->by_rows ? j->m : j->n;
  const int lo = begin * BAND, hi = end * BAND < size ? end * BAND : size;
  if (hi <= lo) return;
  const int ta = j->trans_a ? TRANS : NO_TRANS, tb = j->trans_b ? TRANS : NO_TRANS;
  if (j->by_rows) { /* rows lo..hi of op(A) and C */
    const float *a = j->a + (j->trans_a ? (size_t)lo : (size_t)lo * j->lda);
    sgemm(ROW_MAJOR, ta, tb, hi - lo, j->n, j->k, j->alpha, a, j->lda, j->b, j->ldb, j->beta,
          j->c + (size_t)lo * j->ldc, j->ldc);
  } else { /* columns lo..hi of op(B) and C */
    const float *b = j->b + (j->trans_b ? (size_t)lo * j->ldb : (size_t)lo);
    sgemm(ROW_MAJOR, ta, tb, j->m, hi - lo, j->k, j->alpha, j->a, j->lda, b, j->ldb, j->beta,
          j->c + lo, j->ldc);
  }
}

/* C = alpha·op(A)·op(B) + beta·C (row-major, as cblas_sgemm), split over every thread. */
void vatt_sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                int lda, const float *b, int ldb, float beta, float *c, int ldc) {
  gemm_job j = {trans_a, trans_b, m, n, k, lda, ldb, ldc, m >= n, alpha, beta, a, b, c};
  const int size = m >= n ? m : n;
  vatt_parallel_all(gemm_bands, &j, (size + BAND - 1) / BAND);
}

void vatt_sgemm_here(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc) {
  sgemm(ROW_MAJOR, trans_a ? TRANS : NO_TRANS, trans_b ? TRANS : NO_TRANS, m, n, k, alpha, a, lda,
        b, ldb, beta, c, ldc);
}

void vatt_blas_one_thread(void) {
  if (blas_get_threads && blas_set_threads && blas_get_threads() != 1) blas_set_threads(1);
}

/* 1 where the CPU is AMD's and has AVX-512, else 0: lib/backend/blas_core.ts then asks OpenBLAS
 * for its AVX2 kernels, faster there than the AVX-512 ones it picks (no permission needed, where
 * reading /proc/cpuinfo needs all of Deno's). */
int vatt_cpu_amd_avx512(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  return __builtin_cpu_is("amd") && __builtin_cpu_supports("avx512f");
#else
  return 0;
#endif
}

/*
 * The BLAS's product on the calling thread, for kernels that split their own work over the pool
 * (layer.c); gemm.c binds the library (vatt_blas_bind).
 */
#ifndef VATT_GEMM_H
#define VATT_GEMM_H

/* C = alpha·op(A)·op(B) + beta·C (row-major, as cblas_sgemm), one BLAS call on this thread. */
void vatt_sgemm_here(int trans_a, int trans_b, int m, int n, int k, float alpha, const float *a,
                     int lda, const float *b, int ldb, float beta, float *c, int ldc);

/* Sets the BLAS to one thread of its own where it has that setting (OpenBLAS): the parts that
 * call vatt_sgemm_here from the pool's threads must not start the BLAS's threads. */
void vatt_blas_one_thread(void);

#endif

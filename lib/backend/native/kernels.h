/*
 * The native kernels other kernels call (kernels.c, attention.c): each splits its work over the
 * pool, or, called from a part of another pool job, runs on the calling thread (pool.c).
 */
#ifndef VATT_KERNELS_H
#define VATT_KERNELS_H

#include <stdint.h>

void vatt_gelu(const float *x, float *y, float *cdf, int n);
void vatt_gelu_dropout(const float *x, float *y, float *cdf, int n, uint32_t offset, uint32_t k1,
                       uint32_t k2, uint32_t threshold, float scale);
void vatt_gelu_grad(const float *x, const float *cdf, const float *dy, float *dx, int n);
void vatt_gelu_grad_dropout(const float *x, const float *cdf, const float *dy, float *dx, int n,
                            uint32_t offset, uint32_t k1, uint32_t k2, uint32_t threshold,
                            float scale);
void vatt_layer_norm(const float *x, const float *gamma, const float *beta, float *y, int rows,
                     int d, float epsilon);
void vatt_attention(const float *q, const float *k, const float *v, const float *bias,
                    const float *mask, const float *drop, float *z, float *alpha, int b, int l,
                    int d, int h, float scale);
void vatt_attention_grad(const float *dz, const float *q, const float *k, const float *v,
                         const float *alpha, const float *drop, float *dq, float *dk, float *dv,
                         float *dbias, int b, int l, int d, int h, float scale);

#endif

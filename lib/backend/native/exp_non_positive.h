/*
 * exp(z) for z ≤ 0 as the SIMD module computes it (expNonPositive4 in
 * lib/backend/simd/kernels.as.ts): z clamped to −87, 2^k by the exponent's bits, a degree-6
 * polynomial on the rest; constants as AssemblyScript folds them.
 */
#ifndef VATT_EXP_NON_POSITIVE_H
#define VATT_EXP_NON_POSITIVE_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static const float LOG2E = (float)1.4426950408889634, LN2_HI = (float)0.693145751953125,
  LN2_LO = (float)1.4286068203094173e-6, E6 = (float)(1.0 / 720), E5 = (float)(1.0 / 120),
  E4 = (float)(1.0 / 24), E3 = (float)(1.0 / 6);

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

#endif

/*
 * A LayerNorm row's mean and 1/√(variance + ε), as kernels.as.ts's rowStats sums: in four lanes
 * (value j in lane j % 4 up to the last multiple of 4), the lanes added as (l0 + l1) + (l2 + l3),
 * then the rest in order (kernels.c's LayerNorm, layer.c's encoder layer).
 */
#ifndef VATT_ROW_STATS_H
#define VATT_ROW_STATS_H

#include <math.h>

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

#endif

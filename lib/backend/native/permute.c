/*
 * A transpose of any rank as a copy in runs (lib/backend/kernels/wasm.ts calls it for the ranks
 * tfjs-backend-wasm moves one index computation a value, the video tokenizer's rank-6 patch cut
 * among them): the output is written in order, each run along its last axis one memcpy where
 * that axis is contiguous in the input too, else one value at a time. A copy: the same bits
 * whatever the order.
 */
#include <stdint.h>
#include <string.h>

#define MAX_RANK 16

/* n values of `bytes` bytes, `step` bytes apart in src, into consecutive places of dst. */
static void copy_strided(uint8_t *dst, const uint8_t *src, size_t n, size_t step, int bytes) {
  if (bytes == 4) {
    for (size_t j = 0; j < n; j++) memcpy(dst + 4 * j, src + j * step, 4);
  } else {
    for (size_t j = 0; j < n; j++) memcpy(dst + j * bytes, src + j * step, (size_t)bytes);
  }
}

/* dst = src (row-major `shape`, values of `bytes` bytes) with its axes in the order `perm`:
 * output axis i is input axis perm[i]. Ranks above MAX_RANK are left to the caller (returns 0;
 * 1 when copied). */
int vatt_permute(const uint8_t *src, uint8_t *dst, const int32_t *shape, const int32_t *perm,
                 int rank, int bytes) {
  if (rank < 1 || rank > MAX_RANK) return 0;
  size_t in_strides[MAX_RANK], steps[MAX_RANK], extents[MAX_RANK], index[MAX_RANK];
  size_t stride = (size_t)bytes, runs = 1;
  for (int d = rank - 1; d >= 0; d--) {
    in_strides[d] = stride;
    stride *= (size_t)shape[d];
  }
  for (int d = 0; d < rank; d++) {
    steps[d] = in_strides[perm[d]]; /* the input's step per output axis d */
    extents[d] = (size_t)shape[perm[d]];
    index[d] = 0;
    if (d < rank - 1) runs *= extents[d];
  }
  if (stride == 0) return 1; /* no values */
  const size_t inner = extents[rank - 1], step = steps[rank - 1], run_bytes = inner * bytes;
  size_t base = 0;
  for (size_t r = 0; r < runs; r++) {
    if (step == (size_t)bytes) memcpy(dst, src + base, run_bytes);
    else copy_strided(dst, src + base, inner, step, bytes);
    dst += run_bytes;
    for (int d = rank - 2; d >= 0; d--) { /* the next run's first value in the input */
      base += steps[d];
      if (++index[d] < extents[d]) break;
      base -= steps[d] * extents[d];
      index[d] = 0;
    }
  }
  return 1;
}

/*
 * Dropout's bits, as lib/util/counter_bits.ts draws them: the keep-mask value of position i from
 * a counter hashed with the call's keys (kernels.c's dropout kernels, layer.c's encoder layer).
 */
#ifndef VATT_DROPOUT_BITS_H
#define VATT_DROPOUT_BITS_H

#include <stdint.h>

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

static inline drop_t make_drop(uint32_t offset, uint32_t k1, uint32_t k2,
                               uint32_t threshold, float scale) {
  drop_t d = {offset + k1, k2, threshold, scale};
  return d;
}

#endif

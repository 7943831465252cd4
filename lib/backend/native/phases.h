/*
 * Where the encoder layer's native passes (layer.c) spend their time: each part's time summed
 * over the pool's threads, and each pass's wall time, for `tasks/profile_step.ts --phases` (the
 * per-kernel profile sees a layer as one kernel). Off unless switched on (vatt_layer_phases); off,
 * a mark costs one relaxed load. The order is LAYER_PHASES's in native.ts.
 */
#ifndef VATT_PHASES_H
#define VATT_PHASES_H

#include <stdatomic.h>

enum {
  /* forward, by clips */
  PH_NORM, PH_QKV, PH_ATTENTION, PH_OUT, PH_MLP, PH_GELU, PH_RESIDUAL,
  /* backward, by clips */
  PH_MLP_DX, PH_GELU_DX, PH_NORM_DX, PH_OUT_DX, PH_ATTENTION_DX, PH_QKV_DX, PH_RESIDUAL_DX,
  /* the weights' gradients */
  PH_WEIGHT_PRODUCTS, PH_NORM_WEIGHTS,
  /* each pass's wall time on the calling thread */
  PH_FORWARD_WALL, PH_BACKWARD_WALL, PH_WEIGHTS_WALL,
  PH_COUNT
};

extern atomic_int vatt_phases_on;

long long vatt_phase_clock(void);
void vatt_phase_add(int phase, long long *since);

/* The clock where timing is on, else 0. */
static inline long long phase_start(void) {
  return atomic_load_explicit(&vatt_phases_on, memory_order_relaxed) ? vatt_phase_clock() : 0;
}

/* Adds the time since *since to phase p and restarts *since (nothing where it is 0). */
static inline void phase(int p, long long *since) {
  if (*since) vatt_phase_add(p, since);
}

#endif

/* The sums behind phases.h. */
#include <time.h>

#include "phases.h"

atomic_int vatt_phases_on;
static atomic_llong phase_ns[PH_COUNT];

long long vatt_phase_clock(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

void vatt_phase_add(int p, long long *since) {
  const long long now = vatt_phase_clock();
  atomic_fetch_add_explicit(&phase_ns[p], now - *since, memory_order_relaxed);
  *since = now;
}

/* Switches the timing on (1) or off (0), moves the sums so far (nanoseconds) into out[PH_COUNT]
 * where out is not NULL and zeroes them; returns PH_COUNT. */
int vatt_layer_phases(int on, long long *out) {
  atomic_store(&vatt_phases_on, on);
  for (int i = 0; i < PH_COUNT; i++) {
    const long long ns = atomic_exchange(&phase_ns[i], 0);
    if (out) out[i] = ns;
  }
  return PH_COUNT;
}

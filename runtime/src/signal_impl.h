/* The signal's layout, shared by the files that embed one. */
#ifndef KNIT_SIGNAL_IMPL_H
#define KNIT_SIGNAL_IMPL_H

#include <stdint.h>

#include "atomic.h"

struct knit_signal {
  _Alignas(KNIT_CACHELINE) uint32_t seq; /* the futex word, bumped per wake */
  uint32_t waiters;                      /* threads between register and return */
  uint32_t wake_pending;                 /* 1 while a wake is not yet consumed */
};

void knit__signal_init(struct knit_signal *sig);

#endif

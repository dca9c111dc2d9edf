/* Zeroed, cache-line-aligned allocations for structs two threads touch: no
 * other allocation shares a line with them. Free with free(). */
#ifndef KNIT_LINES_H
#define KNIT_LINES_H

#include <stdlib.h>
#include <string.h>

#include "knit/knit.h"

static inline void *knit__alloc_lines(size_t size) {
  void *p = aligned_alloc(KNIT_CACHELINE, (size + KNIT_CACHELINE - 1) / KNIT_CACHELINE * KNIT_CACHELINE);
  if (p) memset(p, 0, size);
  return p;
}

#endif

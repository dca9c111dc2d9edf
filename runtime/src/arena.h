/* The payload arena of one mailbox: a reserved span of address space that is
 * committed on demand, so its base never moves and a reader never sees a
 * stale view after growth. Only the producer allocates and frees; the
 * consumer only reads, bounds-checked against `committed`. */
#ifndef KNIT_ARENA_H
#define KNIT_ARENA_H

#include <stddef.h>
#include <stdint.h>

#include "knit/knit.h"

#define KNIT_ARENA_ALIGN 64u

typedef struct knit_region {
  uint32_t off;
  uint32_t len; /* rounded up to KNIT_ARENA_ALIGN; 0 = unused */
} knit_region;

typedef struct knit_arena {
  uint8_t *base;
  size_t committed; /* shared: grows only; read by the consumer */
  size_t max;
  size_t payload_max;
  size_t page;
  /* producer-private: live regions sorted by offset, at most one per slot */
  knit_region live[KNIT_SLOTS];
  unsigned nlive;
  size_t used;
} knit_arena;

int knit__arena_init(knit_arena *a, const knit_limits *limits);
void knit__arena_clear(knit_arena *a);
/* Returns the offset of a new region of @len bytes, or -EAGAIN (no room until
 * something is freed) or -EMSGSIZE (can never fit). */
int64_t knit__arena_alloc(knit_arena *a, size_t len);
void knit__arena_free(knit_arena *a, uint32_t off);
/* Consumer side: true when [off, off+len) lies inside committed memory. */
int knit__arena_contains(const knit_arena *a, uint64_t off, uint64_t len);

#endif

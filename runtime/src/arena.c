/* A mailbox's payload arena (arena.h): first-fit allocation of payloads too
 * large for a slot, in address space reserved once and committed as it grows. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arena.h"
#include "atomic.h"

static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

int knit__arena_init(knit_arena *a, const knit_limits *limits) {
  memset(a, 0, sizeof *a);
  a->page = (size_t)sysconf(_SC_PAGESIZE);
  a->max = round_up(limits->arena_max, a->page);
  a->payload_max = limits->payload_max;
  if (a->max == 0) return 0; /* inline payloads only */
  void *base = mmap(NULL, a->max, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return -ENOMEM;
  a->base = base;
  size_t initial = round_up(limits->arena_initial, a->page);
  if (initial > a->max) initial = a->max;
  if (initial && mprotect(a->base, initial, PROT_READ | PROT_WRITE) != 0) {
    munmap(a->base, a->max);
    a->base = NULL;
    return -ENOMEM;
  }
  a->committed = initial;
  return 0;
}

void knit__arena_clear(knit_arena *a) {
  if (a->base) munmap(a->base, a->max);
  a->base = NULL;
}

static int grow(knit_arena *a, size_t need_end) {
  size_t want = a->committed ? a->committed * 2 : a->page;
  if (want < need_end) want = need_end;
  want = round_up(want, a->page);
  if (want > a->max) want = a->max;
  if (want < need_end) return -EAGAIN;
  if (mprotect(a->base + a->committed, want - a->committed, PROT_READ | PROT_WRITE) != 0)
    return -ENOMEM;
  /* Pairs with the consumer's acquire of the producer bits: the slot that
   * points past the old end is published after this store. */
  knit_store_release(&a->committed, want);
  return 0;
}

static void insert_live(knit_arena *a, unsigned at, uint32_t off, uint32_t len) {
  memmove(&a->live[at + 1], &a->live[at], (a->nlive - at) * sizeof a->live[0]);
  a->live[at] = (knit_region){off, len};
  a->nlive++;
  a->used += len;
}

int64_t knit__arena_alloc(knit_arena *a, size_t len) {
  if (len > a->payload_max || round_up(len, KNIT_ARENA_ALIGN) > a->max) return -EMSGSIZE;
  size_t need = round_up(len ? len : 1, KNIT_ARENA_ALIGN);
  if (a->nlive == KNIT_SLOTS) return -EAGAIN;
  /* First fit over the gaps between live regions, then the tail. */
  size_t prev_end = 0;
  for (unsigned i = 0; i < a->nlive; i++) {
    if (a->live[i].off - prev_end >= need) {
      insert_live(a, i, (uint32_t)prev_end, (uint32_t)need);
      return (int64_t)prev_end;
    }
    prev_end = (size_t)a->live[i].off + a->live[i].len;
  }
  if (prev_end + need > a->committed) {
    if (prev_end + need > a->max) return -EAGAIN; /* fits once regions free */
    int rc = grow(a, prev_end + need);
    if (rc) return rc;
  }
  insert_live(a, a->nlive, (uint32_t)prev_end, (uint32_t)need);
  return (int64_t)prev_end;
}

void knit__arena_free(knit_arena *a, uint32_t off) {
  for (unsigned i = 0; i < a->nlive; i++) {
    if (a->live[i].off == off) {
      a->used -= a->live[i].len;
      memmove(&a->live[i], &a->live[i + 1], (a->nlive - i - 1) * sizeof a->live[0]);
      a->nlive--;
      return;
    }
  }
}

int knit__arena_contains(const knit_arena *a, uint64_t off, uint64_t len) {
  /* Pairs with the release store in grow(). */
  uint64_t committed = knit_load_acquire(&a->committed);
  return off <= committed && len <= committed - off;
}

/* A 32-slot mailbox with bitset ownership. The producer owns producer_bits,
 * the consumer owns consumer_bits; slot i is busy (published, not yet
 * acknowledged) while bit i differs between the two. Each side changes its
 * word with one store per batch. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "atomic.h"
#include "lines.h"
#include "knit/knit.h"

enum { SLOT_IN_ARENA = 1u };

typedef struct knit_slot_header {
  uint32_t task;
  uint32_t call;
  uint32_t status;
  uint32_t flags;  /* SLOT_IN_ARENA */
  uint64_t len;
  uint64_t offset; /* arena offset when SLOT_IN_ARENA */
  uint64_t enqueued_ns;
  uint32_t aux;
  uint8_t pad[KNIT_CACHELINE - 44];
} knit_slot_header;

typedef struct knit_slot {
  _Alignas(KNIT_CACHELINE) knit_slot_header h;
  uint8_t inline_data[KNIT_INLINE_BYTES];
} knit_slot;

_Static_assert(sizeof(knit_slot_header) == KNIT_CACHELINE, "header is one cache line");
_Static_assert(sizeof(knit_slot) % KNIT_CACHELINE == 0, "slots stay line-aligned");

struct knit_mailbox {
  _Alignas(KNIT_CACHELINE) uint32_t producer_bits; /* written by the producer only */
  _Alignas(KNIT_CACHELINE) uint32_t consumer_bits; /* written by the consumer only */

  /* producer-private */
  _Alignas(KNIT_CACHELINE) uint32_t prod_local;  /* last value stored to producer_bits */
  uint32_t reserved;  /* claimed, not yet published (includes staged) */
  uint32_t staged;    /* ready for the next publish */
  uint32_t in_flight; /* published, not yet seen acknowledged */
  uint32_t in_arena;  /* slots whose region is in the arena: never read back */
  uint32_t arena_off[KNIT_SLOTS]; /* from the shared header, which a peer may corrupt */
  knit_signal *peer;
  knit_arena arena;

  /* consumer-private */
  _Alignas(KNIT_CACHELINE) uint32_t cons_local; /* last value stored to consumer_bits */
  uint32_t taken;                               /* returned by take, not yet acked */

  knit_slot slots[KNIT_SLOTS];

  /* knit_mailbox_want_room: set by the producer, rung by the consumer */
  _Alignas(KNIT_CACHELINE) knit_signal *room_wanted;
  uint32_t room_rung;
};

int knit_mailbox_create(const knit_limits *limits, knit_signal *peer, knit_mailbox **out) {
  knit_limits def;
  if (!limits) {
    knit_limits_default(&def);
    limits = &def;
  }
  if (knit_limits_check(limits)) return -EINVAL;
  knit_mailbox *mb = knit__alloc_lines(sizeof *mb);
  if (!mb) return -ENOMEM;
  mb->peer = peer;
  int rc = knit__arena_init(&mb->arena, limits);
  if (rc) {
    free(mb);
    return rc;
  }
  *out = mb;
  return 0;
}

void knit_mailbox_destroy(knit_mailbox *mb) {
  if (!mb) return;
  knit__arena_clear(&mb->arena);
  free(mb);
}

/* Frees the arena regions of slots the consumer has acknowledged. */
static void reclaim(knit_mailbox *mb) {
  if (!mb->in_flight) return;
  /* Pairs with the release store in knit_mailbox_ack: the consumer is done
   * reading a slot's payload before its bit flips back. */
  uint32_t busy = mb->prod_local ^ knit_load_acquire(&mb->consumer_bits);
  uint32_t acked = mb->in_flight & ~busy;
  mb->in_flight &= ~acked;
  while (acked) {
    unsigned i = (unsigned)__builtin_ctz(acked);
    acked &= acked - 1;
    if (mb->in_arena & (1u << i)) {
      knit__arena_free(&mb->arena, mb->arena_off[i]);
      mb->in_arena &= ~(1u << i);
    }
  }
}

int knit_mailbox_reserve(knit_mailbox *mb, size_t len, uint8_t **buf) {
  if (len > mb->arena.payload_max && len > KNIT_INLINE_BYTES) return -EMSGSIZE;
  reclaim(mb);
  uint32_t free_bits = ~(mb->in_flight | mb->reserved);
  if (!free_bits) return -EAGAIN;
  unsigned slot = 31u - (unsigned)__builtin_clz(free_bits); /* highest free bit */
  knit_slot *s = &mb->slots[slot];
  if (len <= KNIT_INLINE_BYTES) {
    s->h.flags = 0;
    *buf = s->inline_data;
  } else {
    int64_t off = knit__arena_alloc(&mb->arena, len);
    if (off < 0) return (int)off;
    mb->in_arena |= 1u << slot;
    mb->arena_off[slot] = (uint32_t)off;
    s->h.flags = SLOT_IN_ARENA;
    s->h.offset = (uint64_t)off;
    *buf = mb->arena.base + off;
  }
  s->h.len = len;
  s->h.aux = 0;
  mb->reserved |= 1u << slot;
  return (int)slot;
}

void knit_mailbox_stage(knit_mailbox *mb, unsigned slot, uint32_t task, uint32_t call,
                        uint32_t status, size_t len, uint64_t enqueued_ns) {
  knit_slot_header *h = &mb->slots[slot].h;
  h->task = task;
  h->call = call;
  h->status = status;
  if (len < h->len) h->len = len;
  h->enqueued_ns = enqueued_ns;
  mb->staged |= 1u << slot;
}

void knit_mailbox_set_aux(knit_mailbox *mb, unsigned slot, uint32_t aux) {
  mb->slots[slot].h.aux = aux;
}

void knit_mailbox_unreserve(knit_mailbox *mb, unsigned slot) {
  uint32_t bit = 1u << slot;
  if (!(mb->reserved & bit)) return;
  if (mb->in_arena & bit) {
    knit__arena_free(&mb->arena, mb->arena_off[slot]);
    mb->in_arena &= ~bit;
  }
  mb->reserved &= ~bit;
  mb->staged &= ~bit;
}

unsigned knit_mailbox_publish(knit_mailbox *mb) {
  uint32_t batch = mb->staged;
  if (!batch) return 0;
  mb->staged = 0;
  mb->reserved &= ~batch;
  mb->in_flight |= batch;
  mb->prod_local ^= batch;
  /* Pairs with the acquire in pending()/take(): headers and payloads are
   * visible first. The wake orders this store before its look for waiters. */
  knit_store_release(&mb->producer_bits, mb->prod_local);
  if (mb->peer) knit_signal_wake(mb->peer);
  return (unsigned)__builtin_popcount(batch);
}

int knit_mailbox_put(knit_mailbox *mb, uint32_t task, uint32_t call, uint32_t status,
                     const void *data, size_t len, uint64_t enqueued_ns) {
  uint8_t *buf;
  int slot = knit_mailbox_reserve(mb, len, &buf);
  if (slot < 0) return slot;
  if (len) memcpy(buf, data, len);
  knit_mailbox_stage(mb, (unsigned)slot, task, call, status, len, enqueued_ns);
  return slot;
}

unsigned knit_mailbox_in_use(const knit_mailbox *mb) {
  uint32_t busy = mb->prod_local ^ knit_load_acquire(&mb->consumer_bits);
  return (unsigned)__builtin_popcount((mb->in_flight & busy) | mb->reserved);
}

bool knit_mailbox_pending(void *arg) {
  knit_mailbox *mb = arg;
  /* Pairs with the release store in knit_mailbox_publish. */
  uint32_t ready = knit_load_acquire(&mb->producer_bits) ^ mb->cons_local;
  return (ready & ~mb->taken) != 0;
}

bool knit_mailbox_unacked(void *arg) {
  knit_mailbox *mb = arg;
  /* Only the two shared words: pairs with the release stores in
   * knit_mailbox_publish and knit_mailbox_ack. */
  return (knit_load_acquire(&mb->producer_bits) ^ knit_load_acquire(&mb->consumer_bits)) != 0;
}

static bool header_sane(const knit_mailbox *mb, const knit_slot_header *h) {
  if (h->status > KNIT_THROWN) return false;
  if (h->flags & ~(uint32_t)SLOT_IN_ARENA) return false;
  if (!(h->flags & SLOT_IN_ARENA)) return h->len <= KNIT_INLINE_BYTES;
  if (h->len > mb->arena.payload_max || h->offset % KNIT_ARENA_ALIGN) return false;
  return knit__arena_contains(&mb->arena, h->offset, h->len);
}

/* Reads one header into @m; false if it fails its bounds check. */
static bool read_header(const knit_mailbox *mb, unsigned i, knit_msg *m) {
  /* Copy the header once: the producer must not change it, but a corrupt
   * peer might, and checks must hold for the values we use. */
  knit_slot_header h;
  memcpy(&h, &mb->slots[i].h, sizeof h);
  m->slot = i;
  m->task = h.task;
  m->call = h.call;
  m->aux = h.aux;
  m->enqueued_ns = h.enqueued_ns;
  if (!header_sane(mb, &h)) {
    m->status = KNIT_CORRUPT;
    m->len = 0;
    m->data = NULL;
    return false;
  }
  m->status = h.status;
  m->len = (size_t)h.len;
  m->data = (h.flags & SLOT_IN_ARENA) ? mb->arena.base + h.offset : mb->slots[i].inline_data;
  return true;
}

unsigned knit_mailbox_take(knit_mailbox *mb, knit_msg out[KNIT_SLOTS]) {
  /* Pairs with the release store in knit_mailbox_publish. */
  uint32_t ready = (knit_load_acquire(&mb->producer_bits) ^ mb->cons_local) & ~mb->taken;
  unsigned n = 0;
  mb->taken |= ready;
  while (ready) {
    /* Highest first: reserve hands out the highest free slot first, so a
     * burst into free slots comes out in the order it was sent
     * (knit_lane_take orders by token when slots were reused). */
    unsigned i = 31u - (unsigned)__builtin_clz(ready);
    ready &= ~(1u << i);
    read_header(mb, i, &out[n++]);
  }
  return n;
}

unsigned knit_mailbox_untaken(const knit_mailbox *mb, knit_msg out[KNIT_SLOTS]) {
  /* The consumer's own words too: it has exited, and its thread's end
   * ordered its last stores before us. */
  uint32_t unacked = mb->prod_local ^ knit_load_acquire(&mb->cons_local);
  uint32_t left = (unacked & ~knit_load_acquire(&mb->taken) & mb->in_flight) | mb->staged;
  unsigned n = 0;
  while (left) {
    unsigned i = 31u - (unsigned)__builtin_clz(left);
    left &= ~(1u << i);
    if (read_header(mb, i, &out[n])) n++;
  }
  return n;
}

void knit_mailbox_ack(knit_mailbox *mb) {
  if (!mb->taken) return;
  mb->cons_local ^= mb->taken;
  mb->taken = 0;
  /* Pairs with the acquire in reclaim(): payload reads are done. */
  knit_store_release(&mb->consumer_bits, mb->cons_local);
}

void knit_mailbox_want_room(knit_mailbox *mb, knit_signal *ring) {
  knit_store_relaxed(&mb->room_rung, 0);
  knit_store_seq(&mb->room_wanted, ring); /* pairs with the fence in ring_room */
}

void knit_mailbox_ring_room(knit_mailbox *mb) {
  /* Our acks, stored before this call in any order, are seen by the
   * producer's try after its request, or this load sees the request. */
  knit_fence_seq_on(&mb->room_wanted);
  knit_signal *ring = knit_load_acquire(&mb->room_wanted);
  if (!ring) return;
  knit_store_release(&mb->room_rung, 1); /* pairs with knit_mailbox_rung */
  knit_signal_wake(ring);
}

bool knit_mailbox_rung(void *arg) {
  knit_mailbox *mb = arg;
  return knit_load_acquire(&mb->room_rung) != 0;
}

void knit_mailbox_arena_stats(const knit_mailbox *mb, knit_arena_stats *out) {
  out->committed = knit_load_acquire(&mb->arena.committed);
  out->reserved = mb->arena.max;
  out->used = mb->arena.used;
  out->regions = mb->arena.nlive;
}

/* Test hook for fault injection: the header of a slot, to corrupt. */
KNIT_EXPORT void *knit__mailbox_slot_header(knit_mailbox *mb, unsigned slot);
void *knit__mailbox_slot_header(knit_mailbox *mb, unsigned slot) { return &mb->slots[slot].h; }

/* A lane: a worker's request and response mailboxes, its wake signal and
 * its cancel words (knit_lane_cancel), plus the pool limits they are made with. */
#include <errno.h>
#include <stdlib.h>

#include "atomic.h"
#include "knit/knit.h"
#include "lines.h"

void knit_limits_default(knit_limits *limits) {
  limits->arena_initial = 4u << 20;
  limits->arena_max = 64u << 20;
  limits->payload_max = 8u << 20;
}

int knit_limits_check(const knit_limits *l) {
  if (l->arena_initial > l->arena_max) return -EINVAL;
  if (l->arena_max > (1u << 30)) return -EINVAL;
  if (l->payload_max > l->arena_max && l->payload_max > KNIT_INLINE_BYTES) return -EINVAL;
  return 0;
}

int knit_lane_create(const knit_limits *limits, knit_signal *host_signal, knit_lane **out) {
  knit_lane *lane = knit__alloc_lines(sizeof *lane);
  if (!lane) return -ENOMEM;
  lane->host_signal = host_signal;
  int rc = knit_signal_create(&lane->worker_signal);
  if (!rc) rc = knit_mailbox_create(limits, lane->worker_signal, &lane->requests);
  if (!rc) rc = knit_mailbox_create(limits, host_signal, &lane->responses);
  if (rc) {
    knit_lane_destroy(lane);
    return rc;
  }
  *out = lane;
  return 0;
}

void knit_lane_destroy(knit_lane *lane) {
  if (!lane) return;
  knit_mailbox_destroy(lane->requests);
  knit_mailbox_destroy(lane->responses);
  knit_signal_destroy(lane->worker_signal);
  free(lane);
}

void knit_lane_cancel(knit_lane *lane, uint32_t token) {
  if (token) knit_store_seq(&lane->cancelled[token % KNIT_CANCEL_WORDS], token);
}

bool knit_lane_cancelled(const knit_lane *lane, uint32_t token) {
  return token && knit_load_acquire(&lane->cancelled[token % KNIT_CANCEL_WORDS]) == token;
}

bool knit_lane_begin_call(knit_lane *lane, uint32_t token) {
  if (!token) return false;
  uint32_t *word = &lane->cancelled[token % KNIT_CANCEL_WORDS];
  uint32_t seen = knit_load_acquire(word);
  /* A failed exchange reloads @seen: the host may just have cancelled us. */
  while (seen != token && seen != 0 &&
         !__atomic_compare_exchange_n(word, &seen, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
  }
  return seen == token;
}

unsigned knit_lane_take(knit_lane *lane, knit_msg out[KNIT_SLOTS]) {
  unsigned n = knit_mailbox_take(lane->requests, out);
  /* Insertion sort: a batch is nearly always in order already. */
  for (unsigned i = 1; i < n; i++) {
    knit_msg m = out[i];
    unsigned j = i;
    for (; j > 0 && (int32_t)(m.aux - out[j - 1].aux) < 0; j--) out[j] = out[j - 1];
    out[j] = m;
  }
  return n;
}

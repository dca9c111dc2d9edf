/* fuzz_mailbox.c: libFuzzer target for the consumer's bounds checks in
 * knit_mailbox_take() (runtime/src/mailbox.c), the way a corrupt or hostile
 * peer would attack them: it publishes a few messages of fuzzed sizes
 * (inline, at the 448-byte edge, in the arena), then overwrites their slot
 * headers and payloads with fuzzed bytes before the consumer takes them.
 *
 * Promises checked (a broken one traps):
 *   - a message not reported KNIT_CORRUPT points inside its own slot's inline
 *     area or inside the committed arena, and fits there; every byte of it is
 *     read (ASan) and decoded with knit_validate();
 *   - whatever the headers said, once the consumer acknowledges, the producer
 *     frees exactly the regions it allocated: the arena is empty again;
 *   - the mailbox still carries an honest inline and an arena message intact.
 *
 * Input: byte 0 = messages (1-4) and a pre-growth step; then per message a
 * 2-byte size selector, a field mask, up to 40 header bytes and payload bytes. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "knit/knit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void *knit__mailbox_slot_header(knit_mailbox *mb, unsigned slot);

/* The slot header as docs/protocol.md lays it out. */
typedef struct hdr {
  uint32_t task, call, status, flags;
  uint64_t len, offset, enqueued_ns;
  uint32_t aux;
} hdr;

#define KiB ((size_t)1 << 10)
#define ARENA_INITIAL (16 * KiB)
#define ARENA_MAX (256 * KiB)
#define PAYLOAD_MAX (96 * KiB)

static volatile uint8_t sink;

typedef struct input {
  const uint8_t *p, *end;
} input;

static size_t take_bytes(input *in, void *out, size_t n) {
  size_t have = (size_t)(in->end - in->p);
  if (n > have) n = have;
  memcpy(out, in->p, n);
  in->p += n;
  return n;
}

static unsigned byte(input *in) { return in->p < in->end ? *in->p++ : 0; }

/* A payload length from a 2-byte selector: mostly near the inline edge. */
static size_t length_of(unsigned sel) {
  switch (sel >> 14) {
  case 0: return sel % (KNIT_INLINE_BYTES + 1);
  case 1: return KNIT_INLINE_BYTES - 8 + sel % 17;
  case 2: return KNIT_INLINE_BYTES + 1 + sel % (8 * KiB);
  default: return (size_t)(sel & 0x3fff) * (PAYLOAD_MAX / 0x3fff);
  }
}

static void fill(uint8_t *buf, size_t n, input *in, unsigned salt) {
  size_t got = take_bytes(in, buf, n < 512 ? n : 512);
  for (size_t i = got; i < n; i++) buf[i] = (uint8_t)(i * 31 + salt);
}

/* Sends one honest message of @len bytes and checks it arrives intact. */
static void round_trip(knit_mailbox *mb, size_t len, uint32_t call) {
  uint8_t *buf;
  int s = knit_mailbox_reserve(mb, len, &buf);
  if (s < 0) __builtin_trap();
  for (size_t i = 0; i < len; i++) buf[i] = (uint8_t)(i ^ call);
  knit_mailbox_stage(mb, (unsigned)s, 7, call, KNIT_OK, len, 1);
  knit_mailbox_publish(mb);
  knit_msg msgs[KNIT_SLOTS];
  if (knit_mailbox_take(mb, msgs) != 1) __builtin_trap();
  if (msgs[0].status != KNIT_OK || msgs[0].call != call || msgs[0].len != len) __builtin_trap();
  for (size_t i = 0; i < len; i++)
    if (msgs[0].data[i] != (uint8_t)(i ^ call)) __builtin_trap();
  knit_mailbox_ack(mb);
}

static void reclaim(knit_mailbox *mb) {
  uint8_t *buf;
  int s = knit_mailbox_reserve(mb, 0, &buf);
  if (s < 0) __builtin_trap();
  knit_mailbox_unreserve(mb, (unsigned)s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  input in = {data, data + size};
  knit_limits lim = {.arena_initial = ARENA_INITIAL, .arena_max = ARENA_MAX, .payload_max = PAYLOAD_MAX};
  knit_mailbox *mb;
  if (knit_mailbox_create(&lim, NULL, &mb)) __builtin_trap();

  /* The arena's base: the first region of an empty arena is at offset 0. */
  uint8_t *base;
  int s0 = knit_mailbox_reserve(mb, KNIT_INLINE_BYTES + 1, &base);
  if (s0 < 0) __builtin_trap();
  knit_mailbox_unreserve(mb, (unsigned)s0);

  unsigned head = byte(&in);
  unsigned nmsg = 1 + (head & 3);
  if (head & 4) round_trip(mb, 64 * KiB, 1); /* grow the committed arena first */

  unsigned slots[4];
  uint8_t *inline_of[KNIT_SLOTS] = {0};
  for (unsigned j = 0; j < nmsg; j++) {
    unsigned sel = byte(&in) << 8;
    sel |= byte(&in);
    size_t len = length_of(sel);
    uint8_t *buf;
    int s = knit_mailbox_reserve(mb, len, &buf);
    if (s < 0) { /* the arena may be full for now */
      if (s != -EAGAIN && s != -EMSGSIZE) __builtin_trap();
      nmsg = j;
      break;
    }
    slots[j] = (unsigned)s;
    fill(buf, len, &in, j);
    knit_mailbox_stage(mb, (unsigned)s, j, 100 + j, KNIT_OK, len, 0);
    /* The attack: overwrite chosen header fields with fuzzed values. */
    hdr *h = knit__mailbox_slot_header(mb, (unsigned)s);
    unsigned mask = byte(&in);
    if (mask & 1) take_bytes(&in, &h->status, 4);
    if (mask & 2) take_bytes(&in, &h->flags, 4);
    if (mask & 4) take_bytes(&in, &h->len, 8);
    if (mask & 8) take_bytes(&in, &h->offset, 8);
    if (mask & 16) take_bytes(&in, &h->task, 8); /* task and call */
    if (mask & 32) take_bytes(&in, &h->aux, 4);
    /* ... and the inline area, whatever the payload's size. */
    uint8_t *inl = (uint8_t *)h + 64;
    inline_of[s] = inl;
    if (mask & 64) fill(inl, KNIT_INLINE_BYTES, &in, 0x5a);
  }
  knit_mailbox_publish(mb);

  knit_msg msgs[KNIT_SLOTS];
  unsigned got = knit_mailbox_take(mb, msgs);
  if (got != nmsg) __builtin_trap();
  knit_arena_stats st;
  knit_mailbox_arena_stats(mb, &st);
  for (unsigned k = 0; k < got; k++) {
    const knit_msg *m = &msgs[k];
    unsigned j = 0;
    while (j < nmsg && slots[j] != m->slot) j++;
    if (j == nmsg) __builtin_trap(); /* a slot nobody published */
    if (m->status == KNIT_CORRUPT) {
      if (m->data || m->len) __builtin_trap();
      continue;
    }
    if (m->status > KNIT_THROWN) __builtin_trap();
    const uint8_t *in_slot = inline_of[m->slot];
    int inside_slot = m->data >= in_slot && m->len <= KNIT_INLINE_BYTES &&
                      m->data + m->len <= in_slot + KNIT_INLINE_BYTES;
    int inside_arena = m->data >= base && m->len <= PAYLOAD_MAX &&
                       (size_t)(m->data - base) <= st.committed &&
                       m->len <= st.committed - (size_t)(m->data - base);
    if (!inside_slot && !inside_arena) __builtin_trap();
    uint8_t x = 0;
    for (size_t i = 0; i < m->len; i++) x ^= m->data[i];
    sink = x;
    (void)knit_validate(m->data, m->len);
  }
  knit_mailbox_ack(mb);

  /* The producer frees what it allocated, not what the headers claim. */
  reclaim(mb);
  knit_mailbox_arena_stats(mb, &st);
  if (st.used || st.regions || knit_mailbox_in_use(mb)) __builtin_trap();

  /* And the mailbox still works. */
  round_trip(mb, 100, 2);
  round_trip(mb, 5000, 3);
  knit_mailbox_destroy(mb);
  return 0;
}

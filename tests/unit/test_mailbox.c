/* test-mailbox: the slot ownership protocol and batching (mailbox.c, lane.c).
 * The two ownership words are read at the offsets docs/protocol.md gives
 * (producer_bits at 0, consumer_bits at 64), so the layout is checked too. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../runtime/src/signal_impl.h"
#include "helpers.h"

#define MS 1000000ull

static uint32_t producer_bits(knit_mailbox *mb) {
  return __atomic_load_n((uint32_t *)mb, __ATOMIC_SEQ_CST);
}
static uint32_t consumer_bits(knit_mailbox *mb) {
  return __atomic_load_n((uint32_t *)((char *)mb + 64), __ATOMIC_SEQ_CST);
}

static knit_mailbox *mk(const knit_limits *l, knit_signal *peer) {
  knit_mailbox *mb = NULL;
  assert_int_equal(knit_mailbox_create(l, peer, &mb), 0);
  assert_non_null(mb);
  return mb;
}

static void test_limits(void **state) {
  (void)state;
  knit_limits l;
  knit_limits_default(&l);
  assert_int_equal(l.arena_initial, 4u << 20);
  assert_int_equal(l.arena_max, 64u << 20);
  assert_int_equal(l.payload_max, 8u << 20);
  assert_int_equal(knit_limits_check(&l), 0);
  knit_limits bad = kt_limits(2u << 20, 1u << 20, 1u << 20);
  assert_int_equal(knit_limits_check(&bad), -EINVAL); /* initial > max */
  bad = kt_limits(0, 2u << 30, 1u << 20);
  assert_int_equal(knit_limits_check(&bad), -EINVAL); /* max > 1 GiB */
  bad = kt_limits(0, 1u << 20, 2u << 20);
  assert_int_equal(knit_limits_check(&bad), -EINVAL); /* payload > max */
  knit_limits inl = kt_limits(0, 0, KNIT_INLINE_BYTES);
  assert_int_equal(knit_limits_check(&inl), 0); /* inline only */
  knit_mailbox *mb = NULL;
  assert_int_equal(knit_mailbox_create(&bad, NULL, &mb), -EINVAL);
  assert_null(mb);
}

static void test_create_layout(void **state) {
  (void)state;
  knit_mailbox *mb = mk(NULL, NULL);
  assert_int_equal((uintptr_t)mb % 64, 0);
  assert_int_equal(producer_bits(mb), 0);
  assert_int_equal(consumer_bits(mb), 0);
  char *h0 = knit__mailbox_slot_header(mb, 0);
  char *h1 = knit__mailbox_slot_header(mb, 1);
  assert_int_equal((uintptr_t)h0 % 64, 0);
  assert_int_equal(h1 - h0, 64 + KNIT_INLINE_BYTES); /* 512-byte slots */
  assert_int_equal(h0 - (char *)mb, 704);            /* docs/protocol.md */
  /* an inline payload lives right after its header */
  uint8_t *buf;
  int slot = knit_mailbox_reserve(mb, 10, &buf);
  assert_int_equal(slot, 31);
  assert_ptr_equal(buf, (char *)knit__mailbox_slot_header(mb, 31) + 64);
  knit_mailbox_destroy(mb);
  knit_mailbox_destroy(NULL);
}

static void test_reserve_highest_free_bit(void **state) {
  (void)state;
  knit_mailbox *mb = mk(NULL, NULL);
  uint8_t *buf;
  for (int i = 31; i >= 0; i--) {
    assert_int_equal(knit_mailbox_reserve(mb, 8, &buf), i);
    assert_int_equal(knit_mailbox_in_use(mb), 32 - i);
  }
  assert_int_equal(knit_mailbox_reserve(mb, 8, &buf), -EAGAIN);
  assert_int_equal(knit_mailbox_reserve(mb, 1000, &buf), -EAGAIN);
  knit_mailbox_unreserve(mb, 5);
  assert_int_equal(knit_mailbox_in_use(mb), 31);
  assert_int_equal(knit_mailbox_reserve(mb, 8, &buf), 5);
  knit_mailbox_unreserve(mb, 5);
  knit_mailbox_unreserve(mb, 31);
  knit_mailbox_unreserve(mb, 31); /* not reserved: no-op */
  assert_int_equal(knit_mailbox_in_use(mb), 30);
  assert_int_equal(knit_mailbox_reserve(mb, 8, &buf), 31);
  assert_int_equal(knit_mailbox_reserve(mb, 8, &buf), 5);
  /* nothing was published */
  assert_int_equal(producer_bits(mb), 0);
  assert_false(knit_mailbox_pending(mb));
  knit_mailbox_destroy(mb);
}

static void test_publish_take_ack(void **state) {
  (void)state;
  knit_mailbox *mb = mk(NULL, NULL);
  const char msg[] = "hello, lane";
  assert_false(knit_mailbox_pending(mb));
  int slot = knit_mailbox_put(mb, 7, 99, KNIT_THROWN, msg, sizeof msg, 12345);
  assert_int_equal(slot, 31);
  /* staged but unpublished: invisible to the consumer */
  knit_msg out[KNIT_SLOTS];
  assert_false(knit_mailbox_pending(mb));
  assert_int_equal(knit_mailbox_take(mb, out), 0);
  assert_int_equal(knit_mailbox_in_use(mb), 1);
  assert_int_equal(knit_mailbox_publish(mb), 1);
  assert_int_equal(producer_bits(mb), 1u << 31);
  assert_int_equal(knit_mailbox_publish(mb), 0); /* nothing staged */
  assert_true(knit_mailbox_pending(mb));
  assert_int_equal(knit_mailbox_take(mb, out), 1);
  assert_int_equal(out[0].slot, 31);
  assert_int_equal(out[0].task, 7);
  assert_int_equal(out[0].call, 99);
  assert_int_equal(out[0].status, KNIT_THROWN);
  assert_int_equal(out[0].enqueued_ns, 12345);
  assert_int_equal(out[0].len, sizeof msg);
  assert_memory_equal(out[0].data, msg, sizeof msg);
  /* taken, not acknowledged: nothing new, still in use, bit still differs */
  assert_false(knit_mailbox_pending(mb));
  assert_int_equal(knit_mailbox_take(mb, out), 0);
  assert_int_equal(knit_mailbox_in_use(mb), 1);
  assert_int_equal(consumer_bits(mb), 0);
  uint8_t *buf;
  assert_int_equal(knit_mailbox_reserve(mb, 8, &buf), 30); /* 31 still owned by consumer */
  knit_mailbox_unreserve(mb, 30);
  knit_mailbox_ack(mb);
  assert_int_equal(consumer_bits(mb), 1u << 31);
  assert_int_equal(knit_mailbox_in_use(mb), 0);
  knit_mailbox_ack(mb); /* nothing taken: no-op */
  assert_int_equal(consumer_bits(mb), 1u << 31);
  /* the slot comes back: reserve takes 31 again, and the bits toggle back */
  assert_int_equal(knit_mailbox_put(mb, 1, 2, KNIT_OK, "x", 1, 0), 31);
  assert_int_equal(knit_mailbox_publish(mb), 1);
  assert_int_equal(producer_bits(mb), 0);
  assert_true(knit_mailbox_pending(mb));
  assert_int_equal(knit_mailbox_take(mb, out), 1);
  assert_int_equal(out[0].len, 1);
  assert_int_equal(out[0].status, KNIT_OK);
  knit_mailbox_ack(mb);
  assert_int_equal(consumer_bits(mb), 0);
  knit_mailbox_destroy(mb);
}

/* What a consumer that exited never took: published and untaken, and
 * staged; not what it took (acked or not), not corrupt headers. */
static void test_untaken(void **state) {
  (void)state;
  knit_mailbox *mb = mk(NULL, NULL);
  knit_msg out[KNIT_SLOTS], got[KNIT_SLOTS];
  assert_int_equal(knit_mailbox_untaken(mb, got), 0);
  for (uint32_t call = 1; call <= 3; call++) assert_true(knit_mailbox_put(mb, 0, call, KNIT_OK, "a", 1, 0) >= 0);
  assert_int_equal(knit_mailbox_publish(mb), 3);
  assert_int_equal(knit_mailbox_take(mb, out), 3); /* calls 1-3: taken, not acked */
  assert_int_equal(knit_mailbox_untaken(mb, got), 0);
  knit_mailbox_ack(mb);
  for (uint32_t call = 4; call <= 6; call++) assert_true(knit_mailbox_put(mb, 0, call, KNIT_OK, "bc", 2, 0) >= 0);
  assert_int_equal(knit_mailbox_publish(mb), 3); /* calls 4-6: published, never taken */
  assert_true(knit_mailbox_put(mb, 0, 7, KNIT_OK, "d", 1, 0) >= 0); /* call 7: staged */
  assert_int_equal(knit_mailbox_untaken(mb, got), 4);
  uint32_t seen = 0;
  for (unsigned i = 0; i < 4; i++) {
    assert_true(got[i].call >= 4 && got[i].call <= 7);
    assert_int_equal(got[i].len, got[i].call == 7 ? 1 : 2);
    assert_memory_equal(got[i].data, got[i].call == 7 ? "d" : "bc", got[i].len);
    seen |= 1u << got[i].call;
  }
  assert_int_equal(seen, 0xF0);
  /* a header gone bad is left out */
  ((uint32_t *)knit__mailbox_slot_header(mb, got[0].slot))[2] = 99; /* status: out of range */
  assert_int_equal(knit_mailbox_untaken(mb, got), 3);
  knit_mailbox_destroy(mb);
}

static void test_zero_length_and_stage_len(void **state) {
  (void)state;
  knit_mailbox *mb = mk(NULL, NULL);
  knit_msg out[KNIT_SLOTS];
  assert_int_equal(knit_mailbox_put(mb, 1, 1, KNIT_OK, NULL, 0, 0), 31);
  uint8_t *buf;
  int s = knit_mailbox_reserve(mb, 100, &buf);
  assert_int_equal(s, 30);
  memset(buf, 0xAB, 100);
  knit_mailbox_stage(mb, (unsigned)s, 2, 2, KNIT_OK, 40, 0); /* shorter than reserved */
  s = knit_mailbox_reserve(mb, 100, &buf);
  knit_mailbox_stage(mb, (unsigned)s, 3, 3, KNIT_OK, 500, 0); /* longer: stays 100 */
  assert_int_equal(knit_mailbox_publish(mb), 3);
  assert_int_equal(knit_mailbox_take(mb, out), 3);
  /* take returns slots in descending order: the order they were sent */
  assert_int_equal(out[2].slot, 29);
  assert_int_equal(out[2].len, 100);
  assert_int_equal(out[1].slot, 30);
  assert_int_equal(out[1].len, 40);
  assert_int_equal(out[1].data[39], 0xAB);
  assert_int_equal(out[0].slot, 31);
  assert_int_equal(out[0].len, 0);
  assert_non_null(out[0].data);
  knit_mailbox_ack(mb);
  knit_mailbox_destroy(mb);
}

/* Only staged slots are published; reserved-but-unstaged ones stay private. */
static void test_reserved_unstaged_not_published(void **state) {
  (void)state;
  knit_mailbox *mb = mk(NULL, NULL);
  knit_msg out[KNIT_SLOTS];
  uint8_t *buf;
  assert_int_equal(knit_mailbox_reserve(mb, 8, &buf), 31); /* reserved, never staged */
  assert_int_equal(kt_put_pattern(mb, 8, 1, 1), 30);
  assert_int_equal(knit_mailbox_publish(mb), 1);
  assert_int_equal(producer_bits(mb), 1u << 30);
  assert_int_equal(knit_mailbox_take(mb, out), 1);
  assert_int_equal(out[0].slot, 30);
  knit_mailbox_ack(mb);
  assert_int_equal(knit_mailbox_in_use(mb), 1); /* slot 31 still reserved */
  knit_mailbox_stage(mb, 31, 5, 5, KNIT_OK, 8, 0);
  assert_int_equal(knit_mailbox_publish(mb), 1);
  assert_int_equal(knit_mailbox_take(mb, out), 1);
  assert_int_equal(out[0].slot, 31);
  assert_int_equal(out[0].task, 5);
  knit_mailbox_ack(mb);
  /* unreserve a staged slot: it is not published */
  int s = kt_put_pattern(mb, 8, 2, 2);
  knit_mailbox_unreserve(mb, (unsigned)s);
  assert_int_equal(knit_mailbox_publish(mb), 0);
  assert_false(knit_mailbox_pending(mb));
  assert_int_equal(knit_mailbox_in_use(mb), 0);
  knit_mailbox_destroy(mb);
}

static void test_batch_32(void **state) {
  (void)state;
  knit_signal *sig;
  assert_int_equal(knit_signal_create(&sig), 0);
  /* pretend the consumer is parked, to count the wakes a publish issues */
  __atomic_store_n(&sig->waiters, 1, __ATOMIC_SEQ_CST);
  knit_mailbox *mb = mk(NULL, sig);
  knit_msg out[KNIT_SLOTS];
  for (unsigned round = 0; round < 3; round++) {
    for (unsigned i = 0; i < 32; i++) {
      size_t len = (i % 2) ? 16 : 1000; /* inline and arena mixed */
      assert_int_equal(kt_put_pattern(mb, len, round * 100 + i, i), 31 - (int)i);
    }
    assert_int_equal(knit_mailbox_in_use(mb), 32);
    uint32_t seq0 = __atomic_load_n(&sig->seq, __ATOMIC_SEQ_CST);
    __atomic_store_n(&sig->wake_pending, 0, __ATOMIC_SEQ_CST);
    uint32_t before = producer_bits(mb);
    assert_int_equal(knit_mailbox_publish(mb), 32);
    assert_int_equal(producer_bits(mb), ~before); /* all 32 flipped at once */
    assert_int_equal(__atomic_load_n(&sig->seq, __ATOMIC_SEQ_CST), seq0 + 1); /* one wake */
    assert_int_equal(knit_mailbox_take(mb, out), 32);
    for (unsigned k = 0; k < 32; k++) {
      assert_int_equal(out[k].slot, 31 - k); /* in send order */
      unsigned i = k;
      size_t len = (i % 2) ? 16 : 1000;
      assert_int_equal(out[k].task, i);
      assert_int_equal(out[k].len, len);
      assert_int_equal(kt_pattern_check(out[k].data, len, round * 100 + i), len);
    }
    assert_int_equal(knit_mailbox_take(mb, out), 0);
    knit_mailbox_ack(mb); /* one store frees all 32 */
    assert_int_equal(consumer_bits(mb), producer_bits(mb));
    assert_int_equal(knit_mailbox_in_use(mb), 0);
  }
  knit_mailbox_destroy(mb);
  knit_signal_destroy(sig);
}

/* Partial batches: a take returns only what is new; one ack frees all taken;
 * a publish while the consumer holds slots adds to the next take. */
static void test_partial_batches(void **state) {
  (void)state;
  knit_mailbox *mb = mk(NULL, NULL);
  knit_msg out[KNIT_SLOTS];
  for (int i = 0; i < 5; i++) kt_put_pattern(mb, 32, (uint64_t)i, 0);
  assert_int_equal(knit_mailbox_publish(mb), 5);
  assert_int_equal(knit_mailbox_take(mb, out), 5);
  for (int i = 5; i < 8; i++) kt_put_pattern(mb, 32, (uint64_t)i, 0);
  assert_int_equal(knit_mailbox_publish(mb), 3);
  assert_int_equal(knit_mailbox_in_use(mb), 8);
  assert_true(knit_mailbox_pending(mb));
  assert_int_equal(knit_mailbox_take(mb, out), 3);
  for (int k = 0; k < 3; k++) {
    assert_int_equal(out[k].slot, 26 - k);
    assert_int_equal(out[k].call, 5 + k);
  }
  assert_int_equal(knit_mailbox_take(mb, out), 0);
  knit_mailbox_ack(mb);
  assert_int_equal(knit_mailbox_in_use(mb), 0);
  /* freed slots are reused from the top */
  assert_int_equal(kt_put_pattern(mb, 32, 100, 0), 31);
  /* publish two, take, publish one more, ack (frees two), take the third */
  assert_int_equal(kt_put_pattern(mb, 32, 101, 0), 30);
  knit_mailbox_publish(mb);
  assert_int_equal(knit_mailbox_take(mb, out), 2);
  assert_int_equal(kt_put_pattern(mb, 32, 102, 0), 29);
  knit_mailbox_publish(mb);
  knit_mailbox_ack(mb);
  assert_int_equal(knit_mailbox_in_use(mb), 1);
  assert_int_equal(knit_mailbox_take(mb, out), 1);
  assert_int_equal(out[0].slot, 29);
  assert_int_equal(kt_pattern_check(out[0].data, 32, 102), 32);
  knit_mailbox_ack(mb);
  assert_int_equal(knit_mailbox_in_use(mb), 0);
  knit_mailbox_destroy(mb);
}

/* Many cycles through one slot: the bits toggle back and forth. */
static void test_toggle_cycles(void **state) {
  (void)state;
  knit_mailbox *mb = mk(NULL, NULL);
  knit_msg out[KNIT_SLOTS];
  for (unsigned i = 0; i < 10000; i++) {
    assert_int_equal(kt_put_pattern(mb, i % 600, i, i), 31);
    assert_int_equal(knit_mailbox_publish(mb), 1);
    assert_int_equal(producer_bits(mb), (i % 2) ? 0 : 1u << 31);
    assert_int_equal(knit_mailbox_take(mb, out), 1);
    assert_int_equal(out[0].call, i);
    assert_int_equal(kt_pattern_check(out[0].data, i % 600, i), i % 600);
    knit_mailbox_ack(mb);
  }
  knit_arena_stats st;
  knit_mailbox_reserve(mb, 0, &(uint8_t *){0}); /* reclaims the last region */
  knit_mailbox_arena_stats(mb, &st);
  assert_int_equal(st.regions, 0);
  knit_mailbox_destroy(mb);
}

/* The inline/arena edge: 448 bytes stay in the slot, 449 go to the arena. */
static void test_inline_edge(void **state) {
  (void)state;
  knit_mailbox *mb = mk(NULL, NULL);
  knit_arena_stats st;
  uint8_t *buf;
  int s = knit_mailbox_reserve(mb, KNIT_INLINE_BYTES, &buf);
  assert_ptr_equal(buf, (char *)knit__mailbox_slot_header(mb, (unsigned)s) + 64);
  knit_mailbox_arena_stats(mb, &st);
  assert_int_equal(st.regions, 0);
  s = knit_mailbox_reserve(mb, KNIT_INLINE_BYTES + 1, &buf);
  knit_mailbox_arena_stats(mb, &st);
  assert_int_equal(st.regions, 1);
  assert_int_equal(st.used, 512); /* rounded to 64 */
  knit_mailbox_unreserve(mb, (unsigned)s);
  knit_mailbox_arena_stats(mb, &st);
  assert_int_equal(st.regions, 0);
  assert_int_equal(st.used, 0);
  /* an inline-only mailbox */
  knit_limits l = kt_limits(0, 0, KNIT_INLINE_BYTES);
  knit_mailbox *mi = mk(&l, NULL);
  assert_int_equal(knit_mailbox_reserve(mi, KNIT_INLINE_BYTES, &buf), 31);
  assert_int_equal(knit_mailbox_reserve(mi, KNIT_INLINE_BYTES + 1, &buf), -EMSGSIZE);
  knit_mailbox_destroy(mi);
  knit_mailbox_destroy(mb);
}

static void test_emsgsize(void **state) {
  (void)state;
  knit_limits l = kt_limits(64 << 10, 1 << 20, 256 << 10);
  knit_mailbox *mb = mk(&l, NULL);
  uint8_t *buf;
  assert_int_equal(knit_mailbox_reserve(mb, (256 << 10) + 1, &buf), -EMSGSIZE);
  assert_int_equal(knit_mailbox_reserve(mb, SIZE_MAX, &buf), -EMSGSIZE);
  assert_int_equal(knit_mailbox_in_use(mb), 0);
  assert_int_equal(knit_mailbox_reserve(mb, 256 << 10, &buf), 31);
  knit_mailbox_destroy(mb);
}

/* ---- two threads through a lane: echo round trips ------------------------ */

typedef struct echo {
  knit_lane *lane;
  unsigned count;
  atomic_int failures;
} echo;

/* Worker: echoes every request back as a response, in batches. */
static void *echo_worker(void *arg) {
  echo *e = arg;
  knit_msg in[KNIT_SLOTS];
  knit_wait_opts o = {.spin_ns = 20000, .park_ns = 0};
  unsigned seen = 0;
  while (seen < e->count) {
    knit_wait(e->lane->worker_signal, knit_mailbox_pending, e->lane->requests, &o);
    unsigned n = knit_mailbox_take(e->lane->requests, in);
    /* Within a batch, take goes by ascending slot while reserve hands out
     * the highest free slot first: check exactly-once, not order. */
    uint32_t batch_seen = 0;
    for (unsigned i = 0; i < n; i++) {
      uint64_t seq;
      if (in[i].status != KNIT_OK || kt_msg_check(in[i].data, in[i].len, &seq) ||
          seq != in[i].call || seq < seen || seq >= seen + n || (batch_seen >> (seq - seen)) & 1)
        atomic_fetch_add(&e->failures, 1);
      else
        batch_seen |= 1u << (seq - seen);
      if (knit_mailbox_put(e->lane->responses, in[i].task, in[i].call, KNIT_OK, in[i].data,
                           in[i].len, in[i].enqueued_ns) < 0)
        atomic_fetch_add(&e->failures, 1);
    }
    knit_mailbox_ack(e->lane->requests);
    knit_mailbox_publish(e->lane->responses);
    seen += n;
  }
  return NULL;
}

static void run_echo(uint64_t spin_ns) {
  knit_signal *host;
  assert_int_equal(knit_signal_create(&host), 0);
  knit_lane *lane = NULL;
  assert_int_equal(knit_lane_create(NULL, host, &lane), 0);
  assert_ptr_equal(lane->host_signal, host);
  echo e = {.lane = lane, .count = 20000};
  kt_thread t;
  kt_spawn(&t, echo_worker, &e);
  kt_rng rng;
  kt_rng_seed(&rng, kt_seed_from_env(42));
  static uint8_t buf[4096];
  knit_msg in[KNIT_SLOTS];
  knit_wait_opts o = {.spin_ns = spin_ns, .park_ns = 0};
  unsigned sent = 0, got = 0;
  while (sent < e.count) {
    unsigned batch = (unsigned)kt_rng_range(&rng, 1, 32);
    if (batch > e.count - sent) batch = e.count - sent;
    for (unsigned i = 0; i < batch; i++) {
      size_t len = (size_t)kt_rng_range(&rng, KT_MSG_MIN, kt_rng_below(&rng, 4) ? 400 : 4096);
      kt_msg_build(&rng, buf, len, sent + i);
      assert_true(knit_mailbox_put(lane->requests, 1, sent + i, KNIT_OK, buf, len, 0) >= 0);
    }
    assert_int_equal(knit_mailbox_publish(lane->requests), batch);
    sent += batch;
    bool seen[KNIT_SLOTS] = {false};
    while (got < sent) {
      knit_wait(host, knit_mailbox_pending, lane->responses, &o);
      unsigned n = knit_mailbox_take(lane->responses, in);
      for (unsigned i = 0; i < n; i++) {
        uint64_t seq;
        assert_int_equal(kt_msg_check(in[i].data, in[i].len, &seq), 0);
        assert_int_equal(in[i].call, seq);
        assert_true(seq >= sent - batch && seq < sent);
        assert_false(seen[seq - (sent - batch)]);
        seen[seq - (sent - batch)] = true;
      }
      knit_mailbox_ack(lane->responses);
      got += n;
    }
  }
  kt_join(&t);
  assert_int_equal(atomic_load(&e.failures), 0);
  assert_int_equal(got, e.count);
  knit_lane_destroy(lane);
  knit_signal_destroy(host);
}

static void test_lane_echo_spinning(void **state) {
  (void)state;
  run_echo(1000000);
}

static void test_lane_echo_parked(void **state) {
  (void)state;
  run_echo(0);
}

/* Room (protocol.md §5): a consumer going idle rings only a producer that
 * asked, and the ring wakes it from a park on its signal. */
typedef struct room_fx {
  knit_mailbox *mb;
} room_fx;

static void *take_and_ring(void *arg) {
  room_fx *f = arg;
  kt_sleep_ms(20);
  knit_msg msgs[KNIT_SLOTS];
  assert_int_equal(knit_mailbox_take(f->mb, msgs), 1);
  knit_mailbox_ack(f->mb);
  knit_mailbox_ring_room(f->mb);
  return NULL;
}

static void test_room_ring(void **state) {
  (void)state;
  knit_signal *sig;
  assert_int_equal(knit_signal_create(&sig), 0);
  knit_mailbox *mb = mk(NULL, NULL);
  knit_mailbox_ring_room(mb); /* nobody asked */
  assert_false(knit_mailbox_rung(mb));
  knit_mailbox_want_room(mb, sig);
  knit_mailbox_ring_room(mb);
  assert_true(knit_mailbox_rung(mb));
  knit_mailbox_want_room(mb, sig); /* a new request starts unrung */
  assert_false(knit_mailbox_rung(mb));
  /* across threads: the producer parks until the consumer frees a slot */
  assert_true(knit_mailbox_put(mb, 1, 1, KNIT_OK, "x", 1, 0) >= 0);
  knit_mailbox_publish(mb);
  room_fx f = {mb};
  kt_thread t;
  kt_spawn(&t, take_and_ring, &f);
  assert_int_equal(knit_signal_park(sig, knit_mailbox_rung, mb, 5000 * MS), 1);
  kt_join(&t);
  assert_int_equal(knit_mailbox_in_use(mb), 0);
  knit_mailbox_want_room(mb, NULL); /* withdrawn: no ring */
  knit_mailbox_ring_room(mb);
  assert_false(knit_mailbox_rung(mb));
  knit_mailbox_destroy(mb);
  knit_signal_destroy(sig);
}

/* knit_lane_take orders a batch by token, across the wrap, whatever slots
 * the calls got. */
static void test_lane_take_in_token_order(void **state) {
  (void)state;
  knit_signal *host;
  knit_lane *lane;
  assert_int_equal(knit_signal_create(&host), 0);
  assert_int_equal(knit_lane_create(NULL, host, &lane), 0);
  const uint32_t tokens[] = {0xffffffffu, 2, 0xfffffffeu, 1}; /* sent: fffffffe, ffffffff, 1, 2 */
  for (unsigned i = 0; i < 4; i++) {
    int slot = knit_mailbox_put(lane->requests, 0, tokens[i], KNIT_OK, "x", 1, 0);
    assert_true(slot >= 0);
    knit_mailbox_set_aux(lane->requests, (unsigned)slot, tokens[i]);
  }
  knit_mailbox_publish(lane->requests);
  knit_msg out[KNIT_SLOTS];
  assert_int_equal(knit_lane_take(lane, out), 4);
  const uint32_t want[] = {0xfffffffeu, 0xffffffffu, 1, 2};
  for (unsigned i = 0; i < 4; i++) assert_int_equal(out[i].aux, want[i]);
  knit_mailbox_ack(lane->requests);
  knit_lane_destroy(lane);
  knit_signal_destroy(host);
}

static void test_lane_create_destroy(void **state) {
  (void)state;
  knit_lane *lane = NULL;
  assert_int_equal(knit_lane_create(NULL, NULL, &lane), 0);
  assert_non_null(lane->requests);
  assert_non_null(lane->responses);
  assert_non_null(lane->worker_signal);
  assert_null(lane->host_signal);
  knit_lane_destroy(lane);
  knit_lane_destroy(NULL);
  knit_limits bad = kt_limits(2 << 20, 1 << 20, 1 << 20);
  lane = NULL;
  assert_int_equal(knit_lane_create(&bad, NULL, &lane), -EINVAL);
  assert_null(lane);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_create_layout),
      cmocka_unit_test(test_reserve_highest_free_bit),
      cmocka_unit_test(test_publish_take_ack),
      cmocka_unit_test(test_untaken),
      cmocka_unit_test(test_zero_length_and_stage_len),
      cmocka_unit_test(test_reserved_unstaged_not_published),
      cmocka_unit_test(test_batch_32),
      cmocka_unit_test(test_partial_batches),
      cmocka_unit_test(test_toggle_cycles),
      cmocka_unit_test(test_inline_edge),
      cmocka_unit_test(test_emsgsize),
      cmocka_unit_test(test_room_ring),
      cmocka_unit_test(test_lane_take_in_token_order),
      cmocka_unit_test(test_lane_create_destroy),
      cmocka_unit_test(test_lane_echo_spinning),
      cmocka_unit_test(test_lane_echo_parked),
  };
  return cmocka_run_group_tests_name("mailbox", tests, NULL, NULL);
}

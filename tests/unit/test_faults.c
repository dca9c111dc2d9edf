/* test-faults: issue 9's faults, injected in C. A worker that dies between
 * take and ack, a full arena, a peer that never answers, and corrupt slot
 * headers. In each case the producer or host sees a clear error (-EAGAIN,
 * a timed-out wait, KNIT_CORRUPT) and the process carries on. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

#define MS 1000000ull
#define KiB ((size_t)1 << 10)

/* The slot header as docs/protocol.md lays it out. */
typedef struct hdr {
  uint32_t task, call, status, flags;
  uint64_t len, offset, enqueued_ns;
} hdr;
enum { IN_ARENA = 1 };

static hdr *header(knit_mailbox *mb, unsigned slot) { return knit__mailbox_slot_header(mb, slot); }

static knit_arena_stats stats(knit_mailbox *mb) {
  knit_arena_stats st;
  knit_mailbox_arena_stats(mb, &st);
  return st;
}

static void reclaim(knit_mailbox *mb) {
  uint8_t *b;
  int s = knit_mailbox_reserve(mb, 0, &b);
  assert_true(s >= 0);
  knit_mailbox_unreserve(mb, (unsigned)s);
}

/* Sends @n messages of mixed sizes through @mb and checks them. */
static void round_trips(knit_mailbox *mb, unsigned n, uint64_t seed) {
  knit_msg out[KNIT_SLOTS];
  for (unsigned i = 0; i < n; i++) {
    size_t len = (i % 3 == 0) ? 5000 + i : 100 + i;
    assert_true(kt_put_pattern(mb, len, seed + i, (uint32_t)len) >= 0);
    assert_int_equal(knit_mailbox_publish(mb), 1);
    assert_int_equal(knit_mailbox_take(mb, out), 1);
    assert_int_equal(out[0].status, KNIT_OK);
    assert_int_equal(out[0].len, len);
    assert_int_equal(kt_pattern_check(out[0].data, len, seed + i), len);
    knit_mailbox_ack(mb);
  }
  reclaim(mb);
  assert_int_equal(stats(mb).regions, 0);
  assert_int_equal(knit_mailbox_in_use(mb), 0);
}

/* ---- a worker that dies between take and ack ------------------------------ */

typedef struct dying {
  knit_mailbox *mb;
  knit_signal *sig;
  unsigned took;
  knit_msg out[KNIT_SLOTS];
} dying;

static void *take_and_die(void *arg) {
  dying *d = arg;
  knit_wait_opts o = {.spin_ns = 100000, .park_ns = 0};
  knit_wait(d->sig, knit_mailbox_pending, d->mb, &o);
  d->took = knit_mailbox_take(d->mb, d->out);
  return NULL; /* exits without knit_mailbox_ack */
}

static void test_worker_dies_before_ack(void **state) {
  (void)state;
  knit_signal *sig;
  assert_int_equal(knit_signal_create(&sig), 0);
  knit_mailbox *mb;
  assert_int_equal(knit_mailbox_create(NULL, sig, &mb), 0);
  dying d = {.mb = mb, .sig = sig};
  kt_thread t;
  kt_spawn(&t, take_and_die, &d);
  for (unsigned i = 0; i < 32; i++)
    assert_true(kt_put_pattern(mb, (i % 2) ? 64 : 10000, i, i) >= 0);
  assert_int_equal(knit_mailbox_publish(mb), 32);
  kt_join(&t);
  assert_int_equal(d.took, 32);
  /* the producer gets -EAGAIN, every time, without blocking */
  uint8_t *buf;
  uint64_t t0 = knit_now_ns();
  for (int i = 0; i < 100000; i++) assert_int_equal(knit_mailbox_reserve(mb, 8, &buf), -EAGAIN);
  assert_true(knit_now_ns() - t0 < 5000 * MS);
  assert_int_equal(knit_mailbox_in_use(mb), 32);
  /* the payloads the dead worker held were not touched */
  for (unsigned k = 0; k < 32; k++) {
    unsigned i = 31 - d.out[k].slot;
    size_t len = (i % 2) ? 64 : 10000;
    assert_int_equal(d.out[k].len, len);
    assert_int_equal(kt_pattern_check(d.out[k].data, len, i), len);
  }
  /* a host waiting for a slot to free up times out: a clear error, no hang */
  knit_wait_opts o = {.spin_ns = 1 * MS, .park_ns = 30 * MS};
  t0 = knit_now_ns();
  assert_int_equal(knit_wait(sig, knit_mailbox_pending, mb, &o), 0);
  uint64_t dt = knit_now_ns() - t0;
  assert_true(dt >= 30 * MS && dt < 5000 * MS);
  /* the mailbox can still be torn down cleanly (ASan checks for leaks) */
  knit_mailbox_destroy(mb);
  knit_signal_destroy(sig);
}

/* A worker that dies holding part of the slots: the producer keeps the rest
 * and hits -EAGAIN only when those run out too. */
static void test_worker_dies_partial(void **state) {
  (void)state;
  knit_mailbox *mb;
  assert_int_equal(knit_mailbox_create(NULL, NULL, &mb), 0);
  knit_msg out[KNIT_SLOTS];
  for (unsigned i = 0; i < 10; i++) assert_true(kt_put_pattern(mb, 1000, i, 0) >= 0);
  knit_mailbox_publish(mb);
  assert_int_equal(knit_mailbox_take(mb, out), 10); /* ...and never acked */
  unsigned sent = 0;
  int s;
  while ((s = kt_put_pattern(mb, 2000, 100u + sent, 0)) >= 0) sent++;
  assert_int_equal(s, -EAGAIN);
  assert_int_equal(sent, 22);
  assert_int_equal(knit_mailbox_publish(mb), 22);
  assert_int_equal(knit_mailbox_in_use(mb), 32);
  for (unsigned k = 0; k < 10; k++)
    assert_int_equal(kt_pattern_check(out[k].data, 1000, out[k].call), 1000);
  knit_mailbox_destroy(mb);
}

/* ---- a full arena ------------------------------------------------------------ */

static void test_full_arena_recovers(void **state) {
  (void)state;
  knit_limits l = kt_limits(64 * KiB, 256 * KiB, 128 * KiB);
  knit_mailbox *mb;
  assert_int_equal(knit_mailbox_create(&l, NULL, &mb), 0);
  knit_msg out[KNIT_SLOTS];
  unsigned sent = 0;
  int s;
  while ((s = kt_put_pattern(mb, 100 * KiB, sent, 0)) >= 0) sent++;
  assert_int_equal(s, -EAGAIN);
  assert_int_equal(sent, 2); /* 2 x 100K (rounded) fit in 256K, a third does not */
  assert_int_equal(stats(mb).committed, 256 * KiB);
  /* small payloads still go inline */
  assert_true(kt_put_pattern(mb, 100, 77, 0) >= 0);
  knit_mailbox_publish(mb);
  for (int i = 0; i < 1000; i++) assert_int_equal(kt_put_pattern(mb, 100 * KiB, 9, 0), -EAGAIN);
  assert_int_equal(knit_mailbox_take(mb, out), 3);
  assert_int_equal(kt_put_pattern(mb, 100 * KiB, 9, 0), -EAGAIN); /* not acked yet */
  knit_mailbox_ack(mb);
  round_trips(mb, 200, 500);
  knit_mailbox_destroy(mb);
}

typedef struct slow_consumer {
  knit_mailbox *mb;
  knit_signal *sig;
  unsigned want;
  atomic_uint got;
  atomic_int bad;
} slow_consumer;

static void *slow_consume(void *arg) {
  slow_consumer *c = arg;
  knit_msg out[KNIT_SLOTS];
  knit_wait_opts o = {.spin_ns = 10000, .park_ns = 100 * MS};
  while (atomic_load(&c->got) < c->want) {
    if (!knit_wait(c->sig, knit_mailbox_pending, c->mb, &o)) continue;
    unsigned n = knit_mailbox_take(c->mb, out);
    kt_sleep_ms(1); /* hold the arena a while */
    for (unsigned i = 0; i < n; i++)
      if (kt_pattern_check(out[i].data, out[i].len, out[i].call) != out[i].len)
        atomic_fetch_add(&c->bad, 1);
    knit_mailbox_ack(c->mb);
    atomic_fetch_add(&c->got, n);
  }
  return NULL;
}

/* A producer against a slow consumer and a small arena: -EAGAIN is
 * transient; retrying after acks delivers everything intact. */
static void test_full_arena_threaded(void **state) {
  (void)state;
  knit_signal *sig;
  assert_int_equal(knit_signal_create(&sig), 0);
  knit_limits l = kt_limits(0, 512 * KiB, 200 * KiB);
  knit_mailbox *mb;
  assert_int_equal(knit_mailbox_create(&l, sig, &mb), 0);
  slow_consumer c = {.mb = mb, .sig = sig, .want = 300};
  kt_thread t;
  kt_spawn(&t, slow_consume, &c);
  kt_rng rng;
  kt_rng_seed(&rng, 5);
  unsigned eagain = 0;
  for (unsigned i = 0; i < c.want; i++) {
    size_t len = (size_t)kt_rng_range(&rng, 1, 200 * KiB);
    int s;
    while ((s = kt_put_pattern(mb, len, i, 0)) == -EAGAIN) {
      eagain++;
      knit_mailbox_publish(mb);
      kt_sleep_ns(50000);
    }
    assert_true(s >= 0);
    if (i % 4 == 3) knit_mailbox_publish(mb);
  }
  knit_mailbox_publish(mb);
  kt_join(&t);
  assert_int_equal(atomic_load(&c.bad), 0);
  assert_int_equal(atomic_load(&c.got), c.want);
  assert_true(eagain > 0);
  knit_mailbox_destroy(mb);
  knit_signal_destroy(sig);
}

/* ---- a peer that never answers -------------------------------------------- */

static void test_peer_never_answers(void **state) {
  (void)state;
  knit_signal *host;
  assert_int_equal(knit_signal_create(&host), 0);
  knit_lane *lane;
  assert_int_equal(knit_lane_create(NULL, host, &lane), 0);
  /* requests go out; no worker thread ever takes them */
  for (int i = 0; i < 5; i++)
    assert_true(knit_mailbox_put(lane->requests, 1, (uint32_t)i, KNIT_OK, "req", 3, 0) >= 0);
  assert_int_equal(knit_mailbox_publish(lane->requests), 5);
  /* a deadline-bounded wait for the response returns, each park in time */
  knit_wait_opts o = {.spin_ns = 1 * MS, .park_ns = 20 * MS};
  uint64_t t0 = knit_now_ns(), deadline = t0 + 100 * MS;
  int parks = 0;
  while (knit_now_ns() < deadline) {
    assert_int_equal(knit_wait(host, knit_mailbox_pending, lane->responses, &o), 0);
    parks++;
  }
  uint64_t dt = knit_now_ns() - t0;
  assert_true(parks >= 1 && parks <= 6);
  assert_true(dt >= 100 * MS && dt < 5000 * MS);
  /* a bare park too */
  t0 = knit_now_ns();
  assert_int_equal(knit_signal_park(host, knit_mailbox_pending, lane->responses, 10 * MS), 0);
  assert_true(knit_now_ns() - t0 >= 9 * MS);
  /* the lane can be destroyed with requests still in flight */
  knit_lane_destroy(lane);
  knit_signal_destroy(host);
}

/* ---- corrupt slot headers ----------------------------------------------------- */

typedef enum { T_INLINE, T_ARENA } target_kind;

typedef struct corruption {
  const char *what;
  target_kind kind;
  void (*apply)(hdr *h, const knit_arena_stats *st);
} corruption;

static void c_status2(hdr *h, const knit_arena_stats *st) { (void)st; h->status = KNIT_CORRUPT; }
static void c_status_max(hdr *h, const knit_arena_stats *st) { (void)st; h->status = UINT32_MAX; }
static void c_flags2(hdr *h, const knit_arena_stats *st) { (void)st; h->flags = 2; }
static void c_flags_high(hdr *h, const knit_arena_stats *st) { (void)st; h->flags |= 0x80000000u; }
static void c_len_449(hdr *h, const knit_arena_stats *st) { (void)st; h->len = KNIT_INLINE_BYTES + 1; }
static void c_len_max(hdr *h, const knit_arena_stats *st) { (void)st; h->len = UINT64_MAX; }
static void c_len_top(hdr *h, const knit_arena_stats *st) { (void)st; h->len = 1ull << 63; }
static void c_len_payload(hdr *h, const knit_arena_stats *st) { (void)st; h->len = (8u << 20) + 1; }
static void c_len_committed(hdr *h, const knit_arena_stats *st) { h->len = st->committed - h->offset + 1; }
static void c_off_misaligned(hdr *h, const knit_arena_stats *st) { (void)st; h->offset += 1; }
static void c_off_committed(hdr *h, const knit_arena_stats *st) { h->offset = st->committed; }
static void c_off_wrap(hdr *h, const knit_arena_stats *st) { (void)st; h->offset = UINT64_MAX - 63; }
static void c_off_far(hdr *h, const knit_arena_stats *st) { (void)st; h->offset = 1ull << 40; }
static void c_arena_to_inline(hdr *h, const knit_arena_stats *st) { (void)st; h->flags = 0; }

static const corruption corruptions[] = {
    {"status = KNIT_CORRUPT", T_INLINE, c_status2},
    {"status = UINT32_MAX", T_ARENA, c_status_max},
    {"flags = 2", T_INLINE, c_flags2},
    {"flags high bit", T_ARENA, c_flags_high},
    {"inline len 449", T_INLINE, c_len_449},
    {"inline len UINT64_MAX", T_INLINE, c_len_max},
    {"arena len 2^63", T_ARENA, c_len_top},
    {"arena len > payload_max", T_ARENA, c_len_payload},
    {"arena len past committed", T_ARENA, c_len_committed},
    {"arena offset misaligned", T_ARENA, c_off_misaligned},
    {"arena offset = committed", T_ARENA, c_off_committed},
    {"arena offset wraps", T_ARENA, c_off_wrap},
    {"arena offset 1 TiB", T_ARENA, c_off_far},
    {"arena slot marked inline", T_ARENA, c_arena_to_inline},
};

/* Each corruption: the corrupt slot comes back as KNIT_CORRUPT with no data,
 * its batch-mates are intact, and the mailbox keeps working, arena included. */
static void test_corrupt_headers(void **state) {
  (void)state;
  for (size_t c = 0; c < sizeof corruptions / sizeof corruptions[0]; c++) {
    print_message("corruption: %s\n", corruptions[c].what);
    knit_mailbox *mb;
    assert_int_equal(knit_mailbox_create(NULL, NULL, &mb), 0);
    int a = kt_put_pattern(mb, 100, 1, 1);        /* inline neighbour */
    int b = kt_put_pattern(mb, 30000, 2, 2);      /* arena neighbour */
    size_t len = corruptions[c].kind == T_ARENA ? 20000 : 300;
    int v = kt_put_pattern(mb, len, 3, 3);        /* the victim */
    assert_true(a >= 0 && b >= 0 && v >= 0);
    assert_int_equal(knit_mailbox_publish(mb), 3);
    knit_arena_stats st = stats(mb);
    corruptions[c].apply(header(mb, (unsigned)v), &st);
    knit_msg out[KNIT_SLOTS];
    assert_int_equal(knit_mailbox_take(mb, out), 3);
    for (unsigned k = 0; k < 3; k++) {
      if (out[k].slot == (unsigned)v) {
        if (out[k].status != KNIT_CORRUPT) fail_msg("%s: not reported corrupt", corruptions[c].what);
        assert_null(out[k].data);
        assert_int_equal(out[k].len, 0);
        assert_int_equal(out[k].task, 3); /* the call can still be failed */
      } else {
        assert_int_equal(out[k].status, KNIT_OK);
        assert_int_equal(kt_pattern_check(out[k].data, out[k].len, out[k].task), out[k].len);
      }
    }
    knit_mailbox_ack(mb);
    round_trips(mb, 100, 1000 * c);
    /* the arena has all its room back: the whole payload_max still fits */
    assert_true(kt_put_pattern(mb, 8u << 20, 9, 9) >= 0);
    knit_mailbox_destroy(mb);
  }
}

/* A consumer that rewrites an inline slot's header to point at another
 * slot's live arena region must not make the producer free that region. */
static void test_corrupt_header_cannot_free_live_region(void **state) {
  (void)state;
  knit_mailbox *mb;
  assert_int_equal(knit_mailbox_create(NULL, NULL, &mb), 0);
  uint8_t *live;
  int held = knit_mailbox_reserve(mb, 50000, &live); /* region at offset 0 */
  assert_true(held >= 0);
  kt_pattern_fill(live, 50000, 42);
  int v = kt_put_pattern(mb, 10, 1, 1); /* inline */
  knit_mailbox_publish(mb);
  hdr *h = header(mb, (unsigned)v);
  h->flags = IN_ARENA;
  h->offset = 0;
  knit_msg out[KNIT_SLOTS];
  assert_int_equal(knit_mailbox_take(mb, out), 1);
  knit_mailbox_ack(mb);
  /* the producer goes on: a new arena payload must not land on `live` */
  uint8_t *fresh;
  int s = knit_mailbox_reserve(mb, 50000, &fresh);
  assert_true(s >= 0);
  assert_true(fresh >= live + 50000 || fresh + 50000 <= live);
  memset(fresh, 0, 50000);
  assert_int_equal(kt_pattern_check(live, 50000, 42), 50000);
  knit_mailbox_destroy(mb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_worker_dies_before_ack),
      cmocka_unit_test(test_worker_dies_partial),
      cmocka_unit_test(test_full_arena_recovers),
      cmocka_unit_test(test_full_arena_threaded),
      cmocka_unit_test(test_peer_never_answers),
      cmocka_unit_test(test_corrupt_headers),
      cmocka_unit_test(test_corrupt_header_cannot_free_live_region),
  };
  return cmocka_run_group_tests_name("faults", tests, NULL, NULL);
}

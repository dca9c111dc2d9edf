/* test-arena: the payload arena behind each mailbox (arena.c), observed
 * through reserve/publish/take/ack and knit_mailbox_arena_stats. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "helpers.h"

#define KiB ((size_t)1 << 10)
#define MiB ((size_t)1 << 20)

static size_t page_up(size_t v) {
  size_t pg = (size_t)sysconf(_SC_PAGESIZE);
  return (v + pg - 1) / pg * pg;
}

static knit_mailbox *mk(size_t initial, size_t max, size_t payload_max) {
  knit_limits l = kt_limits(initial, max, payload_max);
  knit_mailbox *mb = NULL;
  assert_int_equal(knit_mailbox_create(&l, NULL, &mb), 0);
  return mb;
}

static knit_arena_stats stats(knit_mailbox *mb) {
  knit_arena_stats st;
  knit_mailbox_arena_stats(mb, &st);
  return st;
}

/* Publishes everything staged, takes it all and acknowledges. */
static unsigned flush(knit_mailbox *mb) {
  knit_msg out[KNIT_SLOTS];
  knit_mailbox_publish(mb);
  unsigned n = knit_mailbox_take(mb, out);
  knit_mailbox_ack(mb);
  return n;
}

/* A reserve of an inline size: lets the producer reclaim acknowledged regions. */
static void reclaim(knit_mailbox *mb) {
  uint8_t *buf;
  int s = knit_mailbox_reserve(mb, 1, &buf);
  assert_true(s >= 0);
  knit_mailbox_unreserve(mb, (unsigned)s);
}

static void test_initial_state(void **state) {
  (void)state;
  knit_mailbox *mb = mk(64 * KiB, 1 * MiB, 512 * KiB);
  knit_arena_stats st = stats(mb);
  assert_int_equal(st.committed, 64 * KiB);
  assert_int_equal(st.reserved, 1 * MiB);
  assert_int_equal(st.used, 0);
  assert_int_equal(st.regions, 0);
  knit_mailbox_destroy(mb);
  /* defaults */
  knit_mailbox *md = NULL;
  assert_int_equal(knit_mailbox_create(NULL, NULL, &md), 0);
  st = stats(md);
  assert_int_equal(st.committed, 4 * MiB);
  assert_int_equal(st.reserved, 64 * MiB);
  knit_mailbox_destroy(md);
}

/* Growth on demand, doubling, from the initial size to the maximum. */
static void test_growth_to_max(void **state) {
  (void)state;
  knit_mailbox *mb = mk(64 * KiB, 1 * MiB, 1 * MiB);
  uint8_t *buf;
  size_t prev = stats(mb).committed;
  unsigned grew = 0;
  uint64_t seed = 0;
  for (int i = 0; i < 31; i++) {
    int s = knit_mailbox_reserve(mb, 32 * KiB, &buf);
    if (s == -EAGAIN) break;
    assert_true(s >= 0);
    kt_pattern_fill(buf, 32 * KiB, seed++);
    knit_mailbox_stage(mb, (unsigned)s, 0, 0, KNIT_OK, 32 * KiB, 0);
    knit_arena_stats st = stats(mb);
    assert_true(st.committed >= prev);
    assert_true(st.committed <= st.reserved);
    assert_true(st.used <= st.committed);
    if (st.committed != prev) {
      assert_int_equal(st.committed, prev * 2);
      grew++;
    }
    prev = st.committed;
  }
  assert_int_equal(grew, 4); /* 64K -> 128K -> 256K -> 512K -> 1M */
  assert_int_equal(stats(mb).committed, 1 * MiB);
  assert_int_equal(stats(mb).used, 31 * 32 * KiB);
  /* every payload still reads intact after four growths */
  knit_msg out[KNIT_SLOTS];
  knit_mailbox_publish(mb);
  unsigned n = knit_mailbox_take(mb, out);
  assert_int_equal(n, 31);
  for (unsigned i = 0; i < n; i++) {
    uint64_t sd = 31u - out[i].slot; /* slot 31 got seed 0 */
    assert_int_equal(out[i].len, 32 * KiB);
    assert_int_equal(kt_pattern_check(out[i].data, 32 * KiB, sd), 32 * KiB);
  }
  knit_mailbox_ack(mb);
  knit_mailbox_destroy(mb);
}

/* arena_initial 0: the first arena payload commits memory. */
static void test_growth_from_zero(void **state) {
  (void)state;
  knit_mailbox *mb = mk(0, 1 * MiB, 1 * MiB);
  assert_int_equal(stats(mb).committed, 0);
  assert_true(kt_put_pattern(mb, 1000, 1, 0) >= 0);
  assert_true(stats(mb).committed >= 1024);
  assert_true(kt_put_pattern(mb, 300 * KiB, 2, 0) >= 0);
  assert_true(stats(mb).committed >= 1024 + 300 * KiB);
  assert_int_equal(flush(mb), 2);
  knit_mailbox_destroy(mb);
}

/* A region is freed once its slot is acknowledged; the producer notices at
 * its next reserve. Committed memory is kept (it never shrinks). */
static void test_free_on_ack(void **state) {
  (void)state;
  knit_mailbox *mb = mk(64 * KiB, 1 * MiB, 1 * MiB);
  assert_true(kt_put_pattern(mb, 10 * KiB, 1, 0) >= 0);
  assert_true(kt_put_pattern(mb, 100 * KiB, 2, 0) >= 0);
  knit_arena_stats st = stats(mb);
  assert_int_equal(st.regions, 2);
  assert_int_equal(st.used, 110 * KiB);
  size_t committed = st.committed;
  knit_msg out[KNIT_SLOTS];
  knit_mailbox_publish(mb);
  assert_int_equal(knit_mailbox_take(mb, out), 2);
  assert_int_equal(stats(mb).regions, 2); /* taken, not acked */
  knit_mailbox_ack(mb);
  assert_int_equal(stats(mb).regions, 2); /* acked, not yet reclaimed */
  reclaim(mb);
  st = stats(mb);
  assert_int_equal(st.regions, 0);
  assert_int_equal(st.used, 0);
  assert_int_equal(st.committed, committed);
  knit_mailbox_destroy(mb);
}

/* A freed region is reused: the same size lands at the same address. */
static void test_reuse(void **state) {
  (void)state;
  knit_mailbox *mb = mk(64 * KiB, 1 * MiB, 1 * MiB);
  uint8_t *first = NULL, *buf;
  for (int i = 0; i < 100; i++) {
    int s = knit_mailbox_reserve(mb, 20 * KiB, &buf);
    assert_true(s >= 0);
    if (!first) first = buf;
    assert_ptr_equal(buf, first);
    kt_pattern_fill(buf, 20 * KiB, (uint64_t)i);
    knit_mailbox_stage(mb, (unsigned)s, 0, (uint32_t)i, KNIT_OK, 20 * KiB, 0);
    knit_msg out[KNIT_SLOTS];
    knit_mailbox_publish(mb);
    assert_int_equal(knit_mailbox_take(mb, out), 1);
    assert_int_equal(kt_pattern_check(out[0].data, 20 * KiB, (uint64_t)i), 20 * KiB);
    knit_mailbox_ack(mb);
  }
  assert_int_equal(stats(mb).committed, 64 * KiB); /* never needed to grow */
  knit_mailbox_destroy(mb);
}

/* Fragmentation: free a middle region, fit a new payload into the gap; a
 * payload too big for any gap goes to the tail, growing the arena. */
static void test_fragmentation(void **state) {
  (void)state;
  knit_mailbox *mb = mk(256 * KiB, 1 * MiB, 1 * MiB);
  uint8_t *a, *b, *c, *buf;
  int sa = knit_mailbox_reserve(mb, 64 * KiB, &a);
  int sb = knit_mailbox_reserve(mb, 64 * KiB, &b);
  int sc = knit_mailbox_reserve(mb, 64 * KiB, &c);
  assert_true(sa >= 0 && sb >= 0 && sc >= 0);
  assert_int_equal(b - a, 64 * KiB);
  assert_int_equal(c - b, 64 * KiB);
  kt_pattern_fill(a, 64 * KiB, 0xA);
  kt_pattern_fill(c, 64 * KiB, 0xC);
  /* send only B; A and C stay reserved (live) */
  kt_pattern_fill(b, 64 * KiB, 0xB);
  knit_mailbox_stage(mb, (unsigned)sb, 0, 0, KNIT_OK, 64 * KiB, 0);
  assert_int_equal(flush(mb), 1);
  reclaim(mb);
  assert_int_equal(stats(mb).regions, 2);
  /* a payload that does not fit the 64K gap goes after C: 192K+128K > 256K */
  int se = knit_mailbox_reserve(mb, 128 * KiB, &buf);
  assert_true(se >= 0);
  assert_ptr_equal(buf, c + 64 * KiB);
  assert_int_equal(stats(mb).committed, 512 * KiB);
  /* one that fits the gap lands in it */
  int sd = knit_mailbox_reserve(mb, 40 * KiB, &buf);
  assert_true(sd >= 0);
  assert_ptr_equal(buf, b);
  /* a second small one fits the rest of the gap (64K - 40K = 24K) */
  int sf = knit_mailbox_reserve(mb, 24 * KiB, &buf);
  assert_true(sf >= 0);
  assert_ptr_equal(buf, b + 40 * KiB);
  /* the live neighbours were not touched */
  assert_int_equal(kt_pattern_check(a, 64 * KiB, 0xA), 64 * KiB);
  assert_int_equal(kt_pattern_check(c, 64 * KiB, 0xC), 64 * KiB);
  knit_arena_stats st = stats(mb);
  assert_int_equal(st.regions, 5);
  assert_int_equal(st.used, (64 + 64 + 128 + 40 + 24) * KiB);
  /* unreserve frees immediately */
  knit_mailbox_unreserve(mb, (unsigned)sa);
  assert_int_equal(stats(mb).regions, 4);
  assert_int_equal(knit_mailbox_reserve(mb, 64 * KiB, &buf) >= 0, 1);
  assert_ptr_equal(buf, a);
  knit_mailbox_destroy(mb);
}

/* Too big ever: -EMSGSIZE. Too big for now: -EAGAIN until acknowledged. */
static void test_limits_and_full(void **state) {
  (void)state;
  knit_mailbox *mb = mk(64 * KiB, 256 * KiB, 200 * KiB);
  uint8_t *buf;
  assert_int_equal(knit_mailbox_reserve(mb, 200 * KiB + 1, &buf), -EMSGSIZE);
  assert_int_equal(knit_mailbox_reserve(mb, 300 * KiB, &buf), -EMSGSIZE);
  assert_true(kt_put_pattern(mb, 200 * KiB, 1, 0) >= 0);
  /* grows to max(2 x committed, what is needed), page-rounded */
  assert_int_equal(stats(mb).committed, page_up(200 * KiB));
  assert_int_equal(knit_mailbox_reserve(mb, 100 * KiB, &buf), -EAGAIN);
  assert_int_equal(knit_mailbox_in_use(mb), 1); /* the failed reserve took no slot */
  assert_true(kt_put_pattern(mb, 50 * KiB, 2, 0) >= 0); /* still fits */
  knit_msg out[KNIT_SLOTS];
  knit_mailbox_publish(mb);
  assert_int_equal(knit_mailbox_take(mb, out), 2);
  assert_int_equal(knit_mailbox_reserve(mb, 100 * KiB, &buf), -EAGAIN); /* taken, not acked */
  knit_mailbox_ack(mb);
  int s = knit_mailbox_reserve(mb, 100 * KiB, &buf);
  assert_true(s >= 0);
  knit_mailbox_unreserve(mb, (unsigned)s);
  /* payload_max == arena_max: the whole arena in one payload */
  knit_mailbox *mw = mk(0, 256 * KiB, 256 * KiB);
  assert_true(kt_put_pattern(mw, 256 * KiB, 3, 0) >= 0);
  assert_int_equal(knit_mailbox_reserve(mw, 1000, &buf), -EAGAIN);
  assert_int_equal(flush(mw), 1);
  assert_true(kt_put_pattern(mw, 256 * KiB, 4, 0) >= 0);
  knit_mailbox_destroy(mw);
  knit_mailbox_destroy(mb);
}

/* The REFERENCE bug: a 5 MiB Float64Array came back cut to 4 MiB when the
 * arena grew. With default limits, write 5 MiB and check every byte; also a
 * 3 MiB payload written before the growth, still unread during it. */
static void test_5mib_across_growth(void **state) {
  (void)state;
  knit_mailbox *mb = NULL;
  assert_int_equal(knit_mailbox_create(NULL, NULL, &mb), 0);
  assert_int_equal(stats(mb).committed, 4 * MiB);
  assert_true(kt_put_pattern(mb, 3 * MiB, 33, 3) >= 0);
  knit_mailbox_publish(mb); /* published, not yet taken */
  assert_int_equal(stats(mb).committed, 4 * MiB);
  /* a Float64Array of 5 MiB, encoded in place */
  size_t n = 5 * MiB / 8;
  knit_writer w;
  knit_writer_init(&w, 8 * MiB);
  double *d = (double *)knit_put_binary_space(&w, KNIT_T_FLOAT64, n * 8);
  assert_non_null(d);
  for (size_t i = 0; i < n; i++) d[i] = (double)i * 0.5 - 1e6;
  assert_int_equal(knit_writer_error(&w), 0);
  assert_true(w.len > 5 * MiB);
  assert_true(knit_mailbox_put(mb, 5, 5, KNIT_OK, w.buf, w.len, 0) >= 0);
  /* grew past 4 MiB: 3 MiB + the 5 MiB array and its 8-byte head, page-rounded */
  assert_int_equal(stats(mb).committed, page_up(8 * MiB + 64));
  knit_mailbox_publish(mb);
  knit_msg out[KNIT_SLOTS];
  assert_int_equal(knit_mailbox_take(mb, out), 2);
  const knit_msg *big = out[0].task == 5 ? &out[0] : &out[1];
  const knit_msg *old = out[0].task == 5 ? &out[1] : &out[0];
  assert_int_equal(old->len, 3 * MiB);
  assert_int_equal(kt_pattern_check(old->data, 3 * MiB, 33), 3 * MiB);
  assert_int_equal(big->len, w.len);
  assert_memory_equal(big->data, w.buf, w.len);
  knit_reader r;
  knit_item it;
  knit_reader_init(&r, big->data, big->len);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_int_equal(it.tag, KNIT_T_FLOAT64);
  assert_int_equal(it.count, n);
  assert_int_equal(it.len, 5 * MiB);
  assert_int_equal((uintptr_t)it.data % 8, 0);
  const double *rd = it.data;
  for (size_t i = 0; i < n; i++)
    if (rd[i] != (double)i * 0.5 - 1e6) fail_msg("element %zu differs", i);
  assert_true(knit_reader_done(&r));
  knit_mailbox_ack(mb);
  knit_writer_clear(&w);
  /* and a raw 5 MiB pattern in a fresh mailbox, every byte checked */
  knit_mailbox *m2 = NULL;
  assert_int_equal(knit_mailbox_create(NULL, NULL, &m2), 0);
  assert_true(kt_put_pattern(m2, 5 * MiB, 55, 0) >= 0);
  knit_mailbox_publish(m2);
  assert_int_equal(knit_mailbox_take(m2, out), 1);
  assert_int_equal(out[0].len, 5 * MiB);
  assert_int_equal(kt_pattern_check(out[0].data, 5 * MiB, 55), 5 * MiB);
  knit_mailbox_ack(m2);
  knit_mailbox_destroy(m2);
  knit_mailbox_destroy(mb);
}

/* The largest payload the defaults allow, and one byte more. */
static void test_max_payload(void **state) {
  (void)state;
  knit_mailbox *mb = NULL;
  assert_int_equal(knit_mailbox_create(NULL, NULL, &mb), 0);
  uint8_t *buf;
  assert_int_equal(knit_mailbox_reserve(mb, 8 * MiB + 1, &buf), -EMSGSIZE);
  assert_true(kt_put_pattern(mb, 8 * MiB, 8, 0) >= 0);
  knit_msg out[KNIT_SLOTS];
  knit_mailbox_publish(mb);
  assert_int_equal(knit_mailbox_take(mb, out), 1);
  assert_int_equal(kt_pattern_check(out[0].data, 8 * MiB, 8), 8 * MiB);
  knit_mailbox_ack(mb);
  knit_mailbox_destroy(mb);
}

/* Random churn against a model of what is live: nothing overlaps, every
 * payload reads back intact, used matches the live sizes. */
static void test_random_churn(void **state) {
  (void)state;
  knit_mailbox *mb = mk(16 * KiB, 2 * MiB, 512 * KiB);
  kt_rng rng;
  kt_rng_seed(&rng, kt_seed_from_env(7));
  knit_msg out[KNIT_SLOTS];
  uint64_t seq = 0, next_check = 0;
  for (int round = 0; round < 600; round++) {
    unsigned k = (unsigned)kt_rng_range(&rng, 1, 32);
    for (unsigned i = 0; i < k; i++) {
      size_t len = kt_rng_below(&rng, 8) ? (size_t)kt_rng_below(&rng, 4 * KiB)
                                        : (size_t)kt_rng_below(&rng, 512 * KiB);
      int s = kt_put_pattern(mb, len, seq, (uint32_t)len);
      if (s == -EAGAIN) break;
      assert_true(s >= 0);
      seq++;
    }
    knit_mailbox_publish(mb);
    unsigned n = knit_mailbox_take(mb, out);
    for (unsigned i = 0; i < n; i++) {
      assert_int_equal(out[i].len, out[i].task);
      assert_int_equal(kt_pattern_check(out[i].data, out[i].len, out[i].call), out[i].len);
    }
    next_check += n;
    knit_mailbox_ack(mb);
  }
  assert_int_equal(next_check, seq);
  reclaim(mb);
  assert_int_equal(stats(mb).regions, 0);
  assert_int_equal(stats(mb).used, 0);
  knit_mailbox_destroy(mb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_initial_state),
      cmocka_unit_test(test_growth_to_max),
      cmocka_unit_test(test_growth_from_zero),
      cmocka_unit_test(test_free_on_ack),
      cmocka_unit_test(test_reuse),
      cmocka_unit_test(test_fragmentation),
      cmocka_unit_test(test_limits_and_full),
      cmocka_unit_test(test_5mib_across_growth),
      cmocka_unit_test(test_max_payload),
      cmocka_unit_test(test_random_churn),
  };
  return cmocka_run_group_tests_name("arena", tests, NULL, NULL);
}

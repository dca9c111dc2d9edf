/* test-watcher: the thread that turns a park into a callback (watcher.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../../runtime/src/signal_impl.h"
#include "helpers.h"

#define MS 1000000ull

typedef struct fixture {
  knit_signal *sig;
  atomic_int ready;
  atomic_int notified;
  knit_watcher *w;
} fixture;

static bool fx_ready(void *arg) { return atomic_load(&((fixture *)arg)->ready) != 0; }
static void fx_notify(void *arg) { atomic_fetch_add(&((fixture *)arg)->notified, 1); }

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f || knit_signal_create(&f->sig)) return -1;
  if (knit_watcher_start(f->sig, fx_ready, f, fx_notify, f, &f->w)) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  knit_watcher_stop(f->w);
  knit_signal_destroy(f->sig);
  free(f);
  return 0;
}

/* Waits up to 10 s for the notify count to reach @n. */
static void await_notified(fixture *f, int n) {
  uint64_t deadline = knit_now_ns() + 10000 * MS;
  while (atomic_load(&f->notified) < n) {
    assert_true(knit_now_ns() < deadline);
    kt_sleep_ns(200000);
  }
}

static void await_waiters(knit_signal *s, uint32_t n) {
  uint64_t deadline = knit_now_ns() + 10000 * MS;
  while (__atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST) != n) {
    assert_true(knit_now_ns() < deadline);
    kt_sleep_ns(200000);
  }
}

static void make_ready(fixture *f) {
  atomic_store(&f->ready, 1);
  knit_signal_wake(f->sig);
}

/* Armed: one notify when the condition holds, then disarmed. */
static void test_arm_notifies_once(void **state) {
  fixture *f = *state;
  kt_sleep_ms(10);
  /* disarmed, it does not park on the watched signal */
  assert_int_equal(__atomic_load_n(&f->sig->waiters, __ATOMIC_SEQ_CST), 0);
  knit_watcher_arm(f->w);
  await_waiters(f->sig, 1); /* parked on the watched signal */
  assert_int_equal(atomic_load(&f->notified), 0);
  make_ready(f);
  await_notified(f, 1);
  kt_sleep_ms(50);
  assert_int_equal(atomic_load(&f->notified), 1); /* once, though still ready */
  await_waiters(f->sig, 0);
  knit_signal_wake(f->sig);
  kt_sleep_ms(20);
  assert_int_equal(atomic_load(&f->notified), 1);
}

/* Arming while the condition already holds notifies without any wake. */
static void test_arm_when_ready(void **state) {
  fixture *f = *state;
  atomic_store(&f->ready, 1);
  knit_watcher_arm(f->w);
  await_notified(f, 1);
  /* re-arm: notifies again, once per arm */
  for (int i = 2; i <= 5; i++) {
    knit_watcher_arm(f->w);
    await_notified(f, i);
  }
  kt_sleep_ms(30);
  assert_int_equal(atomic_load(&f->notified), 5);
}

/* Disarmed before the condition holds: no notify. */
static void test_disarm(void **state) {
  fixture *f = *state;
  knit_watcher_arm(f->w);
  await_waiters(f->sig, 1);
  knit_watcher_disarm(f->w);
  await_waiters(f->sig, 0); /* moved off the watched signal */
  make_ready(f);
  kt_sleep_ms(100);
  assert_int_equal(atomic_load(&f->notified), 0);
  knit_watcher_disarm(f->w); /* twice is fine */
  /* re-arm works */
  knit_watcher_arm(f->w);
  await_notified(f, 1);
}

/* Re-arm after a notify, with the condition reset in between. */
static void test_rearm_cycle(void **state) {
  fixture *f = *state;
  for (int i = 1; i <= 20; i++) {
    atomic_store(&f->ready, 0);
    knit_watcher_arm(f->w);
    if (i % 2) await_waiters(f->sig, 1); /* sometimes parked, sometimes not yet */
    make_ready(f);
    await_notified(f, i);
  }
  kt_sleep_ms(20);
  assert_int_equal(atomic_load(&f->notified), 20);
}

typedef struct stopper {
  knit_watcher *w;
  uint64_t took;
} stopper;

/* Stop while parked on the watched signal joins promptly. */
static void test_stop_while_parked(void **state) {
  (void)state;
  fixture f = {0};
  assert_int_equal(knit_signal_create(&f.sig), 0);
  assert_int_equal(knit_watcher_start(f.sig, fx_ready, &f, fx_notify, &f, &f.w), 0);
  knit_watcher_arm(f.w);
  await_waiters(f.sig, 1);
  kt_sleep_ms(10);
  uint64_t t0 = knit_now_ns();
  knit_watcher_stop(f.w);
  assert_true(knit_now_ns() - t0 < 5000 * MS);
  assert_int_equal(__atomic_load_n(&f.sig->waiters, __ATOMIC_SEQ_CST), 0);
  assert_int_equal(atomic_load(&f.notified), 0);
  knit_signal_destroy(f.sig);
}

/* Stop while disarmed (parked on its control signal), and stop right after
 * start, and stop(NULL). */
static void test_stop_disarmed(void **state) {
  (void)state;
  for (int i = 0; i < 50; i++) {
    fixture f = {0};
    assert_int_equal(knit_signal_create(&f.sig), 0);
    assert_int_equal(knit_watcher_start(f.sig, fx_ready, &f, fx_notify, &f, &f.w), 0);
    if (i % 2) kt_sleep_ms(2);
    uint64_t t0 = knit_now_ns();
    knit_watcher_stop(f.w);
    assert_true(knit_now_ns() - t0 < 5000 * MS);
    assert_int_equal(atomic_load(&f.notified), 0);
    knit_signal_destroy(f.sig);
  }
  knit_watcher_stop(NULL);
}

/* The intended use: a watcher on a mailbox's peer signal tells the loop
 * that messages are pending; the loop takes them and re-arms. */
typedef struct mbfix {
  atomic_int notified;
} mbfix;
static void mb_notify(void *arg) { atomic_fetch_add(&((mbfix *)arg)->notified, 1); }

static void test_watch_mailbox(void **state) {
  (void)state;
  knit_signal *sig;
  assert_int_equal(knit_signal_create(&sig), 0);
  knit_mailbox *mb;
  assert_int_equal(knit_mailbox_create(NULL, sig, &mb), 0);
  mbfix m = {0};
  knit_watcher *w;
  assert_int_equal(knit_watcher_start(sig, knit_mailbox_pending, mb, mb_notify, &m, &w), 0);
  knit_msg out[KNIT_SLOTS];
  for (int i = 1; i <= 50; i++) {
    knit_watcher_arm(w);
    if (i % 3 == 0) kt_sleep_ms(1);
    assert_true(kt_put_pattern(mb, (size_t)i * 13, (uint64_t)i, 0) >= 0);
    knit_mailbox_publish(mb);
    uint64_t deadline = knit_now_ns() + 10000 * MS;
    while (atomic_load(&m.notified) < i) {
      assert_true(knit_now_ns() < deadline);
      kt_sleep_ns(100000);
    }
    /* after notify the watcher no longer reads the mailbox until re-armed */
    assert_int_equal(knit_mailbox_take(mb, out), 1);
    assert_int_equal(kt_pattern_check(out[0].data, out[0].len, (uint64_t)i), out[0].len);
    knit_mailbox_ack(mb);
  }
  knit_watcher_stop(w);
  assert_int_equal(atomic_load(&m.notified), 50);
  knit_mailbox_destroy(mb);
  knit_signal_destroy(sig);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_arm_notifies_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_arm_when_ready, setup, teardown),
      cmocka_unit_test_setup_teardown(test_disarm, setup, teardown),
      cmocka_unit_test_setup_teardown(test_rearm_cycle, setup, teardown),
      cmocka_unit_test(test_stop_while_parked),
      cmocka_unit_test(test_stop_disarmed),
      cmocka_unit_test(test_watch_mailbox),
  };
  return cmocka_run_group_tests_name("watcher", tests, NULL, NULL);
}

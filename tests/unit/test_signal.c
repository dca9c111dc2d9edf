/* test-signal: spin, idle hook, park and wake (signal.c), and the awake
 * count that spinning consults (crowd.c). The signal's words
 * are read through the runtime's own signal_impl.h so that "the waker skips
 * the syscall" and "wakes coalesce" can be observed, not just assumed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../../runtime/src/signal_impl.h"
#include "helpers.h"

#define MS 1000000ull

static bool flag_ready(void *arg) { return atomic_load((atomic_int *)arg) != 0; }
static bool never_ready(void *arg) {
  (void)arg;
  return false;
}

static uint32_t seq_of(knit_signal *s) { return __atomic_load_n(&s->seq, __ATOMIC_SEQ_CST); }
static uint32_t waiters_of(knit_signal *s) { return __atomic_load_n(&s->waiters, __ATOMIC_SEQ_CST); }

static void wait_for_waiters(knit_signal *s, uint32_t n) {
  uint64_t deadline = knit_now_ns() + 10000 * MS;
  while (waiters_of(s) != n) {
    assert_true(knit_now_ns() < deadline);
    kt_sleep_ns(100000);
  }
}

static void test_create_destroy(void **state) {
  (void)state;
  knit_signal *s = NULL;
  assert_int_equal(knit_signal_create(&s), 0);
  assert_non_null(s);
  assert_int_equal((uintptr_t)s % 64, 0); /* its own cache line */
  assert_int_equal(seq_of(s), 0);
  assert_int_equal(waiters_of(s), 0);
  knit_signal_destroy(s);
  knit_signal_destroy(NULL);
}

/* With nobody parked, a wake touches nothing: no seq bump, no syscall. */
static void test_wake_without_waiter_skips(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  for (int i = 0; i < 100000; i++) knit_signal_wake(s);
  assert_int_equal(seq_of(s), 0);
  assert_int_equal(s->wake_pending, 0);
  knit_signal_destroy(s);
}

static void test_park_ready_returns_1(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  atomic_int flag = 1;
  uint64_t t0 = knit_now_ns();
  assert_int_equal(knit_signal_park(s, flag_ready, &flag, 0), 1); /* no timeout: must not block */
  assert_int_equal(knit_signal_park(s, flag_ready, &flag, 10000 * MS), 1);
  assert_true(knit_now_ns() - t0 < 1000 * MS);
  assert_int_equal(waiters_of(s), 0); /* deregistered */
  knit_signal_destroy(s);
}

static void test_park_timeout(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  for (int i = 0; i < 3; i++) {
    uint64_t t0 = knit_now_ns();
    int rc = knit_signal_park(s, never_ready, NULL, 50 * MS);
    uint64_t dt = knit_now_ns() - t0;
    assert_int_equal(rc, 0);
    /* the kernel sleeps at least the timeout; allow 1 ms of rounding */
    assert_true(dt >= 49 * MS);
    assert_true(dt < 5000 * MS);
  }
  assert_int_equal(waiters_of(s), 0);
  knit_signal_destroy(s);
}

typedef struct parker {
  knit_signal *sig;
  atomic_int *flag;
  uint64_t timeout;
  int rc;
  uint64_t took;
} parker;

static void *park_thread(void *arg) {
  parker *p = arg;
  uint64_t t0 = knit_now_ns();
  p->rc = knit_signal_park(p->sig, p->flag ? flag_ready : never_ready, p->flag, p->timeout);
  p->took = knit_now_ns() - t0;
  return NULL;
}

/* Another thread's wake unparks a parked thread long before its timeout. */
static void test_wake_from_other_thread(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  atomic_int flag = 0;
  parker p = {.sig = s, .flag = &flag, .timeout = 20000 * MS};
  kt_thread t;
  kt_spawn(&t, park_thread, &p);
  wait_for_waiters(s, 1);
  kt_sleep_ms(20); /* let it reach FUTEX_WAIT */
  atomic_store(&flag, 1);
  knit_signal_wake(s);
  kt_join(&t);
  assert_int_equal(p.rc, 1);
  assert_true(p.took < 10000 * MS);
  assert_int_equal(seq_of(s), 1);
  assert_int_equal(waiters_of(s), 0);
  knit_signal_destroy(s);
}

/* A bare wake (condition still false) ends the park with 0. */
static void test_bare_wake_returns_0(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  parker p = {.sig = s, .flag = NULL, .timeout = 20000 * MS};
  kt_thread t;
  kt_spawn(&t, park_thread, &p);
  wait_for_waiters(s, 1);
  kt_sleep_ms(10);
  knit_signal_wake(s);
  kt_join(&t);
  assert_int_equal(p.rc, 0);
  assert_true(p.took < 10000 * MS);
  knit_signal_destroy(s);
}

/* Wakes issued while a waiter is registered and has not yet run coalesce:
 * only the first bumps seq (and enters the kernel). Simulated by holding a
 * waiter registration by hand. */
static void test_wakes_coalesce(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  __atomic_store_n(&s->waiters, 1, __ATOMIC_SEQ_CST);
  for (int i = 0; i < 1000; i++) knit_signal_wake(s);
  assert_int_equal(seq_of(s), 1);
  assert_int_equal(s->wake_pending, 1);
  __atomic_store_n(&s->waiters, 0, __ATOMIC_SEQ_CST);
  __atomic_store_n(&s->wake_pending, 0, __ATOMIC_SEQ_CST);
  /* A real park consumes the pending wake and re-enables the next one. */
  atomic_int flag = 1;
  assert_int_equal(knit_signal_park(s, flag_ready, &flag, 0), 1);
  assert_int_equal(s->wake_pending, 0);
  knit_signal_destroy(s);
}

typedef struct looper {
  knit_signal *sig;
  atomic_int stop;
  atomic_long parks;
} looper;

static bool stop_ready(void *arg) { return atomic_load(&((looper *)arg)->stop) != 0; }

static void *park_loop(void *arg) {
  looper *l = arg;
  while (!atomic_load(&l->stop)) {
    knit_signal_park(l->sig, stop_ready, l, 1000 * MS);
    atomic_fetch_add(&l->parks, 1);
  }
  return NULL;
}

/* A storm of wakes against a thread that keeps parking: no hang, no crash,
 * and far fewer parks than wakes (they coalesce or skip). */
static void test_wake_storm(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  looper l = {.sig = s};
  kt_thread t;
  kt_spawn(&t, park_loop, &l);
  wait_for_waiters(s, 1);
  for (int i = 0; i < 1000000; i++) knit_signal_wake(s);
  atomic_store(&l.stop, 1);
  knit_signal_wake(s);
  kt_join(&t);
  assert_true(atomic_load(&l.parks) >= 1);
  assert_true(seq_of(s) <= 1000001u);
  assert_int_equal(waiters_of(s), 0);
  knit_signal_destroy(s);
}

static void *cpu_parker(void *arg) {
  parker *p = arg;
  uint64_t c0 = kt_thread_cpu_ns();
  knit_signal_park(p->sig, never_ready, NULL, 300 * MS);
  p->took = kt_thread_cpu_ns() - c0;
  return NULL;
}

/* A parked thread uses (almost) no CPU. */
static void test_parked_uses_no_cpu(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  parker p = {.sig = s};
  kt_thread t;
  kt_spawn(&t, cpu_parker, &p);
  kt_join(&t);
  assert_true(p.took < 50 * MS);
  knit_signal_destroy(s);
}

/* Two threads parked on one signal, each waiting for its own condition (a
 * pool's shared host doorbell with a watcher and a host thread). The state
 * below is the one left when a first wake has set wake_pending and bumped
 * seq for waiter A, and A has not run yet: B registers after the bump, then
 * B's condition becomes true and its waker calls knit_signal_wake. That wake
 * must not be lost (see tests/model/knit.pml, property two_waiters). */
static void test_second_waiter_not_lost(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  /* waiter A: registered, woken (seq bumped, wake pending), not yet run */
  __atomic_store_n(&s->waiters, 1, __ATOMIC_SEQ_CST);
  knit_signal_wake(s);
  assert_int_equal(seq_of(s), 1);
  /* waiter B parks for its own condition */
  atomic_int flag = 0;
  parker p = {.sig = s, .flag = &flag, .timeout = 3000 * MS};
  kt_thread t;
  kt_spawn(&t, park_thread, &p);
  wait_for_waiters(s, 2);
  kt_sleep_ms(20);
  atomic_store(&flag, 1);
  knit_signal_wake(s);
  kt_join(&t);
  assert_int_equal(p.rc, 1);
  assert_true(p.took < 2000 * MS); /* woken, not timed out */
  knit_signal_destroy(s);
}

/* A single waiter. A waker read waiters == 1 during the previous park, was
 * preempted, and set wake_pending and bumped seq only after that park had
 * ended. The next park registers after the bump; a real wake must still
 * reach it (the first signal.c lost it: tests/model/knit.pml -DOLD_PARK). */
static void test_stale_pending_not_lost(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  __atomic_store_n(&s->waiters, 1, __ATOMIC_SEQ_CST); /* the previous park */
  knit_signal_wake(s);                                 /* the late waker */
  __atomic_store_n(&s->waiters, 0, __ATOMIC_SEQ_CST); /* previous park ended */
  assert_int_equal(s->wake_pending, 1);
  atomic_int flag = 0;
  parker p = {.sig = s, .flag = &flag, .timeout = 3000 * MS};
  kt_thread t;
  kt_spawn(&t, park_thread, &p);
  wait_for_waiters(s, 1);
  kt_sleep_ms(20);
  atomic_store(&flag, 1);
  knit_signal_wake(s);
  kt_join(&t);
  assert_int_equal(p.rc, 1);
  assert_true(p.took < 2000 * MS); /* woken, not timed out */
  knit_signal_destroy(s);
}

static void test_spin(void **state) {
  (void)state;
  atomic_int flag = 1;
  uint64_t t0 = knit_now_ns();
  assert_int_equal(knit_spin(flag_ready, &flag, 0), 1);
  assert_int_equal(knit_spin(flag_ready, &flag, 1000 * MS), 1);
  assert_true(knit_now_ns() - t0 < 500 * MS);
  assert_int_equal(knit_spin(never_ready, NULL, 0), 0);
  t0 = knit_now_ns();
  assert_int_equal(knit_spin(never_ready, NULL, 5 * MS), 0);
  uint64_t dt = knit_now_ns() - t0;
  assert_true(dt >= 5 * MS);
  assert_true(dt < 5000 * MS);
}

typedef struct phases {
  atomic_int ready_calls;
  atomic_int idle_calls;
  int ready_calls_at_idle;
  uint64_t idle_at;
  atomic_int become_ready_in_idle;
  atomic_int flag;
} phases;

static bool phase_ready(void *arg) {
  phases *ph = arg;
  atomic_fetch_add(&ph->ready_calls, 1);
  return atomic_load(&ph->flag) != 0;
}

static void phase_idle(void *arg) {
  phases *ph = arg;
  atomic_fetch_add(&ph->idle_calls, 1);
  ph->ready_calls_at_idle = atomic_load(&ph->ready_calls);
  ph->idle_at = knit_now_ns();
  if (atomic_load(&ph->become_ready_in_idle)) atomic_store(&ph->flag, 1);
}

/* knit_wait: spin for spin_ns, run the idle hook exactly once, then park. */
static void test_wait_idle_once_between_spin_and_park(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  phases ph = {0};
  knit_wait_opts o = {.spin_ns = 10 * MS, .park_ns = 30 * MS, .idle = phase_idle, .idle_arg = &ph};
  uint64_t t0 = knit_now_ns();
  assert_int_equal(knit_wait(s, phase_ready, &ph, &o), 0);
  uint64_t dt = knit_now_ns() - t0;
  assert_int_equal(atomic_load(&ph.idle_calls), 1);
  assert_true(ph.idle_at - t0 >= 10 * MS);    /* after the spin window */
  assert_true(ph.ready_calls_at_idle > 10);   /* the spin polled */
  assert_true(atomic_load(&ph.ready_calls) > ph.ready_calls_at_idle); /* park rechecked */
  assert_true(dt >= 39 * MS);                 /* spin + park */
  assert_true(dt < 5000 * MS);
  knit_signal_destroy(s);
}

/* Ready at once: neither the idle hook nor a park happens. */
static void test_wait_ready_skips_idle(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  phases ph = {0};
  atomic_store(&ph.flag, 1);
  knit_wait_opts o = {.spin_ns = 10 * MS, .park_ns = 0, .idle = phase_idle, .idle_arg = &ph};
  assert_int_equal(knit_wait(s, phase_ready, &ph, &o), 1);
  assert_int_equal(atomic_load(&ph.idle_calls), 0);
  /* no spin window and no idle hook: straight to park, which sees ready */
  knit_wait_opts o2 = {.spin_ns = 0, .park_ns = 0};
  assert_int_equal(knit_wait(s, phase_ready, &ph, &o2), 1);
  knit_signal_destroy(s);
}

/* The condition turns true inside the idle hook: no park follows. */
static void test_wait_ready_after_idle(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  phases ph = {0};
  atomic_store(&ph.become_ready_in_idle, 1);
  knit_wait_opts o = {.spin_ns = 1 * MS, .park_ns = 0, .idle = phase_idle, .idle_arg = &ph};
  uint64_t t0 = knit_now_ns();
  assert_int_equal(knit_wait(s, phase_ready, &ph, &o), 1); /* park_ns 0 would block forever */
  assert_int_equal(atomic_load(&ph.idle_calls), 1);
  assert_true(knit_now_ns() - t0 < 5000 * MS);
  assert_int_equal(waiters_of(s), 0);
  knit_signal_destroy(s);
}

/* With idle_after_ns past the spin window, the idle hook waits, parked,
 * until the wait has lasted that long; then the park of park_ns follows. */
static void test_wait_idle_after(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  phases ph = {0};
  knit_wait_opts o = {.spin_ns = 2 * MS, .park_ns = 10 * MS, .idle = phase_idle, .idle_arg = &ph,
                      .idle_after_ns = 30 * MS};
  uint64_t t0 = knit_now_ns();
  assert_int_equal(knit_wait(s, phase_ready, &ph, &o), 0);
  uint64_t dt = knit_now_ns() - t0;
  assert_int_equal(atomic_load(&ph.idle_calls), 1);
  assert_true(ph.idle_at - t0 >= 30 * MS);
  assert_true(dt >= 39 * MS); /* idle_after + park */
  assert_true(dt < 5000 * MS);
  knit_signal_destroy(s);
}

typedef struct idle_waiter {
  knit_signal *sig;
  phases *ph;
  int rc;
} idle_waiter;

static void *idle_wait_thread(void *arg) {
  idle_waiter *w = arg;
  knit_wait_opts o = {.spin_ns = 1 * MS, .park_ns = 0, .idle = phase_idle, .idle_arg = w->ph,
                      .idle_after_ns = 20000 * MS};
  w->rc = knit_wait(w->sig, phase_ready, w->ph, &o);
  return NULL;
}

/* Work that comes while the idle hook waits ends the wait without it. */
static void test_wait_woken_before_idle(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  phases ph = {0};
  idle_waiter w = {.sig = s, .ph = &ph};
  kt_thread t;
  uint64_t t0 = knit_now_ns();
  kt_spawn(&t, idle_wait_thread, &w);
  wait_for_waiters(s, 1); /* parked, past its spin */
  atomic_store(&ph.flag, 1);
  knit_signal_wake(s);
  kt_join(&t);
  assert_int_equal(w.rc, 1);
  assert_int_equal(atomic_load(&ph.idle_calls), 0);
  assert_true(knit_now_ns() - t0 < 10000 * MS);
  knit_signal_destroy(s);
}

typedef struct waiter_arg {
  knit_signal *sig;
  atomic_int *flag;
  knit_awake *awake; /* the waiter's awake state, or NULL */
  int rc;
} waiter_arg;

static void *wait_thread(void *arg) {
  waiter_arg *w = arg;
  knit_wait_opts o = {.spin_ns = 100000, .park_ns = 0, .yield_cpu = true, .awake = w->awake};
  w->rc = knit_wait(w->sig, flag_ready, w->flag, &o);
  return NULL;
}

/* knit_wait with no park timeout is ended by a wake from another thread. */
static void test_wait_woken(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  atomic_int flag = 0;
  waiter_arg w = {.sig = s, .flag = &flag};
  kt_thread t;
  kt_spawn(&t, wait_thread, &w);
  wait_for_waiters(s, 1);
  atomic_store(&flag, 1);
  knit_signal_wake(s);
  kt_join(&t);
  assert_int_equal(w.rc, 1);
  knit_signal_destroy(s);
}

/* The awake count (crowd.c): each state change counts once, and a consumer
 * that left no longer counts, whatever it does next. */
static void test_awake_transitions(void **state) {
  (void)state;
  unsigned base = knit_awake_count();
  knit_awake a = {0}, b = {0};
  knit_awake_set(&a, true);
  knit_awake_set(&a, true);
  knit_awake_set(&b, true);
  assert_int_equal(knit_awake_count(), base + 2);
  knit_awake_set(&a, false);
  knit_awake_set(&a, false);
  assert_int_equal(knit_awake_count(), base + 1);
  knit_awake_leave(&b);
  knit_awake_leave(&b);
  knit_awake_set(&b, true);
  assert_int_equal(knit_awake_count(), base);
  knit_awake_leave(&a); /* asleep when it leaves: nothing to take off */
  assert_int_equal(knit_awake_count(), base);
}

/* A consumer parked in knit_wait is asleep, and awake again once woken. */
static void test_wait_parked_is_asleep(void **state) {
  (void)state;
  knit_signal *s;
  assert_int_equal(knit_signal_create(&s), 0);
  atomic_int flag = 0;
  knit_awake awake = {0};
  knit_awake_set(&awake, true);
  unsigned base = knit_awake_count();
  waiter_arg w = {.sig = s, .flag = &flag, .awake = &awake};
  kt_thread t;
  kt_spawn(&t, wait_thread, &w);
  wait_for_waiters(s, 1);
  assert_int_equal(knit_awake_count(), base - 1);
  atomic_store(&flag, 1);
  knit_signal_wake(s);
  kt_join(&t);
  assert_int_equal(w.rc, 1);
  assert_int_equal(knit_awake_count(), base);
  knit_awake_leave(&awake);
  assert_int_equal(knit_awake_count(), base - 1);
  knit_signal_destroy(s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create_destroy),
      cmocka_unit_test(test_wake_without_waiter_skips),
      cmocka_unit_test(test_park_ready_returns_1),
      cmocka_unit_test(test_park_timeout),
      cmocka_unit_test(test_wake_from_other_thread),
      cmocka_unit_test(test_bare_wake_returns_0),
      cmocka_unit_test(test_wakes_coalesce),
      cmocka_unit_test(test_wake_storm),
      cmocka_unit_test(test_parked_uses_no_cpu),
      cmocka_unit_test(test_second_waiter_not_lost),
      cmocka_unit_test(test_stale_pending_not_lost),
      cmocka_unit_test(test_spin),
      cmocka_unit_test(test_wait_idle_once_between_spin_and_park),
      cmocka_unit_test(test_wait_ready_skips_idle),
      cmocka_unit_test(test_wait_ready_after_idle),
      cmocka_unit_test(test_wait_idle_after),
      cmocka_unit_test(test_wait_woken_before_idle),
      cmocka_unit_test(test_wait_woken),
      cmocka_unit_test(test_awake_transitions),
      cmocka_unit_test(test_wait_parked_is_asleep),
  };
  return cmocka_run_group_tests_name("signal", tests, NULL, NULL);
}

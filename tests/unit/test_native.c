/* test-native: native worker threads serving a lane (native.c): requests in,
 * responses out through the same mailboxes, back-pressure on a full
 * response mailbox, unknown tasks, corrupt slots, oversized results, both
 * ways to stop (join, or a detached thread ending on a stop word), and
 * cooperative cancellation by call token (knit_lane_cancel). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

static double add(double a, double b) { return a + b; }
static knit_bytes big_result(double n) {
  uint8_t *p = knit_result_alloc((size_t)n);
  if (p) memset(p, 0xab, (size_t)n);
  return (knit_bytes){p, (size_t)n};
}
static atomic_int slow_gate;
static double slow(double x) {
  while (!atomic_load(&slow_gate)) kt_sleep_ms(1);
  return x;
}

/* Works until its call is given up on (5 s at most): 1 if it was. */
static double until_aborted(double x) {
  for (int i = 0; i < 5000; i++) {
    if (knit_native_aborted()) return 1;
    kt_sleep_ms(1);
  }
  return 0;
}

enum { T_ADD = 3, T_BIG = 4, T_SLOW = 7, T_ABORTABLE = 8 };

typedef struct fx {
  knit_signal *host;
  knit_lane *lane;
  knit_native_tasks *t;
  knit_writer w;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  char why[256];
  knit_limits l = kt_limits(1 << 20, 8 << 20, 4 << 20);
  if (!f || knit_signal_create(&f->host) || knit_lane_create(&l, f->host, &f->lane)) return -1;
  if (knit_native_tasks_create(&f->t)) return -1;
  if (knit_native_tasks_add(f->t, T_ADD, (void *)add, NULL, "[number, number]", "number", why, sizeof why) ||
      knit_native_tasks_add(f->t, T_BIG, (void *)big_result, NULL, "number", "Uint8Array", why, sizeof why) ||
      knit_native_tasks_add(f->t, T_SLOW, (void *)slow, NULL, "number", "number", why, sizeof why) ||
      knit_native_tasks_add(f->t, T_ABORTABLE, (void *)until_aborted, NULL, "number", "number", why, sizeof why))
    return -1;
  knit_writer_init(&f->w, 1 << 20);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  knit_native_tasks_unref(f->t);
  knit_lane_destroy(f->lane);
  knit_signal_destroy(f->host);
  knit_writer_clear(&f->w);
  free(f);
  return 0;
}

static void send_add(fx *f, uint32_t call, double a, double b) {
  knit_writer_reset(&f->w);
  knit_put_container(&f->w, KNIT_T_ARRAY, 2);
  knit_put_number(&f->w, a);
  knit_put_number(&f->w, b);
  assert_true(knit_mailbox_put(f->lane->requests, T_ADD, call, KNIT_OK, f->w.buf, f->w.len, knit_now_ns()) >= 0);
}

/* Waits (parking on the host signal, as the pool's watcher does) for
 * responses; returns how many were taken into @out. */
static unsigned take_responses(fx *f, knit_msg out[KNIT_SLOTS]) {
  for (int i = 0; i < 5000; i++) {
    if (knit_mailbox_pending(f->lane->responses)) return knit_mailbox_take(f->lane->responses, out);
    knit_signal_park(f->host, knit_mailbox_pending, f->lane->responses, 1000000);
  }
  fail_msg("no response within 5 s");
  return 0;
}

static double num_of(const knit_msg *m) {
  knit_reader r;
  knit_item it;
  knit_reader_init(&r, m->data, m->len);
  assert_int_equal(knit_read(&r, &it), 0);
  return it.num;
}

static void test_round_trips(void **state) {
  fx *f = *state;
  knit_native_worker *w;
  knit_native_opts o = {.spin_ns = 10000};
  assert_int_equal(knit_native_worker_start(f->lane, f->t, &o, &w), 0);
  knit_native_tasks_unref(f->t); /* the worker keeps its own reference */
  f->t = NULL;
  knit_msg msgs[KNIT_SLOTS];
  for (uint32_t round = 0; round < 200; round++) {
    unsigned batch = 1 + round % KNIT_SLOTS;
    for (uint32_t i = 0; i < batch; i++) send_add(f, round * 100 + i, i, round);
    knit_mailbox_publish(f->lane->requests);
    unsigned got = 0;
    bool seen[KNIT_SLOTS] = {0};
    while (got < batch) {
      unsigned n = take_responses(f, msgs);
      for (unsigned k = 0; k < n; k++) {
        assert_int_equal(msgs[k].status, KNIT_OK);
        uint32_t i = msgs[k].call - round * 100;
        assert_true(i < batch && !seen[i]);
        seen[i] = true;
        assert_int_equal(msgs[k].task, T_ADD);
        assert_true(num_of(&msgs[k]) == (double)i + round);
      }
      knit_mailbox_ack(f->lane->responses);
      got += n;
    }
  }
  knit_native_worker_stop(w);
  knit_native_worker_stop(NULL);
}

static void test_backpressure_on_full_responses(void **state) {
  fx *f = *state;
  knit_native_worker *w;
  assert_int_equal(knit_native_worker_start(f->lane, f->t, NULL, &w), 0);
  /* 32 requests answered and never acknowledged: then 32 more, which the
   * worker takes but cannot answer until the host acknowledges. */
  for (uint32_t i = 0; i < KNIT_SLOTS; i++) send_add(f, i, i, 0);
  knit_mailbox_publish(f->lane->requests);
  for (int i = 0; i < 5000 && knit_mailbox_in_use(f->lane->requests); i++) kt_sleep_ms(1);
  assert_int_equal(knit_mailbox_in_use(f->lane->requests), 0);
  for (uint32_t i = 0; i < KNIT_SLOTS; i++) send_add(f, 100 + i, i, 1);
  knit_mailbox_publish(f->lane->requests);
  kt_sleep_ms(20);
  knit_msg msgs[KNIT_SLOTS];
  unsigned total = 0;
  bool seen[2 * KNIT_SLOTS] = {0};
  while (total < 2 * KNIT_SLOTS) {
    unsigned n = take_responses(f, msgs);
    for (unsigned k = 0; k < n; k++) {
      uint32_t c = msgs[k].call;
      unsigned idx = c >= 100 ? KNIT_SLOTS + c - 100 : c;
      assert_false(seen[idx]);
      seen[idx] = true;
      assert_true(num_of(&msgs[k]) == (double)(c % 100) + (c >= 100));
    }
    knit_mailbox_ack(f->lane->responses);
    total += n;
  }
  knit_native_worker_stop(w);
}

static knit_msg one_response(fx *f, knit_msg msgs[KNIT_SLOTS]) {
  unsigned n = take_responses(f, msgs);
  assert_int_equal(n, 1);
  return msgs[0];
}

static const char *error_message(const knit_msg *m, char *buf, size_t size) {
  knit_reader r;
  knit_item it;
  knit_reader_init(&r, m->data, m->len);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_int_equal(it.tag, KNIT_T_ERROR);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_int_equal(knit_read(&r, &it), 0);
  snprintf(buf, size, "%.*s", (int)it.len, (const char *)it.data);
  return buf;
}

static void test_errors_on_the_thread(void **state) {
  fx *f = *state;
  knit_native_worker *w;
  knit_native_opts o = {.payload_max = 4096};
  assert_int_equal(knit_native_worker_start(f->lane, f->t, &o, &w), 0);
  knit_msg msgs[KNIT_SLOTS], m;
  char buf[256];

  /* unknown task id */
  assert_true(knit_mailbox_put(f->lane->requests, 99, 1, KNIT_OK, "\0", 1, 0) >= 0);
  knit_mailbox_publish(f->lane->requests);
  m = one_response(f, msgs);
  assert_int_equal(m.status, KNIT_THROWN);
  assert_string_equal(error_message(&m, buf, sizeof buf), "no native task #99 on this thread");
  knit_mailbox_ack(f->lane->responses);

  /* a result over the writer's payload_max */
  knit_writer_reset(&f->w);
  knit_put_number(&f->w, 10000);
  assert_true(knit_mailbox_put(f->lane->requests, T_BIG, 2, KNIT_OK, f->w.buf, f->w.len, 0) >= 0);
  knit_mailbox_publish(f->lane->requests);
  m = one_response(f, msgs);
  assert_int_equal(m.status, KNIT_THROWN);
  assert_string_equal(error_message(&m, buf, sizeof buf), "the native task's result is larger than payload.maxPayloadBytes");
  knit_mailbox_ack(f->lane->responses);

  /* a result in the response arena (over the inline size) */
  knit_writer_reset(&f->w);
  knit_put_number(&f->w, 3000);
  assert_true(knit_mailbox_put(f->lane->requests, T_BIG, 3, KNIT_OK, f->w.buf, f->w.len, 0) >= 0);
  knit_mailbox_publish(f->lane->requests);
  m = one_response(f, msgs);
  assert_int_equal(m.status, KNIT_OK);
  assert_true(m.len > 3000);
  knit_mailbox_ack(f->lane->responses);

  /* a corrupt request header */
  int slot = knit_mailbox_put(f->lane->requests, T_ADD, 4, KNIT_OK, "\0", 1, 0);
  assert_true(slot >= 0);
  uint32_t *h = knit__mailbox_slot_header(f->lane->requests, (unsigned)slot);
  h[3] = 0x80; /* flags: no such bit */
  knit_mailbox_publish(f->lane->requests);
  m = one_response(f, msgs);
  assert_int_equal(m.status, KNIT_THROWN);
  assert_string_equal(error_message(&m, buf, sizeof buf), "corrupt request slot header in shared memory");
  knit_mailbox_ack(f->lane->responses);
  knit_native_worker_stop(w);
}

static void send_with_token(fx *f, uint32_t task, uint32_t call, uint32_t token) {
  knit_writer_reset(&f->w);
  knit_put_number(&f->w, 0);
  int slot = knit_mailbox_put(f->lane->requests, task, call, KNIT_OK, f->w.buf, f->w.len, 0);
  assert_true(slot >= 0);
  knit_mailbox_set_aux(f->lane->requests, (unsigned)slot, token);
}

static void test_cancel_words(void **state) {
  fx *f = *state;
  assert_false(knit_native_aborted()); /* not in a native task */
  knit_lane_cancel(f->lane, 0);        /* token 0: never cancellable */
  assert_false(knit_lane_cancelled(f->lane, 0));
  assert_false(knit_lane_begin_call(f->lane, 0));
  knit_lane_cancel(f->lane, 5);
  assert_true(knit_lane_cancelled(f->lane, 5));
  assert_false(knit_lane_cancelled(f->lane, 5 + KNIT_CANCEL_WORDS)); /* same word, another call */
  assert_false(knit_lane_cancelled(f->lane, 5 + KNIT_SLOTS));        /* another word */
  /* A later call on that word clears what the earlier one left. */
  assert_false(knit_lane_begin_call(f->lane, 5 + KNIT_CANCEL_WORDS));
  assert_false(knit_lane_cancelled(f->lane, 5));
  knit_lane_cancel(f->lane, 6);
  assert_true(knit_lane_begin_call(f->lane, 6));
}

static void test_cancel_running_and_waiting_calls(void **state) {
  fx *f = *state;
  knit_native_worker *w;
  assert_int_equal(knit_native_worker_start(f->lane, f->t, NULL, &w), 0);
  knit_msg msgs[KNIT_SLOTS], m;
  char buf[256];
  send_with_token(f, T_ABORTABLE, 1, 1);
  knit_mailbox_publish(f->lane->requests);
  kt_sleep_ms(20);
  send_with_token(f, T_ABORTABLE, 2, 2); /* waits behind call 1 */
  knit_mailbox_publish(f->lane->requests);
  knit_lane_cancel(f->lane, 2); /* still waiting: it must never run */
  knit_lane_cancel(f->lane, 1); /* running: it sees knit_native_aborted() */
  unsigned got = 0;
  while (got < 2) {
    unsigned n = take_responses(f, msgs);
    for (unsigned k = 0; k < n; k++) {
      m = msgs[k];
      if (m.call == 1) {
        assert_int_equal(m.status, KNIT_OK);
        assert_true(num_of(&m) == 1);
      } else {
        assert_int_equal(m.call, 2);
        assert_int_equal(m.status, KNIT_THROWN);
        assert_string_equal(error_message(&m, buf, sizeof buf), "the call was cancelled before it ran");
      }
    }
    knit_mailbox_ack(f->lane->responses);
    got += n;
  }
  /* A later token on token 1's word is not cancelled: it runs until the
   * worker stops, which aborts it too. */
  send_with_token(f, T_ABORTABLE, 3, 1 + KNIT_CANCEL_WORDS);
  knit_mailbox_publish(f->lane->requests);
  kt_sleep_ms(20);
  assert_int_equal(knit_mailbox_pending(f->lane->responses), 0);
  knit_native_worker_stop(w);
  m = one_response(f, msgs);
  assert_int_equal(m.call, 3);
  assert_true(num_of(&m) == 1);
  knit_mailbox_ack(f->lane->responses);
}

typedef struct exit_rec {
  atomic_int exited;
} exit_rec;

static void on_exit_cb(void *arg) { atomic_store(&((exit_rec *)arg)->exited, 1); }

static void test_detached_stops_on_its_word(void **state) {
  fx *f = *state;
  uint32_t stop = 0;
  exit_rec rec = {0};
  knit_native_opts o = {.stop = &stop, .on_exit = on_exit_cb, .exit_arg = &rec};
  assert_int_equal(knit_native_worker_start(f->lane, f->t, NULL, NULL), -EINVAL); /* detached needs a stop word */
  assert_int_equal(knit_native_worker_start(NULL, f->t, &o, NULL), -EINVAL);
  assert_int_equal(knit_native_worker_start(f->lane, f->t, &o, NULL), 0);
  /* a call running when the stop comes still finishes */
  atomic_store(&slow_gate, 0);
  knit_writer_reset(&f->w);
  knit_put_number(&f->w, 5);
  assert_true(knit_mailbox_put(f->lane->requests, T_SLOW, 1, KNIT_OK, f->w.buf, f->w.len, 0) >= 0);
  knit_mailbox_publish(f->lane->requests);
  kt_sleep_ms(20);
  __atomic_store_n(&stop, 1, __ATOMIC_SEQ_CST);
  knit_signal_wake(f->lane->worker_signal);
  kt_sleep_ms(20);
  assert_int_equal(atomic_load(&rec.exited), 0);
  atomic_store(&slow_gate, 1);
  for (int i = 0; i < 5000 && !atomic_load(&rec.exited); i++) kt_sleep_ms(1);
  assert_int_equal(atomic_load(&rec.exited), 1);
  knit_msg msgs[KNIT_SLOTS];
  assert_int_equal(knit_mailbox_take(f->lane->responses, msgs), 1);
  assert_true(num_of(&msgs[0]) == 5);
  knit_mailbox_ack(f->lane->responses);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_round_trips, setup, teardown),
    cmocka_unit_test_setup_teardown(test_backpressure_on_full_responses, setup, teardown),
    cmocka_unit_test_setup_teardown(test_errors_on_the_thread, setup, teardown),
    cmocka_unit_test_setup_teardown(test_detached_stops_on_its_word, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cancel_words, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cancel_running_and_waiting_calls, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test-clock: knit_now_ns is CLOCK_MONOTONIC in nanoseconds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "helpers.h"

static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void test_monotonic(void **state) {
  (void)state;
  uint64_t prev = knit_now_ns();
  for (int i = 0; i < 1000000; i++) {
    uint64_t now = knit_now_ns();
    assert_true(now >= prev);
    prev = now;
  }
}

/* Consecutive readings must advance in steps well under a microsecond:
 * at least one of many back-to-back differences is below 1 us. */
static void test_resolution(void **state) {
  (void)state;
  struct timespec res;
  assert_int_equal(clock_getres(CLOCK_MONOTONIC, &res), 0);
  assert_int_equal(res.tv_sec, 0);
  assert_true(res.tv_nsec <= 1000);
  uint64_t best = UINT64_MAX;
  unsigned distinct = 0;
  uint64_t prev = knit_now_ns();
  for (int i = 0; i < 100000; i++) {
    uint64_t now = knit_now_ns();
    if (now != prev) {
      distinct++;
      if (now - prev < best) best = now - prev;
    }
    prev = now;
  }
  assert_true(distinct > 0);
  assert_true(best < 1000);
}

/* The same clock as clock_gettime(CLOCK_MONOTONIC): a knit reading lies
 * between two direct readings taken around it. */
static void test_agrees_with_clock_gettime(void **state) {
  (void)state;
  for (int i = 0; i < 1000; i++) {
    uint64_t a = mono_ns();
    uint64_t k = knit_now_ns();
    uint64_t b = mono_ns();
    assert_true(a <= k);
    assert_true(k <= b);
  }
}

/* It advances with real time: a 20 ms sleep shows as 20 ms or more. */
static void test_tracks_sleep(void **state) {
  (void)state;
  uint64_t a = knit_now_ns();
  kt_sleep_ms(20);
  uint64_t b = knit_now_ns();
  assert_true(b - a >= 20000000u);
  assert_true(b - a < 5000000000u);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_monotonic),
      cmocka_unit_test(test_resolution),
      cmocka_unit_test(test_agrees_with_clock_gettime),
      cmocka_unit_test(test_tracks_sleep),
  };
  return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}

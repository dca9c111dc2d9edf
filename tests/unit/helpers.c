/* Shared helpers for the libknit tests; see helpers.h. */
#include "helpers.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void kt_rng_seed(kt_rng *r, uint64_t seed) {
  r->s = seed ? seed : 0x2545F4914F6CDD1Dull;
}

uint64_t kt_rng_next(kt_rng *r) {
  uint64_t x = r->s;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  r->s = x;
  return x * 0x2545F4914F6CDD1Dull;
}

uint64_t kt_rng_below(kt_rng *r, uint64_t n) { return kt_rng_next(r) % n; }

uint64_t kt_rng_range(kt_rng *r, uint64_t lo, uint64_t hi) {
  return lo + kt_rng_below(r, hi - lo + 1);
}

void kt_rng_fill(kt_rng *r, void *buf, size_t len) {
  uint8_t *p = buf;
  while (len >= 8) {
    uint64_t v = kt_rng_next(r);
    memcpy(p, &v, 8);
    p += 8;
    len -= 8;
  }
  if (len) {
    uint64_t v = kt_rng_next(r);
    memcpy(p, &v, len);
  }
}

uint64_t kt_seed_from_env(uint64_t fallback) {
  const char *s = getenv("KNIT_TEST_SEED");
  if (!s || !*s) return fallback;
  return strtoull(s, NULL, 0);
}

uint64_t kt_fnv1a(const void *data, size_t len) {
  const uint8_t *p = data;
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

void kt_pattern_fill(uint8_t *buf, size_t len, uint64_t seed) {
  for (size_t i = 0; i < len; i++) buf[i] = kt_pattern_byte(seed, i);
}

size_t kt_pattern_check(const uint8_t *buf, size_t len, uint64_t seed) {
  for (size_t i = 0; i < len; i++)
    if (buf[i] != kt_pattern_byte(seed, i)) return i;
  return len;
}

void kt_msg_build(kt_rng *r, uint8_t *buf, size_t len, uint64_t seq) {
  kt_msg_head h = {.seq = seq, .len = len};
  kt_rng_fill(r, buf + sizeof h, len - sizeof h);
  h.sum = kt_fnv1a(buf + sizeof h, len - sizeof h);
  memcpy(buf, &h, sizeof h);
}

int kt_msg_check(const uint8_t *buf, size_t len, uint64_t *seq) {
  kt_msg_head h;
  if (!buf || len < sizeof h) return -1;
  memcpy(&h, buf, sizeof h);
  *seq = h.seq;
  if (h.len != len) return -1;
  return kt_fnv1a(buf + sizeof h, len - sizeof h) == h.sum ? 0 : -1;
}

void kt_spawn(kt_thread *t, void *(*fn)(void *), void *arg) {
  int rc = pthread_create(&t->t, NULL, fn, arg);
  if (rc) {
    fprintf(stderr, "pthread_create: %s\n", strerror(rc));
    abort();
  }
}

void *kt_join(kt_thread *t) {
  void *ret = NULL;
  int rc = pthread_join(t->t, &ret);
  if (rc) {
    fprintf(stderr, "pthread_join: %s\n", strerror(rc));
    abort();
  }
  return ret;
}

void kt_sleep_ns(uint64_t ns) {
  struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000u), .tv_nsec = (long)(ns % 1000000000u)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

uint64_t kt_thread_cpu_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int kt_put_pattern(knit_mailbox *mb, size_t len, uint64_t seed, uint32_t task) {
  uint8_t *buf = NULL;
  int slot = knit_mailbox_reserve(mb, len, &buf);
  if (slot < 0) return slot;
  kt_pattern_fill(buf, len, seed);
  knit_mailbox_stage(mb, (unsigned)slot, task, (uint32_t)seed, KNIT_OK, len, knit_now_ns());
  return slot;
}

knit_limits kt_limits(size_t initial, size_t max, size_t payload_max) {
  return (knit_limits){.arena_initial = initial, .arena_max = max, .payload_max = payload_max};
}

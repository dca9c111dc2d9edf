/* helpers.h: shared helpers for the libknit tests, the stress program and the
 * mailbox bench: a seeded xorshift RNG, a thread-spawn helper, random payload
 * builders with checksums, and small timing utilities. Nothing here uses
 * cmocka, so non-cmocka programs can link helpers.c too. */
#ifndef KNIT_TEST_HELPERS_H
#define KNIT_TEST_HELPERS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "knit/knit.h"

/* ---- RNG: xorshift64* (Vigna), seeded, never zero ------------------------ */

typedef struct kt_rng {
  uint64_t s;
} kt_rng;

/* Seeds @r; seed 0 is mapped to a fixed non-zero constant. */
void kt_rng_seed(kt_rng *r, uint64_t seed);
uint64_t kt_rng_next(kt_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t kt_rng_below(kt_rng *r, uint64_t n);
/* Uniform in [lo, hi]. */
uint64_t kt_rng_range(kt_rng *r, uint64_t lo, uint64_t hi);
/* Fills @buf with @len random bytes. */
void kt_rng_fill(kt_rng *r, void *buf, size_t len);

/* Seed from KNIT_TEST_SEED when set, else @fallback. */
uint64_t kt_seed_from_env(uint64_t fallback);

/* ---- checksums and payload builders --------------------------------------- */

/* 64-bit FNV-1a over @len bytes. */
uint64_t kt_fnv1a(const void *data, size_t len);

/* Deterministic pattern: byte i of the payload with @seed. Cheap to verify
 * without keeping a copy. */
static inline uint8_t kt_pattern_byte(uint64_t seed, size_t i) {
  uint64_t x = seed ^ (i * 0x9E3779B97F4A7C15ull);
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  return (uint8_t)(x >> 56);
}
void kt_pattern_fill(uint8_t *buf, size_t len, uint64_t seed);
/* Returns the first index that differs from the pattern, or @len if none. */
size_t kt_pattern_check(const uint8_t *buf, size_t len, uint64_t seed);

/* A self-describing test message: a 24-byte header followed by random
 * bytes. The header holds a sequence number, the total length and an
 * FNV-1a checksum of the body. Messages are at least KT_MSG_MIN bytes. */
#define KT_MSG_MIN 24u
typedef struct kt_msg_head {
  uint64_t seq;
  uint64_t len;
  uint64_t sum; /* kt_fnv1a of the bytes after the header */
} kt_msg_head;

/* Writes a message of @len >= KT_MSG_MIN bytes with @seq into @buf. */
void kt_msg_build(kt_rng *r, uint8_t *buf, size_t len, uint64_t seq);
/* Checks a message: 0 if intact, else -1. Stores the sequence in *@seq. */
int kt_msg_check(const uint8_t *buf, size_t len, uint64_t *seq);

/* ---- threads -------------------------------------------------------------- */

typedef struct kt_thread {
  pthread_t t;
} kt_thread;

/* Starts @fn(@arg) on a new thread; aborts the test program on failure. */
void kt_spawn(kt_thread *t, void *(*fn)(void *), void *arg);
/* Joins and returns the thread's result. */
void *kt_join(kt_thread *t);

/* ---- time ---------------------------------------------------------------- */

void kt_sleep_ns(uint64_t ns);
static inline void kt_sleep_ms(unsigned ms) { kt_sleep_ns((uint64_t)ms * 1000000u); }

/* Thread CPU time in nanoseconds (CLOCK_THREAD_CPUTIME_ID). */
uint64_t kt_thread_cpu_ns(void);

/* ---- mailboxes ----------------------------------------------------------- */

/* Test hook exported by libknit (mailbox.c): the header of @slot. */
void *knit__mailbox_slot_header(knit_mailbox *mb, unsigned slot);

/* Producer side: reserve + fill with the pattern of @seed + stage.
 * Returns the slot or a negative errno. */
int kt_put_pattern(knit_mailbox *mb, size_t len, uint64_t seed, uint32_t task);

/* Limits with the given sizes. */
knit_limits kt_limits(size_t initial, size_t max, size_t payload_max);

#endif

/* bench-mailbox: the round trip between two C threads over one lane.
 *
 *   bench-mailbox [seconds per case, default 1]
 *
 * The host publishes a batch of B requests (64-byte inline payloads), the
 * worker takes the batch, answers each with a 64-byte response and
 * publishes the answers as one batch; the host takes them. Both sides wait
 * with knit_wait: "spinning" spins up to 1 s before parking (so it never
 * parks while the other side is busy), "parked" spins 0 ns and parks at
 * once, so every batch costs a futex wake and a wake-up. Prints a Markdown
 * table: round trips per second, the mean round trip, and messages per
 * second (requests plus responses).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "knit/knit.h"

#define PAYLOAD 64

typedef struct bench {
  knit_lane *lane;
  knit_signal *host_sig;
  unsigned batch;
  uint64_t spin_ns;
  atomic_int stop;
} bench;

static bool stop_or_pending(void *arg) {
  bench *b = arg;
  return atomic_load_explicit(&b->stop, memory_order_relaxed) ||
         knit_mailbox_pending(b->lane->requests);
}

static void *worker(void *arg) {
  bench *b = arg;
  knit_msg in[KNIT_SLOTS];
  knit_wait_opts o = {.spin_ns = b->spin_ns};
  uint8_t out[PAYLOAD];
  memset(out, 0x5a, sizeof out);
  for (;;) {
    knit_wait(b->lane->worker_signal, stop_or_pending, b, &o);
    if (atomic_load(&b->stop)) break;
    unsigned n = knit_mailbox_take(b->lane->requests, in);
    for (unsigned i = 0; i < n; i++)
      if (knit_mailbox_put(b->lane->responses, in[i].task, in[i].call, KNIT_OK, out, PAYLOAD, 0) < 0)
        abort(); /* the host acks every batch before sending the next */
    knit_mailbox_ack(b->lane->requests);
    knit_mailbox_publish(b->lane->responses);
  }
  return NULL;
}

typedef struct result {
  double round_trips_per_s, rtt_us, msgs_per_s;
} result;

static result run(unsigned batch, uint64_t spin_ns, double seconds) {
  bench b = {.batch = batch, .spin_ns = spin_ns};
  if (knit_signal_create(&b.host_sig) || knit_lane_create(NULL, b.host_sig, &b.lane)) abort();
  pthread_t t;
  if (pthread_create(&t, NULL, worker, &b)) abort();
  uint8_t req[PAYLOAD];
  memset(req, 0xa5, sizeof req);
  knit_msg in[KNIT_SLOTS];
  knit_wait_opts o = {.spin_ns = spin_ns};
  uint64_t trips = 0, warm = 1000;
  uint64_t t0 = 0, deadline = 0;
  for (;;) {
    if (trips == warm) {
      t0 = knit_now_ns();
      deadline = t0 + (uint64_t)(seconds * 1e9);
    }
    for (unsigned i = 0; i < batch; i++)
      if (knit_mailbox_put(b.lane->requests, 1, i, KNIT_OK, req, PAYLOAD, 0) < 0) abort();
    knit_mailbox_publish(b.lane->requests);
    unsigned got = 0;
    while (got < batch) {
      knit_wait(b.host_sig, knit_mailbox_pending, b.lane->responses, &o);
      got += knit_mailbox_take(b.lane->responses, in);
      knit_mailbox_ack(b.lane->responses);
    }
    trips++;
    if (trips > warm && (trips & 63) == 0 && knit_now_ns() >= deadline) break;
  }
  double secs = (double)(knit_now_ns() - t0) / 1e9;
  uint64_t timed = trips - warm;
  atomic_store(&b.stop, 1);
  knit_signal_wake(b.lane->worker_signal);
  pthread_join(t, NULL);
  knit_lane_destroy(b.lane);
  knit_signal_destroy(b.host_sig);
  return (result){.round_trips_per_s = (double)timed / secs,
                  .rtt_us = secs / (double)timed * 1e6,
                  .msgs_per_s = (double)timed * batch * 2 / secs};
}

int main(int argc, char **argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 1.0;
  if (seconds <= 0) seconds = 1.0;
  static const struct {
    const char *mode;
    uint64_t spin_ns;
  } modes[] = {{"spinning", 1000000000ull}, {"parked (spin 0)", 0}};
  static const unsigned batches[] = {1, 32};
  printf("| waiting | batch | round trips/s | mean round trip | messages/s |\n");
  printf("|---|---:|---:|---:|---:|\n");
  for (size_t m = 0; m < 2; m++) {
    for (size_t k = 0; k < 2; k++) {
      result r = run(batches[k], modes[m].spin_ns, seconds);
      printf("| %s | %u | %.0f | %.2f us | %.0f |\n", modes[m].mode, batches[k],
             r.round_trips_per_s, r.rtt_us, r.msgs_per_s);
      fflush(stdout);
    }
  }
  return 0;
}

/* knit-stress: threads exchange millions of messages of random sizes
 * through lanes and check that each arrives exactly once and intact.
 *
 *   knit-stress [messages] [threads] [seed]
 *
 * messages (default 10,000,000) counts every delivered message, requests and
 * responses alike. threads (2..8, default 4) are paired: even pairs run echo
 * round trips (a host sends requests, a worker checks them and answers with
 * a copy), odd pairs run one-way producer -> consumer traffic. All echo hosts
 * park on one shared doorbell signal, so a wake there has several waiters.
 * Every wait is knit_wait (spin, idle hook, park without timeout), so a lost
 * wakeup shows as a hang; a watchdog aborts after 60 s without progress.
 *
 * Messages carry a 24-byte head (sequence number, length, FNV-1a of the
 * body); sizes are mostly inline, about 10% go to the arena (up to 64 KiB)
 * and about one in 20,000 is 1 MiB. Exit status 0 on success, 1 on failure.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../runtime/src/signal_impl.h" /* the watchdog prints its words */
#include "helpers.h"

#define MAX_PAIRS 4

typedef struct pair pair;

typedef struct side {
  pair *p;
  kt_rng rng;
  uint64_t waits, parks;
  atomic_int where; /* 0 running, else the signal it waits on: 1 worker, 2 host */
} side;

struct pair {
  unsigned id;
  bool echo;
  knit_lane *lane;       /* requests host -> worker, responses worker -> host */
  knit_signal *host_sig; /* shared doorbell (echo) or own signal (one-way) */
  uint64_t quota;        /* requests to send */
  uint8_t *seen_req;     /* bitmap: requests the worker has seen */
  uint8_t *seen_resp;    /* bitmap: responses the host has seen */
  atomic_ullong delivered;
  atomic_ullong bytes;
  atomic_int failed;
  side host, worker;
};

static atomic_int g_failed;

static void fail(pair *p, const char *what, uint64_t seq) {
  if (atomic_fetch_add(&p->failed, 1) < 5)
    fprintf(stderr, "stress: pair %u: %s (seq %llu)\n", p->id, what, (unsigned long long)seq);
  atomic_store(&g_failed, 1);
}

static bool mark(uint8_t *bitmap, uint64_t seq) {
  uint8_t bit = (uint8_t)(1u << (seq & 7));
  if (bitmap[seq >> 3] & bit) return false;
  bitmap[seq >> 3] |= bit;
  return true;
}

static size_t pick_len(kt_rng *r) {
  uint64_t x = kt_rng_below(r, 20000);
  if (x == 0) return (size_t)1 << 20;                        /* 1 MiB, rarely */
  if (x < 2000) {                                           /* ~10%: arena */
    unsigned bits = (unsigned)kt_rng_range(r, 9, 16);
    return KNIT_INLINE_BYTES + 1 + (size_t)kt_rng_below(r, (uint64_t)1 << bits) % (65536 - KNIT_INLINE_BYTES);
  }
  return (size_t)kt_rng_range(r, KT_MSG_MIN, KNIT_INLINE_BYTES); /* inline */
}

static void count_park(void *arg) { ((side *)arg)->parks++; }

/* Spin a random short while (sometimes not at all), then park without a
 * timeout: a lost wakeup hangs here and the watchdog reports it. */
static void wait_for(side *s, knit_signal *sig, knit_ready_fn ready, void *arg) {
  knit_wait_opts o = {.spin_ns = kt_rng_below(&s->rng, 4) ? kt_rng_below(&s->rng, 50000) : 0,
                      .park_ns = 0, .idle = count_park, .idle_arg = s};
  s->waits++;
  atomic_store_explicit(&s->where, sig == s->p->lane->worker_signal ? 1 : 2, memory_order_relaxed);
  while (!knit_wait(sig, ready, arg, &o)) {
  }
  atomic_store_explicit(&s->where, 0, memory_order_relaxed);
}

/* ---- readiness tests, each used only by the thread that owns the state ---- */

typedef struct room_arg {
  knit_mailbox *mb;
  unsigned blocked_at; /* in_use when the reserve failed */
} room_arg;

static bool has_room(void *arg) {
  room_arg *r = arg;
  return knit_mailbox_in_use(r->mb) < r->blocked_at;
}

typedef struct host_arg {
  pair *p;
  room_arg room;
  bool want_room;
} host_arg;

static bool host_ready(void *arg) {
  host_arg *h = arg;
  return knit_mailbox_pending(h->p->lane->responses) || (h->want_room && has_room(&h->room));
}

/* Writes one message into a reserved slot of @mb and stages it. Returns 0,
 * or -EAGAIN with *blocked_at set. */
static int send_one(side *s, knit_mailbox *mb, uint64_t seq, unsigned *blocked_at) {
  size_t len = pick_len(&s->rng);
  uint8_t *buf;
  /* Count before trying: an ack landing after the count lowers in_use
   * below it, so the wait cannot miss it. */
  unsigned in_use = knit_mailbox_in_use(mb);
  int slot = knit_mailbox_reserve(mb, len, &buf);
  if (slot == -EAGAIN) {
    *blocked_at = in_use;
    return -EAGAIN;
  }
  if (slot < 0) {
    fail(s->p, "reserve failed", seq);
    return slot;
  }
  kt_msg_build(&s->rng, buf, len, seq);
  knit_mailbox_stage(mb, (unsigned)slot, s->p->id, (uint32_t)seq, KNIT_OK, len, 0);
  return 0;
}

static void check(pair *p, const knit_msg *m, uint8_t *bitmap, const char *side_name) {
  uint64_t seq = 0;
  if (m->status != KNIT_OK || m->task != p->id) {
    fail(p, "bad status or task", m->call);
    return;
  }
  if (kt_msg_check(m->data, m->len, &seq)) {
    fail(p, side_name, m->call);
    return;
  }
  if (seq >= p->quota || (uint32_t)seq != m->call || !mark(bitmap, seq)) {
    fail(p, "duplicate or unknown sequence number", seq);
    return;
  }
  atomic_fetch_add_explicit(&p->delivered, 1, memory_order_relaxed);
  atomic_fetch_add_explicit(&p->bytes, m->len, memory_order_relaxed);
}

/* ---- one-way: producer and consumer -------------------------------------- */

static void *oneway_producer(void *arg) {
  pair *p = arg;
  side *s = &p->host;
  knit_mailbox *mb = p->lane->requests;
  room_arg room = {.mb = mb};
  uint64_t seq = 0;
  while (seq < p->quota && !atomic_load(&g_failed)) {
    unsigned batch = (unsigned)kt_rng_range(&s->rng, 1, 32);
    unsigned staged = 0;
    while (staged < batch && seq < p->quota) {
      int rc = send_one(s, mb, seq, &room.blocked_at);
      if (rc == -EAGAIN) break;
      if (rc < 0) return NULL;
      staged++;
      seq++;
    }
    if (staged) {
      knit_mailbox_publish(mb); /* wakes the consumer once */
    } else {
      /* nothing fits: wait for an ack (the consumer rings host_sig) */
      wait_for(s, p->host_sig, has_room, &room);
    }
  }
  return NULL;
}

static void *oneway_consumer(void *arg) {
  pair *p = arg;
  side *s = &p->worker;
  knit_mailbox *mb = p->lane->requests;
  knit_msg in[KNIT_SLOTS];
  uint64_t got = 0;
  while (got < p->quota && !atomic_load(&g_failed)) {
    wait_for(s, p->lane->worker_signal, knit_mailbox_pending, mb);
    unsigned n = knit_mailbox_take(mb, in);
    for (unsigned i = 0; i < n; i++) check(p, &in[i], p->seen_req, "request corrupt");
    knit_mailbox_ack(mb);
    knit_signal_wake(p->host_sig); /* room for the producer */
    got += n;
  }
  return NULL;
}

/* ---- echo: host and worker ---------------------------------------------- */

static void *echo_host(void *arg) {
  pair *p = arg;
  side *s = &p->host;
  knit_lane *lane = p->lane;
  knit_msg in[KNIT_SLOTS];
  host_arg h = {.p = p, .room = {.mb = lane->requests}};
  uint64_t sent = 0, got = 0;
  while (got < p->quota && !atomic_load(&g_failed)) {
    /* send a random batch while there is room */
    bool progress = false;
    h.want_room = false;
    if (sent < p->quota) {
      unsigned batch = (unsigned)kt_rng_range(&s->rng, 1, 32), staged = 0;
      while (staged < batch && sent < p->quota) {
        int rc = send_one(s, lane->requests, sent, &h.room.blocked_at);
        if (rc == -EAGAIN) {
          h.want_room = true;
          break;
        }
        if (rc < 0) return NULL;
        staged++;
        sent++;
      }
      if (staged) {
        knit_mailbox_publish(lane->requests);
        progress = true;
      }
    }
    /* take the responses that are there */
    unsigned n = knit_mailbox_take(lane->responses, in);
    for (unsigned i = 0; i < n; i++) check(p, &in[i], p->seen_resp, "response corrupt");
    if (n) {
      knit_mailbox_ack(lane->responses);
      /* Room for the worker's answers. A release store then a wake: before
       * the wake fenced, x86 let its read of the waiter count pass the ack
       * still in the store buffer, and the worker slept for good (CI). */
      knit_signal_wake(lane->worker_signal);
      got += n;
      progress = true;
    }
    if (!progress && got < p->quota)
      wait_for(s, p->host_sig, host_ready, &h); /* shared doorbell */
  }
  return NULL;
}

typedef struct worker_arg {
  pair *p;
  room_arg room;
} worker_arg;

static void *echo_worker(void *arg) {
  pair *p = arg;
  side *s = &p->worker;
  knit_lane *lane = p->lane;
  knit_msg in[KNIT_SLOTS];
  room_arg room = {.mb = lane->responses};
  uint64_t got = 0;
  while (got < p->quota && !atomic_load(&g_failed)) {
    wait_for(s, lane->worker_signal, knit_mailbox_pending, lane->requests);
    unsigned n = knit_mailbox_take(lane->requests, in);
    for (unsigned i = 0; i < n; i++) {
      check(p, &in[i], p->seen_req, "request corrupt");
      /* answer with a copy of the request */
      int slot;
      for (;;) {
        room.blocked_at = knit_mailbox_in_use(lane->responses); /* before trying */
        slot = knit_mailbox_put(lane->responses, in[i].task, in[i].call, KNIT_OK, in[i].data,
                                in[i].len, 0);
        if (slot != -EAGAIN) break;
        knit_mailbox_publish(lane->responses);
        if (!has_room(&room)) wait_for(s, lane->worker_signal, has_room, &room);
        if (atomic_load(&g_failed)) return NULL;
      }
      if (slot < 0) {
        fail(p, "response put failed", in[i].call);
        return NULL;
      }
    }
    knit_mailbox_ack(lane->requests);
    knit_signal_wake(p->host_sig); /* room for more requests */
    knit_mailbox_publish(lane->responses);
    got += n;
  }
  return NULL;
}

int main(int argc, char **argv) {
  uint64_t total = argc > 1 ? strtoull(argv[1], NULL, 0) : 10000000ull;
  unsigned threads = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 4;
  uint64_t seed = argc > 3 ? strtoull(argv[3], NULL, 0) : kt_seed_from_env(0x5eed);
  if (threads < 2 || threads > 2 * MAX_PAIRS || threads % 2 || total < 1) {
    fprintf(stderr, "usage: knit-stress [messages] [threads: 2, 4, 6 or 8] [seed]\n");
    return 2;
  }
  unsigned npairs = threads / 2;
  unsigned nechos = (npairs + 1) / 2;
  /* echo pairs deliver two messages per request */
  uint64_t units = (uint64_t)nechos * 2 + (npairs - nechos);
  uint64_t per = (total + units - 1) / units;

  knit_signal *doorbell;
  if (knit_signal_create(&doorbell)) return 1;
  pair pairs[MAX_PAIRS];
  memset(pairs, 0, sizeof pairs);
  for (unsigned i = 0; i < npairs; i++) {
    pair *p = &pairs[i];
    p->id = i;
    p->echo = i % 2 == 0;
    p->quota = per;
    if (p->echo) {
      p->host_sig = doorbell;
    } else if (knit_signal_create(&p->host_sig)) {
      return 1;
    }
    if (knit_lane_create(NULL, p->host_sig, &p->lane)) return 1;
    p->seen_req = calloc(per / 8 + 1, 1);
    p->seen_resp = calloc(per / 8 + 1, 1);
    if (!p->seen_req || !p->seen_resp) return 1;
    p->host.p = p->worker.p = p;
    kt_rng_seed(&p->host.rng, seed * 2654435761u + 2 * i + 1);
    kt_rng_seed(&p->worker.rng, seed * 2654435761u + 2 * i + 2);
  }

  uint64_t t0 = knit_now_ns();
  kt_thread th[2 * MAX_PAIRS];
  for (unsigned i = 0; i < npairs; i++) {
    pair *p = &pairs[i];
    kt_spawn(&th[2 * i], p->echo ? echo_host : oneway_producer, p);
    kt_spawn(&th[2 * i + 1], p->echo ? echo_worker : oneway_consumer, p);
  }

  /* watchdog: abort on 60 s without progress */
  uint64_t last = 0, last_change = knit_now_ns(), want = 0;
  for (unsigned i = 0; i < npairs; i++) want += pairs[i].quota * (pairs[i].echo ? 2 : 1);
  for (;;) {
    uint64_t now_done = 0;
    for (unsigned i = 0; i < npairs; i++) now_done += atomic_load(&pairs[i].delivered);
    if (now_done >= want || atomic_load(&g_failed)) break;
    uint64_t now = knit_now_ns();
    if (now_done != last) {
      last = now_done;
      last_change = now;
    } else if (now - last_change > 60000000000ull) {
      fprintf(stderr, "stress: no progress for 60 s at %llu of %llu messages: lost wakeup?\n",
              (unsigned long long)now_done, (unsigned long long)want);
      for (unsigned i = 0; i < npairs; i++) {
        pair *p = &pairs[i];
        knit_signal *ws = p->lane->worker_signal, *hs = p->host_sig;
        fprintf(stderr,
                "  pair %u (%s): delivered %llu, requests in use %u, responses in use %u,\n"
                "    host waits on %d, worker waits on %d (1 worker signal, 2 host signal)\n"
                "    worker signal seq %u waiters %u pending %u; host signal seq %u waiters %u pending %u\n",
                i, p->echo ? "echo" : "one-way", (unsigned long long)atomic_load(&p->delivered),
                knit_mailbox_in_use(p->lane->requests), knit_mailbox_in_use(p->lane->responses),
                atomic_load(&p->host.where), atomic_load(&p->worker.where), ws->seq, ws->waiters,
                ws->wake_pending, hs->seq, hs->waiters, hs->wake_pending);
      }
      abort();
    }
    kt_sleep_ms(20);
  }
  for (unsigned i = 0; i < 2 * npairs; i++) kt_join(&th[i]);
  double secs = (double)(knit_now_ns() - t0) / 1e9;

  int rc = atomic_load(&g_failed) ? 1 : 0;
  uint64_t delivered = 0, bytes = 0, waits = 0, parks = 0;
  for (unsigned i = 0; i < npairs; i++) {
    pair *p = &pairs[i];
    /* exactly once: every sequence number seen on every leg */
    for (uint64_t q = 0; q < p->quota && !rc; q++) {
      if (!(p->seen_req[q >> 3] & (1u << (q & 7))) ||
          (p->echo && !(p->seen_resp[q >> 3] & (1u << (q & 7))))) {
        fprintf(stderr, "stress: pair %u: message %llu never arrived\n", i, (unsigned long long)q);
        rc = 1;
      }
    }
    delivered += atomic_load(&p->delivered);
    bytes += atomic_load(&p->bytes);
    waits += p->host.waits + p->worker.waits;
    parks += p->host.parks + p->worker.parks;
  }
  printf("knit-stress: %u threads (%u echo, %u one-way pairs), seed %llu\n", threads, nechos,
         npairs - nechos, (unsigned long long)seed);
  printf("knit-stress: %llu messages, %.1f MiB in %.2f s: %.2f M msg/s; %llu waits, %llu parks\n",
         (unsigned long long)delivered, (double)bytes / (1 << 20), secs, (double)delivered / secs / 1e6,
         (unsigned long long)waits, (unsigned long long)parks);
  printf("knit-stress: %s\n", rc ? "FAILED" : "every message arrived exactly once and intact");

  for (unsigned i = 0; i < npairs; i++) {
    knit_lane_destroy(pairs[i].lane);
    if (!pairs[i].echo) knit_signal_destroy(pairs[i].host_sig);
    free(pairs[i].seen_req);
    free(pairs[i].seen_resp);
  }
  knit_signal_destroy(doorbell);
  return rc;
}

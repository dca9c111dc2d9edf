/* Spin, then park on a futex, after musl's __wait.c: a waiter count lets the
 * waker skip the syscall, and a pending flag coalesces repeated wakes. */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "atomic.h"
#include "knit/knit.h"
#include "signal_impl.h"

int knit_signal_create(knit_signal **out) {
  knit_signal *sig = aligned_alloc(KNIT_CACHELINE, sizeof *sig);
  if (!sig) return -ENOMEM;
  knit__signal_init(sig);
  *out = sig;
  return 0;
}

void knit_signal_destroy(knit_signal *sig) { free(sig); }

void knit__signal_init(knit_signal *sig) {
  knit_store_relaxed(&sig->seq, 0);
  knit_store_relaxed(&sig->waiters, 0);
  knit_store_relaxed(&sig->wake_pending, 0);
}

static long futex(uint32_t *addr, int op, uint32_t val, const struct timespec *ts) {
  return syscall(SYS_futex, addr, op | FUTEX_PRIVATE_FLAG, val, ts, NULL, 0);
}

void knit_signal_wake(knit_signal *sig) {
  /* Pairs with the fence in knit_signal_park: the caller's data, stored
   * before this call in any order, is seen by the waiter's recheck, or this
   * load sees the waiter. Without it, x86 may let the load pass a plain
   * (release) store still in the store buffer: a wake after an ack was once
   * lost that way (tests/stress). */
  knit_fence_seq_on(&sig->waiters);
  if (knit_load_relaxed(&sig->waiters) == 0) return;
  /* Coalesce: only the first wake since the waiter last ran enters the kernel. */
  if (knit_exchange_seq(&sig->wake_pending, 1) != 0) return;
  knit_fetch_add_seq(&sig->seq, 1);
  futex(&sig->seq, FUTEX_WAKE, INT_MAX, NULL);
}

int knit_signal_park(knit_signal *sig, knit_ready_fn ready, void *arg, uint64_t timeout_ns) {
  uint32_t seq = knit_load_seq(&sig->seq);
  knit_fetch_add_seq(&sig->waiters, 1);
  /* Re-enable wakes before the recheck, not after the wait: a waker that
   * saw the previous park's registration may set wake_pending after that
   * park ended, and a flag left set would swallow the next real wake
   * (tests/model/knit.pml). Pairs with the exchange in knit_signal_wake. */
  knit_store_seq(&sig->wake_pending, 0);
  knit_fence_seq_on(&sig->waiters); /* pairs with the fence in knit_signal_wake */
  int got = ready(arg);
  if (!got) {
    struct timespec ts, *tsp = NULL;
    if (timeout_ns) {
      ts.tv_sec = (time_t)(timeout_ns / 1000000000u);
      ts.tv_nsec = (long)(timeout_ns % 1000000000u);
      tsp = &ts;
    }
    /* The kernel compares seq atomically: a wake after our load above has
     * bumped it, and the wait returns at once (EAGAIN). */
    futex(&sig->seq, FUTEX_WAIT, seq, tsp);
    got = ready(arg);
  }
  knit_fetch_sub_seq(&sig->waiters, 1);
  return got;
}

/* yield_cpu: yield while more threads of this process are awake than there
 * are cores (knit_crowded), as the thread we wait for may be queued behind
 * us. Not done otherwise: the kernel (EEVDF) lets a yielder wait for the
 * whole slice of any other runnable thread, which under outside load costs
 * milliseconds. */
enum {
  SPIN_ROUND = 64,   /* polls between clock reads */
  CROWDED_ROUND = 8, /* ... and between yields while crowded: the sooner a
                        spinner yields, the sooner the thread it waits for runs */
};

static int spin(knit_ready_fn ready, void *arg, uint64_t spin_ns, bool yield_cpu) {
  if (ready(arg)) return 1;
  if (!spin_ns) return 0;
  uint64_t deadline = knit_now_ns() + spin_ns;
  for (;;) {
    bool crowded = yield_cpu && knit_crowded();
    for (int i = crowded ? CROWDED_ROUND : SPIN_ROUND; i > 0; i--) {
      if (ready(arg)) return 1;
      knit_cpu_relax();
    }
    if (knit_now_ns() >= deadline) return ready(arg);
    if (crowded) sched_yield();
  }
}

int knit_spin(knit_ready_fn ready, void *arg, uint64_t spin_ns) {
  return spin(ready, arg, spin_ns, false);
}

/* A park during which the consumer counts as asleep. */
static int park_asleep(knit_signal *sig, knit_ready_fn ready, void *arg, uint64_t ns, knit_awake *awake) {
  if (awake) knit_awake_set(awake, false);
  int got = knit_signal_park(sig, ready, arg, ns);
  if (awake) knit_awake_set(awake, true);
  return got;
}

int knit_wait(knit_signal *sig, knit_ready_fn ready, void *arg, const knit_wait_opts *opts) {
  uint64_t start = opts->idle_after_ns ? knit_now_ns() : 0;
  if (spin(ready, arg, opts->spin_ns, opts->yield_cpu)) return 1;
  if (opts->idle) {
    uint64_t waited = opts->idle_after_ns ? knit_now_ns() - start : 0;
    if (waited < opts->idle_after_ns &&
        park_asleep(sig, ready, arg, opts->idle_after_ns - waited, opts->awake))
      return 1;
    opts->idle(opts->idle_arg);
    if (ready(arg)) return 1;
  }
  return park_asleep(sig, ready, arg, opts->park_ns, opts->awake);
}

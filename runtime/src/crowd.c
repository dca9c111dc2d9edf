/* Crowding: how many consumer threads of this process are awake. A consumer
 * (a JS worker's thread, a native task thread) is awake while it spins or
 * runs tasks and asleep while parked. While the awake ones and one host
 * thread outnumber the cores, the thread a spinner waits for may be queued
 * behind it: spinners then yield between spin rounds, and hosts publish in
 * whole batches. Each lane keeps its consumer's state, so every transition
 * is counted once, and a consumer that leaves (or dies) mid-task is taken
 * off by whoever notices first. */
#include <sched.h>
#include <unistd.h>

#include "atomic.h"
#include "knit/knit.h"

enum { ASLEEP = 0, AWAKE = 1, GONE = 2 };

static int32_t g_awake;
static int32_t g_cores;

static int32_t cores(void) {
  int32_t n = knit_load_relaxed(&g_cores);
  if (n) return n;
  /* The CPUs this process may run on, as availableParallelism() counts. */
  cpu_set_t set;
  n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int32_t)sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  knit_store_relaxed(&g_cores, n);
  return n;
}

void knit_awake_set(knit_awake *a, bool awake) {
  int32_t want = awake ? AWAKE : ASLEEP;
  int32_t cur = knit_load_seq(&a->state);
  while (cur != GONE && cur != want) {
    if (__atomic_compare_exchange_n(&a->state, &cur, want, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      knit_fetch_add_seq(&g_awake, awake ? 1 : -1);
      return;
    }
  }
}

void knit_awake_leave(knit_awake *a) {
  if (knit_exchange_seq(&a->state, GONE) == AWAKE) knit_fetch_sub_seq(&g_awake, 1);
}

unsigned knit_awake_count(void) { return (unsigned)knit_load_relaxed(&g_awake); }

bool knit_crowded(void) { return knit_load_relaxed(&g_awake) + 1 > cores(); }

/* A thread that parks on a signal on behalf of an event loop, and calls back
 * once when the awaited condition holds. While disarmed it parks on its own
 * control signal, so it does not count as a waiter on the watched one. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "atomic.h"
#include "knit/knit.h"

struct knit_watcher {
  knit_signal *sig;
  knit_signal *ctl;
  knit_ready_fn ready;
  void *ready_arg;
  void (*notify)(void *);
  void *notify_arg;
  uint32_t armed;
  uint32_t stop;
  pthread_t thread;
};

static bool armed_or_stopping(void *arg) {
  knit_watcher *w = arg;
  return knit_load_seq(&w->armed) || knit_load_seq(&w->stop);
}

static bool fired_or_disarmed(void *arg) {
  knit_watcher *w = arg;
  if (knit_load_seq(&w->stop) || !knit_load_seq(&w->armed)) return true;
  return w->ready(w->ready_arg);
}

static void *run(void *arg) {
  knit_watcher *w = arg;
  while (!knit_load_seq(&w->stop)) {
    if (!knit_load_seq(&w->armed)) {
      knit_signal_park(w->ctl, armed_or_stopping, w, 0);
      continue;
    }
    knit_signal_park(w->sig, fired_or_disarmed, w, 0);
    if (knit_load_seq(&w->stop)) break;
    /* Only the thread that flips armed 1 -> 0 notifies: a concurrent disarm
     * from the loop wins or loses cleanly. */
    if (w->ready(w->ready_arg) && knit_exchange_seq(&w->armed, 0) == 1)
      w->notify(w->notify_arg);
  }
  return NULL;
}

int knit_watcher_start(knit_signal *sig, knit_ready_fn ready, void *ready_arg,
                       void (*notify)(void *arg), void *notify_arg, knit_watcher **out) {
  knit_watcher *w = calloc(1, sizeof *w);
  if (!w) return -ENOMEM;
  *w = (knit_watcher){.sig = sig, .ready = ready, .ready_arg = ready_arg,
                      .notify = notify, .notify_arg = notify_arg};
  int rc = knit_signal_create(&w->ctl);
  if (rc) {
    free(w);
    return rc;
  }
  rc = pthread_create(&w->thread, NULL, run, w);
  if (rc) {
    knit_signal_destroy(w->ctl);
    free(w);
    return -rc;
  }
  *out = w;
  return 0;
}

void knit_watcher_arm(knit_watcher *w) {
  /* Pairs with the seq-cst loads in armed_or_stopping(). */
  knit_store_seq(&w->armed, 1);
  knit_signal_wake(w->ctl);
}

void knit_watcher_disarm(knit_watcher *w) {
  if (knit_exchange_seq(&w->armed, 0) == 1)
    knit_signal_wake(w->sig); /* move it off the watched signal */
}

void knit_watcher_stop(knit_watcher *w) {
  if (!w) return;
  knit_store_seq(&w->stop, 1);
  knit_signal_wake(w->ctl);
  knit_signal_wake(w->sig);
  pthread_join(w->thread, NULL);
  knit_signal_destroy(w->ctl);
  free(w);
}

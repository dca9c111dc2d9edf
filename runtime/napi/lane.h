/* The addon's lanes and pools, as host.c (the host's functions) and
 * worker.c (a worker's) share them. lane.c keeps the process-wide registry
 * and the lifetimes.
 *
 * Lifetimes are reference counts, because a runtime may report a worker's
 * exit while its thread still runs JS (deno does): a lane is freed only when
 * the host (laneClose) and the worker (its env cleanup hook) have both let
 * go, and a pool only when its JS handle and every lane have. A worker whose
 * cleanup never runs (deno, terminated mid-task) keeps its lane: a bounded
 * leak, preferred to a use after free. */
#ifndef KNIT_NAPI_LANE_H
#define KNIT_NAPI_LANE_H

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "../src/lines.h"
#include "common.h"

#define MAX_POOL_LANES 256

typedef struct host_pool host_pool;

/* Both threads read the first cache line on every call; each side writes
 * only lines of its own, so neither stalls on the other's writes. */
typedef struct lane_ref {
  _Alignas(KNIT_CACHELINE) knit_lane *lane;
  uint32_t id;
  uint64_t gen;     /* tells a reused id apart from the lane that held it */
  uint32_t refs;    /* host + attached worker; guarded by g_mu */
  uint32_t closing; /* set by the host: the worker should stop */
  host_pool *pool;  /* host side only; the worker must not touch it */
  size_t payload_max;
  /* worker side */
  _Alignas(KNIT_CACHELINE) knit_watcher *watcher;
  napi_threadsafe_function tsfn;
  napi_env worker_env;
  knit_msg msgs[KNIT_SLOTS];
} lane_ref;

struct host_pool {
  _Alignas(KNIT_CACHELINE) uint32_t refs; /* the JS handle + one per lane; guarded by g_mu */
  napi_env env;       /* the host's env, for its cleanup hook */
  knit_signal *doorbell;
  knit_watcher *watcher;
  napi_threadsafe_function tsfn;
  knit_limits limits;
  pthread_mutex_t mu; /* guards lanes against the watcher thread */
  lane_ref *lanes[MAX_POOL_LANES];
  unsigned nlanes;
  bool closed;
  unsigned next; /* first lane of the next poll, so every lane gets its turn */
  knit_stash *stash; /* arguments of calls waiting for a slot; host thread */
  knit_msg msgs[KNIT_SLOTS];
};

/* ---- the registry (lane.c) ----------------------------------------------- */

/* Enters a new lane (one host reference) in the registry, where it holds a
 * reference on its pool: 0, or -EMFILE when the process has MAX_LANES. */
int knit__lane_register(lane_ref *lr);
/* The lane with @id, now served by @consumer (a worker's env) with a
 * reference of its own; NULL if there is none or it is served already. */
lane_ref *knit__lane_attach(uint32_t id, napi_env consumer);
/* What a worker's env cleanup hook gets to find its lane by, for runtimes
 * that run the hook after the host let go: the lane's id and generation. */
uintptr_t knit__lane_key(const lane_ref *lr);
/* The lane behind @key, no longer served (the consumer reference is the
 * caller's to drop), or NULL if it is gone or was detached already. */
lane_ref *knit__lane_detach(uintptr_t key);
/* Whether no consumer is attached (it exited, or never came). */
bool knit__lane_detached(lane_ref *lr);
void knit__lane_set_watcher(lane_ref *lr, knit_watcher *w);
/* Stops the worker's watcher; both the worker's cleanup and the host's last
 * release may get here. */
void knit__lane_stop_watcher(lane_ref *lr);
/* Drops one reference; the last one frees the lane. */
void knit__lane_release(lane_ref *lr);
void knit__pool_unref(host_pool *p);

/* ---- shared by the host's and the worker's functions ----------------------- */

/* A wake delivered to the loop (knit_watcher's notify): the TSFN calls @fn. */
int knit__make_tsfn(napi_env env, napi_value fn, napi_threadsafe_function *out);
void knit__tsfn_notify(void *tsfn);

#define LANE_FULL (-1)

/* An Int32Array the caller passes for message metadata: the integers of a
 * batch are written straight into it, so only values go through V8's
 * (slow) element stores. */
typedef struct meta_buf {
  int32_t *at;
  size_t len;
} meta_buf;

int knit__get_meta(napi_env env, napi_value v, meta_buf *m);
/* Decodes a taken batch: value i goes to values[*n + i], its metadata to
 * meta as @width ints from (*n + i) * width: [call, status] (+ [task, aux]
 * for requests, as [task, call, status, aux]). Acks the batch. Requests
 * (@lane given) come in call order, and those the host gave up on are not
 * decoded: KNIT_CANCELLED. */
int knit__drain(napi_env env, knit_env *ke, knit_mailbox *mb, knit_lane *lane, knit_msg *msgs,
                napi_value *values, meta_buf *meta, unsigned width, uint32_t *n);
/* Hands a batch of values to JS: set into @into when there are only a few
 * (returns their count), else as an array of their own (returned). */
napi_value knit__hand_over(napi_env env, knit_env *ke, napi_value into, napi_value *values, uint32_t n);

/* ---- argument helpers ------------------------------------------------------ */

static inline void *get_ptr(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) {
    napi_throw_type_error(env, "KNIT_INTERNAL", "expected a knitting handle");
    return NULL;
  }
  return p;
}

static inline napi_value num(napi_env env, double d) {
  napi_value v;
  NAPI_CALL(env, napi_create_double(env, d, &v));
  return v;
}

static inline int32_t get_i32(napi_env env, napi_value v) {
  int32_t i = 0;
  napi_get_value_int32(env, v, &i);
  return i;
}

static inline double get_f64(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

static inline napi_value throw_errno(napi_env env, int err, const char *what) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(-err));
  napi_throw_error(env, "KNIT_RUNTIME", msg);
  return NULL;
}

#endif

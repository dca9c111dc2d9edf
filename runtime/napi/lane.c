/* The process-wide lane registry, so that a worker thread can attach to the
 * lane its host created by number, and the lifetimes of lanes and pools
 * (lane.h says why they are reference counts). Also the batch hand-over the
 * host's poll and the worker's take share. */
#include <stdlib.h>

#include "../src/atomic.h"
#include "lane.h"

#define MAX_LANES 4096
#define LANE_ID_BITS 12
_Static_assert(MAX_LANES == 1u << LANE_ID_BITS, "ids fit the key");

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static lane_ref *g_lanes[MAX_LANES];
static uint64_t g_gen;

/* ---- lifetimes ------------------------------------------------------------- */

void knit__lane_stop_watcher(lane_ref *lr) {
  pthread_mutex_lock(&g_mu);
  knit_watcher *w = lr->watcher;
  lr->watcher = NULL;
  pthread_mutex_unlock(&g_mu);
  knit_watcher_stop(w);
}

void knit__pool_unref(host_pool *p) {
  pthread_mutex_lock(&g_mu);
  bool last = --p->refs == 0;
  pthread_mutex_unlock(&g_mu);
  if (!last) return;
  knit_signal_destroy(p->doorbell);
  knit__stash_free(p->stash);
  pthread_mutex_destroy(&p->mu);
  free(p);
}

void knit__lane_release(lane_ref *lr) {
  pthread_mutex_lock(&g_mu);
  bool last = --lr->refs == 0;
  if (last) g_lanes[lr->id] = NULL;
  pthread_mutex_unlock(&g_mu);
  if (!last) return;
  knit__lane_stop_watcher(lr);
  knit_lane_destroy(lr->lane);
  host_pool *p = lr->pool;
  free(lr);
  knit__pool_unref(p); /* the lane's responses rang its doorbell until now */
}

/* ---- the registry ---------------------------------------------------------- */

int knit__lane_register(lane_ref *lr) {
  pthread_mutex_lock(&g_mu);
  uint32_t id = 0;
  while (id < MAX_LANES && g_lanes[id]) id++;
  if (id < MAX_LANES) {
    g_lanes[id] = lr;
    lr->id = id;
    lr->gen = ++g_gen;
    lr->pool->refs++;
  }
  pthread_mutex_unlock(&g_mu);
  return id < MAX_LANES ? 0 : -EMFILE;
}

lane_ref *knit__lane_attach(uint32_t id, napi_env consumer) {
  pthread_mutex_lock(&g_mu);
  lane_ref *lr = id < MAX_LANES ? g_lanes[id] : NULL;
  if (lr && !lr->worker_env) {
    lr->refs++;
    lr->worker_env = consumer;
  } else {
    lr = NULL;
  }
  pthread_mutex_unlock(&g_mu);
  return lr;
}

uintptr_t knit__lane_key(const lane_ref *lr) { return (uintptr_t)(lr->gen << LANE_ID_BITS) | lr->id; }

lane_ref *knit__lane_detach(uintptr_t key) {
  pthread_mutex_lock(&g_mu);
  lane_ref *lr = g_lanes[key & (MAX_LANES - 1)];
  if (lr && (lr->gen != key >> LANE_ID_BITS || !lr->worker_env)) lr = NULL;
  if (lr) lr->worker_env = NULL;
  pthread_mutex_unlock(&g_mu);
  return lr;
}

bool knit__lane_detached(lane_ref *lr) {
  pthread_mutex_lock(&g_mu);
  bool gone = !lr->worker_env;
  pthread_mutex_unlock(&g_mu);
  return gone;
}

void knit__lane_set_watcher(lane_ref *lr, knit_watcher *w) {
  pthread_mutex_lock(&g_mu);
  lr->watcher = w;
  pthread_mutex_unlock(&g_mu);
}

/* ---- native consumers (native.c) ------------------------------------------- */

/* Marks a lane whose consumer is a native C thread, not a worker's env. */
#define NATIVE_CONSUMER ((napi_env)(uintptr_t)1)

knit_lane *knit__lane_hold(napi_env env, napi_value handle, const uint32_t **closing, void **ref) {
  lane_ref *lr = get_ptr(env, handle);
  if (!lr) return NULL;
  pthread_mutex_lock(&g_mu);
  bool ok = !lr->worker_env && !knit_load_seq(&lr->closing);
  if (ok) {
    lr->refs++;
    lr->worker_env = NATIVE_CONSUMER;
  }
  pthread_mutex_unlock(&g_mu);
  if (!ok) {
    throw_errno(env, -EBUSY, "nativeStart: lane already served or closing");
    return NULL;
  }
  *closing = &lr->closing;
  *ref = lr;
  return lr->lane;
}

void knit__lane_unhold(void *ref) { knit__lane_release(ref); }

/* ---- wakes through the event loop ------------------------------------------ */

void knit__tsfn_notify(void *tsfn) {
  napi_call_threadsafe_function(*(napi_threadsafe_function *)tsfn, NULL, napi_tsfn_nonblocking);
}

/* The TSFN delivers a wake to the loop: unref (the armer refs) and call JS. */
static void wake_call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  if (!env) return;
  napi_threadsafe_function *tsfn = context;
  napi_unref_threadsafe_function(env, *tsfn);
  napi_value undef;
  napi_get_undefined(env, &undef);
  napi_call_function(env, undef, js_cb, 0, NULL, NULL);
}

int knit__make_tsfn(napi_env env, napi_value fn, napi_threadsafe_function *out) {
  napi_value name;
  NAPI_CALL_INT(env, napi_create_string_utf8(env, "knit-wake", NAPI_AUTO_LENGTH, &name));
  NAPI_CALL_INT(env, napi_create_threadsafe_function(env, fn, NULL, name, 0, 1, NULL, NULL,
                                                     out, wake_call_js, out));
  NAPI_CALL_INT(env, napi_unref_threadsafe_function(env, *out));
  return 0;
}

/* ---- batches, from a mailbox to JS ----------------------------------------- */

int knit__get_meta(napi_env env, napi_value v, meta_buf *m) {
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  void *data;
  if (napi_get_typedarray_info(env, v, &type, &m->len, &data, &ab, &off) != napi_ok ||
      type != napi_int32_array) {
    napi_throw_type_error(env, "KNIT_INTERNAL", "expected an Int32Array for message metadata");
    return -1;
  }
  m->at = data;
  return 0;
}

int knit__drain(napi_env env, knit_env *ke, knit_mailbox *mb, knit_lane *lane, knit_msg *msgs,
                napi_value *values, meta_buf *meta, unsigned width, uint32_t *n) {
  unsigned taken = lane ? knit_lane_take(lane, msgs) : knit_mailbox_take(mb, msgs);
  for (unsigned i = 0; i < taken; i++) {
    knit_msg *m = &msgs[i];
    napi_value value = NULL;
    uint32_t status = m->status;
    if (status != KNIT_CORRUPT && lane && knit_lane_begin_call(lane, m->aux)) {
      status = KNIT_CANCELLED;
      NAPI_CALL_INT(env, napi_get_undefined(env, &value));
    } else if (status != KNIT_CORRUPT) {
      value = knit__decode(env, ke, m->data, m->len);
      if (!value) {
        /* Malformed bytes: hand the caller the error instead of a value. */
        status = KNIT_CORRUPT;
        if (napi_get_and_clear_last_exception(env, &value) != napi_ok || !value)
          NAPI_CALL_INT(env, napi_get_undefined(env, &value));
      }
    } else {
      napi_value msg;
      NAPI_CALL_INT(env, napi_create_string_utf8(env, "corrupt slot header in shared memory",
                                                 NAPI_AUTO_LENGTH, &msg));
      NAPI_CALL_INT(env, napi_create_error(env, NULL, msg, &value));
    }
    int32_t *rec = meta->at + (size_t)*n * width;
    if (width == 4) {
      rec[0] = (int32_t)m->task;
      rec[1] = (int32_t)m->call;
      rec[2] = (int32_t)status;
      rec[3] = (int32_t)m->aux;
    } else {
      rec[0] = (int32_t)m->call;
      rec[1] = (int32_t)status;
    }
    values[(*n)++] = value;
  }
  knit_mailbox_ack(mb);
  return (int)taken;
}

napi_value knit__hand_over(napi_env env, knit_env *ke, napi_value into, napi_value *values, uint32_t n) {
  napi_value out;
  if (n >= KNIT_PACK_MIN) {
    if (knit__make_array(env, ke, values, n, &out) == 0) return out;
    /* The batch is acknowledged already: never lose it, fill @into. */
    napi_get_and_clear_last_exception(env, &out);
  }
  for (uint32_t i = 0; i < n; i++) NAPI_CALL(env, napi_set_element(env, into, i, values[i]));
  return num(env, n);
}

/* Lanes and pools as JS sees them. Lanes live in a process-wide registry so
 * a worker thread can attach to the lane its host created by number.
 *
 * Lifetimes are reference counts, because a runtime may report a worker's
 * exit while its thread still runs JS (deno does): a lane is freed only when
 * the host (laneClose) and the worker (its env cleanup hook) have both let
 * go, and a pool only when its JS handle and every lane have. A worker whose
 * cleanup never runs (deno, terminated mid-task) keeps its lane: a bounded
 * leak, preferred to a use after free. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../src/atomic.h"
#include "../src/lines.h"
#include "common.h"

#define MAX_LANES 4096
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

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static lane_ref *g_lanes[MAX_LANES];
static uint64_t g_gen;

#define LANE_ID_BITS 12
_Static_assert(MAX_LANES == 1u << LANE_ID_BITS, "ids fit the key");

/* ---- argument helpers ---------------------------------------------------- */

static void *get_ptr(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) {
    napi_throw_type_error(env, "KNIT_INTERNAL", "expected a knitting handle");
    return NULL;
  }
  return p;
}

static napi_value num(napi_env env, double d) {
  napi_value v;
  NAPI_CALL(env, napi_create_double(env, d, &v));
  return v;
}

static int32_t get_i32(napi_env env, napi_value v) {
  int32_t i = 0;
  napi_get_value_int32(env, v, &i);
  return i;
}

static double get_f64(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

static napi_value throw_errno(napi_env env, int err, const char *what) {
  char msg[160];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(-err));
  napi_throw_error(env, "KNIT_RUNTIME", msg);
  return NULL;
}

/* ---- lane lifetime --------------------------------------------------------- */

/* Both the worker's cleanup and the host's last release may get here. */
static void stop_worker_watcher(lane_ref *lr) {
  pthread_mutex_lock(&g_mu);
  knit_watcher *w = lr->watcher;
  lr->watcher = NULL;
  pthread_mutex_unlock(&g_mu);
  knit_watcher_stop(w);
}

static void pool_unref(host_pool *p) {
  pthread_mutex_lock(&g_mu);
  bool last = --p->refs == 0;
  pthread_mutex_unlock(&g_mu);
  if (!last) return;
  knit_signal_destroy(p->doorbell);
  knit__stash_free(p->stash);
  pthread_mutex_destroy(&p->mu);
  free(p);
}

/* Drops one reference; the last one frees the lane. */
static void lane_release(lane_ref *lr) {
  pthread_mutex_lock(&g_mu);
  bool last = --lr->refs == 0;
  if (last) g_lanes[lr->id] = NULL;
  pthread_mutex_unlock(&g_mu);
  if (!last) return;
  stop_worker_watcher(lr);
  knit_lane_destroy(lr->lane);
  host_pool *p = lr->pool;
  free(lr);
  pool_unref(p); /* the lane's responses rang its doorbell until now */
}

static bool any_response(host_pool *p) {
  for (unsigned i = 0; i < p->nlanes; i++)
    if (knit_mailbox_unacked(p->lanes[i]->lane->responses)) return true;
  return false;
}

/* A worker freed request slots the host asked for (wantRoom). */
static bool any_room_rung(host_pool *p) {
  for (unsigned i = 0; i < p->nlanes; i++)
    if (knit_mailbox_rung(p->lanes[i]->lane->requests)) return true;
  return false;
}

/* For the watcher thread: the host may be adding or removing lanes. */
static bool pool_ready(void *arg) {
  host_pool *p = arg;
  pthread_mutex_lock(&p->mu);
  bool any = any_response(p) || any_room_rung(p);
  pthread_mutex_unlock(&p->mu);
  return any;
}

/* For the host thread, which alone changes the lane list: no lock. */
static bool pool_ready_host(void *arg) { return any_response(arg); }

static void tsfn_notify(void *arg) {
  napi_call_threadsafe_function(*(napi_threadsafe_function *)arg, NULL, napi_tsfn_nonblocking);
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

static int make_tsfn(napi_env env, napi_value fn, napi_threadsafe_function *out) {
  napi_value name;
  NAPI_CALL_INT(env, napi_create_string_utf8(env, "knit-wake", NAPI_AUTO_LENGTH, &name));
  NAPI_CALL_INT(env, napi_create_threadsafe_function(env, fn, NULL, name, 0, 1, NULL, NULL,
                                                     out, wake_call_js, out));
  NAPI_CALL_INT(env, napi_unref_threadsafe_function(env, *out));
  return 0;
}

/* ---- host: pools ----------------------------------------------------------- */

static void pool_env_cleanup(void *arg);

/* Stops the watcher, releases the TSFN and the pool's lanes. Never called
 * from a finalizer that runs during env teardown: there the runtime may hold
 * the TSFN's lock (node does), and releasing it would deadlock. The env
 * cleanup hook closes the pool before that. */
static void pool_close(host_pool *p, bool from_hook) {
  if (p->closed) return;
  p->closed = true;
  if (!from_hook) napi_remove_env_cleanup_hook(p->env, pool_env_cleanup, p);
  knit_watcher_stop(p->watcher);
  p->watcher = NULL;
  if (p->tsfn) napi_release_threadsafe_function(p->tsfn, napi_tsfn_abort);
  pthread_mutex_lock(&p->mu);
  unsigned n = p->nlanes;
  lane_ref *lanes[MAX_POOL_LANES];
  memcpy(lanes, p->lanes, n * sizeof lanes[0]);
  p->nlanes = 0;
  pthread_mutex_unlock(&p->mu);
  for (unsigned i = 0; i < n; i++) {
    knit_store_seq(&lanes[i]->closing, 1);
    knit_signal_wake(lanes[i]->lane->worker_signal);
    lane_release(lanes[i]);
  }
}

/* The env is going away with the pool still open (no shutdown): close it
 * while the TSFN is still ours to release. */
static void pool_env_cleanup(void *arg) { pool_close(arg, true); }

static void pool_finalize(napi_env env, void *data, void *hint) {
  host_pool *p = data;
  pool_close(p, false); /* a no-op at teardown: the hook ran first */
  pool_unref(p);
}

/* poolCreate(arenaInitial, arenaMax, payloadMax, onWake) -> pool */
static napi_value pool_create(napi_env env, napi_callback_info info) {
  KNIT_ARGS(4);
  host_pool *p = knit__alloc_lines(sizeof *p);
  if (!p) return throw_errno(env, -ENOMEM, "poolCreate");
  p->limits.arena_initial = (size_t)get_f64(env, argv[0]);
  p->limits.arena_max = (size_t)get_f64(env, argv[1]);
  p->limits.payload_max = (size_t)get_f64(env, argv[2]);
  pthread_mutex_init(&p->mu, NULL);
  p->refs = 1;
  int rc = knit_limits_check(&p->limits);
  if (!rc) rc = (p->stash = knit__stash_new()) ? 0 : -ENOMEM;
  if (!rc) rc = knit_signal_create(&p->doorbell);
  if (rc) {
    knit__stash_free(p->stash);
    free(p);
    return throw_errno(env, rc, "poolCreate");
  }
  if (make_tsfn(env, argv[3], &p->tsfn)) return NULL;
  p->env = env;
  /* Registered after the TSFN, so it runs before the TSFN's own teardown. */
  NAPI_CALL(env, napi_add_env_cleanup_hook(env, pool_env_cleanup, p));
  rc = knit_watcher_start(p->doorbell, pool_ready, p, tsfn_notify, &p->tsfn, &p->watcher);
  if (rc) return throw_errno(env, rc, "poolCreate: watcher thread");
  napi_value out;
  NAPI_CALL(env, napi_create_external(env, p, pool_finalize, NULL, &out));
  return out;
}

static napi_value pool_close_js(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  host_pool *p = get_ptr(env, argv[0]);
  if (p) pool_close(p, false);
  return NULL;
}

/* laneOpen(pool) -> lane id; the lane is reachable as pool lane `index`. */
static napi_value lane_open(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  host_pool *p = get_ptr(env, argv[0]);
  if (!p) return NULL;
  if (p->nlanes == MAX_POOL_LANES) return throw_errno(env, -EMFILE, "laneOpen");
  lane_ref *lr = knit__alloc_lines(sizeof *lr);
  if (!lr) return throw_errno(env, -ENOMEM, "laneOpen");
  int rc = knit_lane_create(&p->limits, p->doorbell, &lr->lane);
  if (rc) {
    free(lr);
    return throw_errno(env, rc, "laneOpen");
  }
  lr->pool = p;
  lr->payload_max = p->limits.payload_max;
  lr->refs = 1;
  pthread_mutex_lock(&g_mu);
  p->refs++;
  uint32_t id = 0;
  while (id < MAX_LANES && g_lanes[id]) id++;
  if (id < MAX_LANES) g_lanes[id] = lr;
  lr->gen = ++g_gen;
  pthread_mutex_unlock(&g_mu);
  if (id == MAX_LANES) {
    pool_unref(p);
    knit_lane_destroy(lr->lane);
    free(lr);
    return throw_errno(env, -EMFILE, "laneOpen: too many lanes in this process");
  }
  lr->id = id;
  pthread_mutex_lock(&p->mu);
  p->lanes[p->nlanes++] = lr;
  pthread_mutex_unlock(&p->mu);
  napi_value out;
  NAPI_CALL(env, napi_create_external(env, lr, NULL, NULL, &out));
  return out;
}

static napi_value lane_id(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  lane_ref *lr = get_ptr(env, argv[0]);
  return lr ? num(env, lr->id) : NULL;
}

/* laneStop(lane): asks the worker serving the lane to leave its loop. */
static napi_value lane_stop(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  lane_ref *lr = get_ptr(env, argv[0]);
  if (!lr) return NULL;
  knit_store_seq(&lr->closing, 1);
  knit_signal_wake(lr->lane->worker_signal);
  return NULL;
}

/* laneClose(pool, lane): the host lets go of the lane. It must be the last
 * use of the handle; the lane is freed once the worker has let go too. */
static napi_value lane_close(napi_env env, napi_callback_info info) {
  KNIT_ARGS(2);
  host_pool *p = get_ptr(env, argv[0]);
  lane_ref *lr = p ? get_ptr(env, argv[1]) : NULL;
  if (!lr) return NULL;
  bool found = false;
  pthread_mutex_lock(&p->mu);
  for (unsigned i = 0; i < p->nlanes; i++) {
    if (p->lanes[i] == lr) {
      p->lanes[i] = p->lanes[--p->nlanes];
      found = true;
      break;
    }
  }
  pthread_mutex_unlock(&p->mu);
  if (!found) return NULL;
  knit_store_seq(&lr->closing, 1);
  knit_signal_wake(lr->lane->worker_signal);
  knit_awake_leave(&lr->lane->consumer); /* it exited, or is about to */
  lane_release(lr);
  return NULL;
}

/* untaken(pool, lane) -> [call, token, ...]: the requests a lane's worker
 * never took, once it has exited (call before laneClose), each argument
 * moved into the pool's stash so the call can go to another worker. Empty
 * while the worker may still be attached: only a consumer known to be gone
 * can be trusted not to take them after all. */
static napi_value untaken(napi_env env, napi_callback_info info) {
  KNIT_ARGS(2);
  host_pool *p = get_ptr(env, argv[0]);
  lane_ref *lr = p ? get_ptr(env, argv[1]) : NULL;
  if (!lr) return NULL;
  pthread_mutex_lock(&g_mu);
  bool gone = !lr->worker_env;
  pthread_mutex_unlock(&g_mu);
  knit_msg *msgs = p->msgs;
  unsigned n = gone ? knit_mailbox_untaken(lr->lane->requests, msgs) : 0;
  napi_value out, v;
  NAPI_CALL(env, napi_create_array_with_length(env, 2 * n, &out));
  for (unsigned i = 0; i < n; i++) {
    int32_t token = knit__stash_put(p->stash, msgs[i].data, msgs[i].len);
    if (token < 0) {
      for (unsigned j = 0; j < i; j++) {
        napi_get_element(env, out, 2 * j + 1, &v);
        knit__stash_drop(p->stash, get_i32(env, v));
      }
      return throw_errno(env, token, "untaken");
    }
    NAPI_CALL(env, napi_create_int32(env, (int32_t)msgs[i].call, &v));
    NAPI_CALL(env, napi_set_element(env, out, 2 * i, v));
    NAPI_CALL(env, napi_create_int32(env, token, &v));
    NAPI_CALL(env, napi_set_element(env, out, 2 * i + 1, v));
  }
  return out;
}

#define STAGED 0
#define LANE_FULL (-1)
#define THROWN_JS (-2)

/* A request's header words, read from the call words (knit_env.args)
 * before anything can rewrite them. */
typedef struct request_words {
  uint32_t task, call, aux;
  int32_t codec;
  bool publish;
} request_words;

static request_words read_request_words(const int32_t *a) {
  return (request_words){.task = (uint32_t)a[KNIT_ARG_TASK], .call = (uint32_t)a[KNIT_ARG_CALL],
                         .aux = (uint32_t)a[KNIT_ARG_AUX], .codec = a[KNIT_ARG_CODEC],
                         .publish = a[KNIT_ARG_PUBLISH] != 0};
}

/* Copies an encoded argument into a request slot, publishing the lane's
 * staged requests too when @rq->publish: STAGED, LANE_FULL, or THROWN_JS
 * after throwing a RangeError (it can never fit). */
static int stage_request(napi_env env, lane_ref *lr, const request_words *rq, const uint8_t *data, size_t len) {
  knit_mailbox *mb = lr->lane->requests;
  uint8_t *buf;
  int slot = knit_mailbox_reserve(mb, len, &buf);
  if (slot == -EAGAIN) return LANE_FULL;
  if (slot < 0) {
    napi_throw_range_error(env, "KNIT_TOO_LARGE", "payload does not fit the arena (payload.payloadMaxByteLength)");
    return THROWN_JS;
  }
  memcpy(buf, data, len);
  knit_mailbox_set_aux(mb, (unsigned)slot, rq->aux);
  knit_mailbox_stage(mb, (unsigned)slot, rq->task, rq->call, KNIT_OK, len,
                     0); /* unstamped: a clock read per call is ~20 ns */
  if (rq->publish) knit_mailbox_publish(mb);
  return STAGED;
}

/* submit(lane, value), with the call words task, call, aux (the call's
 * token), codec and publish set: result 0 when staged, -1 when the lane is
 * full (then stash() the value), or 1 + a stash token when the lane filled
 * while the value was encoded (a getter in it made a call): the value is
 * not read twice. Throws TypeError/RangeError for payloads that cannot be
 * sent; codec (a knit_codec, 0 = any) is the argument type a knitgen table
 * declares. With publish set, the lane's staged requests go out at once
 * (one Node-API call fewer than flushRequests after it). */
static napi_value submit(napi_env env, napi_callback_info info) {
  KNIT_ARGS(2);
  request_words rq = read_request_words(ke->args);
  lane_ref *lr = get_ptr(env, argv[0]);
  if (!lr) return NULL;
  int rc = LANE_FULL;
  if (knit_mailbox_in_use(lr->lane->requests) < KNIT_SLOTS) { /* else skip the encode */
    knit_writer *w = knit__writer_take(env, ke, lr->payload_max);
    if (!w) return NULL;
    rc = knit__encode_as(env, ke, argv[1], rq.codec, w) ? THROWN_JS : stage_request(env, lr, &rq, w->buf, w->len);
    if (rc == LANE_FULL) {
      int32_t token = knit__stash_put(lr->pool->stash, w->buf, w->len);
      rc = token < 0 ? THROWN_JS : token + 1;
      if (token < 0) throw_errno(env, token, "submit");
    }
    knit__writer_give(ke, w);
  }
  if (rc == THROWN_JS) return NULL;
  ke->args[KNIT_ARG_RESULT] = rc; /* last: a getter's call wrote its own before */
  return NULL;
}

/* stash(pool, value, codec) -> token: encodes the argument of a call that
 * must wait for a slot, when the call is made. Throws like submit. */
static napi_value stash(napi_env env, napi_callback_info info) {
  KNIT_ARGS(3);
  host_pool *p = get_ptr(env, argv[0]);
  if (!p) return NULL;
  knit_writer *w = knit__writer_take(env, ke, p->limits.payload_max);
  if (!w) return NULL;
  bool thrown = knit__encode_as(env, ke, argv[1], get_i32(env, argv[2]), w) != 0;
  int32_t token = thrown ? 0 : knit__stash_put(p->stash, w->buf, w->len);
  knit__writer_give(ke, w);
  if (thrown) return NULL;
  return token < 0 ? throw_errno(env, token, "stash") : num(env, token);
}

/* submitStashed(lane, token) -> like submit, for a stashed argument (the
 * call words but codec set); the token is spent unless the lane is full. */
static napi_value submit_stashed(napi_env env, napi_callback_info info) {
  KNIT_ARGS(2);
  request_words rq = read_request_words(ke->args);
  lane_ref *lr = get_ptr(env, argv[0]);
  if (!lr) return NULL;
  knit_stash *st = lr->pool->stash;
  int32_t token = get_i32(env, argv[1]);
  size_t len;
  const uint8_t *data = knit__stash_get(st, token, &len);
  if (!data) return throw_errno(env, -ENOENT, "submitStashed: no such token");
  int rc = stage_request(env, lr, &rq, data, len);
  if (rc != LANE_FULL) knit__stash_drop(st, token);
  if (rc == THROWN_JS) return NULL;
  ke->args[KNIT_ARG_RESULT] = rc;
  return NULL;
}

/* unstash(pool, token, decode) -> the value when decode is true (the
 * inliner runs it), undefined otherwise; the token is spent. */
static napi_value unstash(napi_env env, napi_callback_info info) {
  KNIT_ARGS(3);
  host_pool *p = get_ptr(env, argv[0]);
  if (!p) return NULL;
  int32_t token = get_i32(env, argv[1]);
  bool want = false;
  napi_get_value_bool(env, argv[2], &want);
  size_t len;
  const uint8_t *data = knit__stash_get(p->stash, token, &len);
  if (!data) return throw_errno(env, -ENOENT, "unstash: no such token");
  if (!want) {
    knit__stash_drop(p->stash, token);
    return NULL;
  }
  /* Decoding may run JS (Map, Set, Error constructors), which may stash or
   * unstash and so move or free the entry: decode a copy of a spent token. */
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) return throw_errno(env, -ENOMEM, "unstash");
  memcpy(copy, data, len);
  knit__stash_drop(p->stash, token);
  napi_value out = knit__decode(env, ke, copy, len);
  free(copy);
  return out;
}

static napi_value flush_requests(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  lane_ref *lr = get_ptr(env, argv[0]);
  return lr ? num(env, knit_mailbox_publish(lr->lane->requests)) : NULL;
}

/* cancel(lane, token): the host gave up on the lane's call with @token
 * (knit_lane_cancel); a native task sees knit_native_aborted(). */
static napi_value cancel(napi_env env, napi_callback_info info) {
  KNIT_ARGS(2);
  lane_ref *lr = get_ptr(env, argv[0]);
  if (lr) knit_lane_cancel(lr->lane, (uint32_t)get_i32(env, argv[1]));
  return NULL;
}

/* cancelled(lane, token) -> whether the host gave up on the lane's call with
 * @token (a worker task's hasAborted()), or the lane is closing. */
static napi_value cancelled(napi_env env, napi_callback_info info) {
  KNIT_ARGS(2);
  lane_ref *lr = get_ptr(env, argv[0]);
  if (!lr) return NULL;
  napi_value v;
  bool yes = knit_load_seq(&lr->closing) || knit_lane_cancelled(lr->lane, (uint32_t)get_i32(env, argv[1]));
  NAPI_CALL(env, napi_get_boolean(env, yes, &v));
  return v;
}

/* An Int32Array the caller passes for message metadata: the integers of a
 * batch are written straight into it, so only values go through V8's
 * (slow) element stores. */
typedef struct meta_buf {
  int32_t *at;
  size_t len;
} meta_buf;

static int get_meta(napi_env env, napi_value v, meta_buf *m) {
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

/* Decodes a taken batch: value i goes to values[*n + i], its metadata to
 * meta as @width ints from (*n + i) * width: [call, status] (+ [task, aux]
 * for requests, as [task, call, status, aux]). Acks the batch. Requests
 * (@lane given) come in call order, and those the host gave up on are not
 * decoded: KNIT_CANCELLED. */
static int drain(napi_env env, knit_env *ke, knit_mailbox *mb, knit_lane *lane, knit_msg *msgs,
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

/* Hands a batch of values to JS: set into @into when there are only a few
 * (returns their count), else as an array of their own (returned). */
static napi_value hand_over(napi_env env, knit_env *ke, napi_value into, napi_value *values, uint32_t n) {
  napi_value out;
  if (n >= KNIT_PACK_MIN) {
    if (knit__make_array(env, ke, values, n, &out) == 0) return out;
    /* The batch is acknowledged already: never lose it, fill @into. */
    napi_get_and_clear_last_exception(env, &out);
  }
  for (uint32_t i = 0; i < n; i++) NAPI_CALL(env, napi_set_element(env, into, i, values[i]));
  return num(env, n);
}

/* poll(pool, values, meta, spinUs) -> the values of the responses taken
 * from the pool's lanes: their count, with the values set into @values, or
 * an array of them (hand_over); response i's [call, status] is at meta[2i]. Lanes
 * are drained while meta has room for a full batch (and at most
 * MAX_POLL_LANES of them); the rest wait for the next poll. With spinUs > 0
 * and nothing ready, spins that long for a first response. */
#define MAX_POLL_LANES 8

static napi_value poll_pool(napi_env env, napi_callback_info info) {
  KNIT_ARGS(4);
  host_pool *p = get_ptr(env, argv[0]);
  meta_buf meta;
  if (!p || get_meta(env, argv[2], &meta)) return NULL;
  if (meta.len > MAX_POLL_LANES * KNIT_SLOTS * 2) meta.len = MAX_POLL_LANES * KNIT_SLOTS * 2;
  napi_value values[MAX_POLL_LANES * KNIT_SLOTS];
  double spin_us = get_f64(env, argv[3]);
  if (spin_us > 0) knit_spin(pool_ready_host, p, (uint64_t)(spin_us * 1000.0));
  uint32_t n = 0;
  unsigned count = p->nlanes, start = count ? p->next % count : 0;
  for (unsigned k = 0; k < count; k++) {
    if ((size_t)(n + KNIT_SLOTS) * 2 > meta.len) {
      p->next = (start + k) % count; /* resume here next time */
      break;
    }
    knit_mailbox *mb = p->lanes[(start + k) % count]->lane->responses;
    if (!knit_mailbox_pending(mb)) continue;
    if (drain(env, ke, mb, NULL, p->msgs, values, &meta, 2, &n) < 0) return NULL;
  }
  return hand_over(env, ke, argv[1], values, n);
}

/* arm(pool, keepAlive): the next response wakes onWake through the loop.
 * With keepAlive the loop stays alive until then; without it (only calls
 * nobody awaits any more are out) the process may exit first.
 * disarm(pool) undoes it. */
static napi_value arm(napi_env env, napi_callback_info info) {
  KNIT_ARGS(2);
  host_pool *p = get_ptr(env, argv[0]);
  if (!p) return NULL;
  bool keep = false;
  NAPI_CALL(env, napi_get_value_bool(env, argv[1], &keep));
  if (keep) NAPI_CALL(env, napi_ref_threadsafe_function(env, p->tsfn));
  else NAPI_CALL(env, napi_unref_threadsafe_function(env, p->tsfn));
  knit_watcher_arm(p->watcher);
  return NULL;
}

/* wantRoom(pool, yes): the host has calls waiting for request slots and is
 * about to sleep: a worker that frees some as it goes idle wakes the
 * watcher (knit_mailbox_want_room). After yes, try to send once more. */
static napi_value want_room(napi_env env, napi_callback_info info) {
  KNIT_ARGS(2);
  host_pool *p = get_ptr(env, argv[0]);
  if (!p) return NULL;
  bool yes = false;
  napi_get_value_bool(env, argv[1], &yes);
  for (unsigned i = 0; i < p->nlanes; i++)
    knit_mailbox_want_room(p->lanes[i]->lane->requests, yes ? p->doorbell : NULL);
  return NULL;
}

static napi_value disarm(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  host_pool *p = get_ptr(env, argv[0]);
  if (!p) return NULL;
  knit_watcher_disarm(p->watcher);
  NAPI_CALL(env, napi_unref_threadsafe_function(env, p->tsfn));
  return NULL;
}

/* ---- worker side ----------------------------------------------------------- */

/* Runs when a worker's env goes away, which some runtimes do only after the
 * host saw the worker exit: so it finds its lane by key, not by pointer. */
static void worker_cleanup(void *arg) {
  uintptr_t key = (uintptr_t)arg;
  pthread_mutex_lock(&g_mu);
  lane_ref *lr = g_lanes[key & (MAX_LANES - 1)];
  if (!lr || lr->gen != key >> LANE_ID_BITS || !lr->worker_env) {
    pthread_mutex_unlock(&g_mu);
    return;
  }
  lr->worker_env = NULL;
  pthread_mutex_unlock(&g_mu);
  knit_awake_leave(&lr->lane->consumer);
  /* The loop is going away: no more TSFN calls may target it. */
  stop_worker_watcher(lr);
  lane_release(lr);
}

/* attach(id) -> lane, for the worker thread serving it. */
static napi_value attach(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  uint32_t id = (uint32_t)get_i32(env, argv[0]);
  pthread_mutex_lock(&g_mu);
  lane_ref *lr = id < MAX_LANES ? g_lanes[id] : NULL;
  if (lr && !lr->worker_env) {
    lr->refs++;
    lr->worker_env = env;
  } else {
    lr = NULL;
  }
  pthread_mutex_unlock(&g_mu);
  if (!lr) return throw_errno(env, -ENOENT, "attach: no such lane, or already attached");
  uintptr_t key = (uintptr_t)(lr->gen << LANE_ID_BITS) | lr->id;
  NAPI_CALL(env, napi_add_env_cleanup_hook(env, worker_cleanup, (void *)key));
  knit_awake_set(&lr->lane->consumer, true);
  napi_value out;
  NAPI_CALL(env, napi_create_external(env, lr, NULL, NULL, &out));
  return out;
}

/* take(lane, values, meta) -> the values of the requests, as poll hands
 * them over; request i's [task, call, status, aux] is at meta[4i] (meta
 * holds 4 * 32 ints). Or null once the host asked the worker to stop.
 * Publishes the responses staged since the last take first, so a worker
 * that answered a batch synchronously needs no flushResponses. */
static napi_value take(napi_env env, napi_callback_info info) {
  KNIT_ARGS(3);
  lane_ref *lr = get_ptr(env, argv[0]);
  meta_buf meta;
  if (!lr || get_meta(env, argv[2], &meta)) return NULL;
  knit_mailbox_publish(lr->lane->responses);
  if (knit_load_seq(&lr->closing)) {
    napi_value null;
    NAPI_CALL(env, napi_get_null(env, &null));
    return null;
  }
  if (meta.len < KNIT_SLOTS * 4) {
    napi_throw_range_error(env, "KNIT_INTERNAL", "take: meta must hold 128 ints");
    return NULL;
  }
  uint32_t n = 0;
  napi_value values[KNIT_SLOTS];
  if (drain(env, ke, lr->lane->requests, lr->lane, lr->msgs, values, &meta, 4, &n) < 0) return NULL;
  return hand_over(env, ke, argv[1], values, n);
}

/* respond(lane, value), with the call words call and status set: result 0
 * staged, -1 full. Throws if the value cannot be sent (the caller then
 * responds with that error). */
static napi_value respond(napi_env env, napi_callback_info info) {
  KNIT_ARGS(2);
  uint32_t call = (uint32_t)ke->args[KNIT_ARG_CALL], status = (uint32_t)ke->args[KNIT_ARG_STATUS];
  lane_ref *lr = get_ptr(env, argv[0]);
  if (!lr) return NULL;
  if (knit_load_seq(&lr->closing)) { /* nobody is listening */
    ke->args[KNIT_ARG_RESULT] = 0;
    return NULL;
  }
  knit_writer *w = knit__writer_take(env, ke, lr->payload_max);
  if (!w) return NULL;
  bool thrown = false;
  if (status == KNIT_THROWN) knit__encode_thrown(env, ke, argv[1], w);
  else thrown = knit__encode(env, ke, argv[1], w) != 0;
  uint8_t *buf;
  knit_mailbox *mb = lr->lane->responses;
  int slot = thrown ? 0 : knit_mailbox_reserve(mb, w->len, &buf);
  if (!thrown && slot >= 0) {
    memcpy(buf, w->buf, w->len);
    knit_mailbox_stage(mb, (unsigned)slot, 0, call, status, w->len, 0); /* responses carry no enqueue time */
  }
  knit__writer_give(ke, w);
  if (thrown) return NULL;
  if (slot < 0 && slot != -EAGAIN) {
    napi_throw_range_error(env, "KNIT_TOO_LARGE", "result does not fit the arena (payload.payloadMaxByteLength)");
    return NULL;
  }
  ke->args[KNIT_ARG_RESULT] = slot == -EAGAIN ? LANE_FULL : 0;
  return NULL;
}

static napi_value flush_responses(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  lane_ref *lr = get_ptr(env, argv[0]);
  return lr ? num(env, knit_mailbox_publish(lr->lane->responses)) : NULL;
}

static bool work_or_closing(void *arg) {
  lane_ref *lr = arg;
  return knit_load_seq(&lr->closing) || knit_mailbox_unacked(lr->lane->requests);
}

typedef struct idle_ctx {
  napi_env env;
  napi_value fn;
} idle_ctx;

static void run_idle(void *arg) {
  idle_ctx *c = arg;
  napi_value undef;
  napi_get_undefined(c->env, &undef);
  napi_call_function(c->env, undef, c->fn, 0, NULL, NULL);
}

/* wait(lane, spinUs, parkMs, idle) -> 1 work, 0 nothing yet, -1 closing.
 * Blocks this thread: spin (yielding while crowded), then idle() (GC), then
 * park. */
static napi_value wait_work(napi_env env, napi_callback_info info) {
  KNIT_ARGS(4);
  lane_ref *lr = get_ptr(env, argv[0]);
  if (!lr) return NULL;
  knit_mailbox_ring_room(lr->lane->requests);
  napi_valuetype t;
  NAPI_CALL(env, napi_typeof(env, argv[3], &t));
  idle_ctx ctx = {env, argv[3]};
  knit_wait_opts o = {
      .spin_ns = (uint64_t)(get_f64(env, argv[1]) * 1000.0),
      .park_ns = (uint64_t)(get_f64(env, argv[2]) * 1e6),
      .idle = t == napi_function ? run_idle : NULL,
      .idle_arg = &ctx,
      .yield_cpu = true,
      .awake = &lr->lane->consumer,
  };
  int got = knit_wait(lr->lane->worker_signal, work_or_closing, lr, &o);
  if (knit_load_seq(&lr->closing)) return num(env, -1);
  return num(env, got);
}

/* watch(lane, onWake): a watcher thread for when the worker's loop must stay
 * free (async tasks in flight, or idle). watchArm(lane, idle)/watchDisarm as
 * for pools; an idle worker counts as asleep until disarmed. */
static napi_value watch(napi_env env, napi_callback_info info) {
  KNIT_ARGS(2);
  lane_ref *lr = get_ptr(env, argv[0]);
  if (!lr || lr->watcher) return NULL;
  if (make_tsfn(env, argv[1], &lr->tsfn)) return NULL;
  knit_watcher *w;
  int rc = knit_watcher_start(lr->lane->worker_signal, work_or_closing, lr, tsfn_notify,
                              &lr->tsfn, &w);
  if (rc) return throw_errno(env, rc, "watch");
  pthread_mutex_lock(&g_mu);
  lr->watcher = w;
  pthread_mutex_unlock(&g_mu);
  return NULL;
}

static napi_value watch_arm(napi_env env, napi_callback_info info) {
  KNIT_ARGS(2);
  lane_ref *lr = get_ptr(env, argv[0]);
  if (!lr || !lr->watcher) return NULL;
  bool idle = false;
  napi_get_value_bool(env, argv[1], &idle);
  NAPI_CALL(env, napi_ref_threadsafe_function(env, lr->tsfn));
  /* Idle, its thread sleeps in the event loop; with async tasks in flight
   * that loop may be running them. */
  if (idle) knit_awake_set(&lr->lane->consumer, false);
  knit_mailbox_ring_room(lr->lane->requests);
  knit_watcher_arm(lr->watcher);
  return NULL;
}

static napi_value watch_disarm(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  lane_ref *lr = get_ptr(env, argv[0]);
  if (!lr || !lr->watcher) return NULL;
  knit_watcher_disarm(lr->watcher);
  knit_awake_set(&lr->lane->consumer, true);
  NAPI_CALL(env, napi_unref_threadsafe_function(env, lr->tsfn));
  return NULL;
}

/* crowded() -> whether the awake consumers of the process and one host
 * thread outnumber the cores (knit_crowded). */
static napi_value crowded(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  NAPI_CALL(env, napi_get_boolean(env, knit_crowded(), &v));
  return v;
}

static napi_value now_ms(napi_env env, napi_callback_info info) {
  return num(env, (double)knit_now_ns() / 1e6);
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

void knit__lane_unhold(void *ref) { lane_release(ref); }

napi_value knit__lane_init(napi_env env, napi_value exports, knit_env *ke) {
  napi_property_descriptor props[] = {
#define FN(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, ke}
      FN("now", now_ms),
      FN("crowded", crowded),
      FN("untaken", untaken),
      FN("cancel", cancel),
      FN("cancelled", cancelled),
      FN("wantRoom", want_room),
      FN("poolCreate", pool_create),
      FN("poolClose", pool_close_js),
      FN("laneOpen", lane_open),
      FN("laneId", lane_id),
      FN("laneStop", lane_stop),
      FN("laneClose", lane_close),
      FN("submit", submit),
      FN("stash", stash),
      FN("submitStashed", submit_stashed),
      FN("unstash", unstash),
      FN("flushRequests", flush_requests),
      FN("poll", poll_pool),
      FN("arm", arm),
      FN("disarm", disarm),
      FN("attach", attach),
      FN("take", take),
      FN("respond", respond),
      FN("flushResponses", flush_responses),
      FN("wait", wait_work),
      FN("watch", watch),
      FN("watchArm", watch_arm),
      FN("watchDisarm", watch_disarm),
#undef FN
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

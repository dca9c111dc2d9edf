/* The host's side of a pool: its lanes, sending calls (submit, the stash of
 * calls waiting for a slot), taking answers (poll) and being woken for them
 * (arm, through the pool's watcher thread). */
#include <stdlib.h>

#include "../src/atomic.h"
#include "lane.h"

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

/* Tells the lane's consumer to leave its loop, waking it if parked. */
static void ask_to_stop(lane_ref *lr) {
  knit_store_seq(&lr->closing, 1);
  knit_signal_wake(lr->lane->worker_signal);
}

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
    ask_to_stop(lanes[i]);
    knit__lane_release(lanes[i]);
  }
}

/* The env is going away with the pool still open (no shutdown): close it
 * while the TSFN is still ours to release. */
static void pool_env_cleanup(void *arg) { pool_close(arg, true); }

static void pool_finalize(napi_env env, void *data, void *hint) {
  host_pool *p = data;
  pool_close(p, false); /* a no-op at teardown: the hook ran first */
  knit__pool_unref(p);
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
  if (knit__make_tsfn(env, argv[3], &p->tsfn)) return NULL;
  p->env = env;
  /* Registered after the TSFN, so it runs before the TSFN's own teardown. */
  NAPI_CALL(env, napi_add_env_cleanup_hook(env, pool_env_cleanup, p));
  rc = knit_watcher_start(p->doorbell, pool_ready, p, knit__tsfn_notify, &p->tsfn, &p->watcher);
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
  if (knit__lane_register(lr)) {
    knit_lane_destroy(lr->lane);
    free(lr);
    return throw_errno(env, -EMFILE, "laneOpen: too many lanes in this process");
  }
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
  ask_to_stop(lr);
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
  ask_to_stop(lr);
  knit_awake_leave(&lr->lane->consumer); /* it exited, or is about to */
  knit__lane_release(lr);
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
  knit_msg *msgs = p->msgs;
  unsigned n = knit__lane_detached(lr) ? knit_mailbox_untaken(lr->lane->requests, msgs) : 0;
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
  if (!p || knit__get_meta(env, argv[2], &meta)) return NULL;
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
    if (knit__drain(env, ke, mb, NULL, p->msgs, values, &meta, 2, &n) < 0) return NULL;
  }
  return knit__hand_over(env, ke, argv[1], values, n);
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

napi_value knit__host_init(napi_env env, napi_value exports, knit_env *ke) {
  napi_property_descriptor props[] = {
      KNIT_FN("poolCreate", pool_create, ke),
      KNIT_FN("poolClose", pool_close_js, ke),
      KNIT_FN("laneOpen", lane_open, ke),
      KNIT_FN("laneId", lane_id, ke),
      KNIT_FN("laneStop", lane_stop, ke),
      KNIT_FN("laneClose", lane_close, ke),
      KNIT_FN("untaken", untaken, ke),
      KNIT_FN("submit", submit, ke),
      KNIT_FN("stash", stash, ke),
      KNIT_FN("submitStashed", submit_stashed, ke),
      KNIT_FN("unstash", unstash, ke),
      KNIT_FN("flushRequests", flush_requests, ke),
      KNIT_FN("cancel", cancel, ke),
      KNIT_FN("poll", poll_pool, ke),
      KNIT_FN("arm", arm, ke),
      KNIT_FN("wantRoom", want_room, ke),
      KNIT_FN("disarm", disarm, ke),
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

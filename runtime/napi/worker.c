/* A worker's side of its lane: attaching to it, taking requests, answering
 * them, and waiting for work (blocking, or through a watcher thread while
 * the worker's loop must stay free). */
#include "../src/atomic.h"
#include "lane.h"

/* Runs when a worker's env goes away, which some runtimes do only after the
 * host saw the worker exit: so it finds its lane by key, not by pointer. */
static void worker_cleanup(void *arg) {
  lane_ref *lr = knit__lane_detach((uintptr_t)arg);
  if (!lr) return;
  knit_awake_leave(&lr->lane->consumer);
  /* The loop is going away: no more TSFN calls may target it. */
  knit__lane_stop_watcher(lr);
  knit__lane_release(lr);
}

/* attach(id) -> lane, for the worker thread serving it. */
static napi_value attach(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  uint32_t id = (uint32_t)get_i32(env, argv[0]);
  lane_ref *lr = knit__lane_attach(id, env);
  if (!lr) return throw_errno(env, -ENOENT, "attach: no such lane, or already attached");
  NAPI_CALL(env, napi_add_env_cleanup_hook(env, worker_cleanup, (void *)knit__lane_key(lr)));
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
  if (!lr || knit__get_meta(env, argv[2], &meta)) return NULL;
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
  if (knit__drain(env, ke, lr->lane->requests, lr->lane, lr->msgs, values, &meta, 4, &n) < 0) return NULL;
  return knit__hand_over(env, ke, argv[1], values, n);
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

/* wait(lane, spinUs, parkMs, idle, idleAfterMs) -> 1 work, 0 nothing yet,
 * -1 closing. Blocks this thread: spin (yielding while crowded), then, once
 * the wait has lasted idleAfterMs (parked until then), idle() (GC), then
 * park. */
static napi_value wait_work(napi_env env, napi_callback_info info) {
  KNIT_ARGS(5);
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
      .idle_after_ns = (uint64_t)(get_f64(env, argv[4]) * 1e6),
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
  if (knit__make_tsfn(env, argv[1], &lr->tsfn)) return NULL;
  knit_watcher *w;
  int rc = knit_watcher_start(lr->lane->worker_signal, work_or_closing, lr, knit__tsfn_notify,
                              &lr->tsfn, &w);
  if (rc) return throw_errno(env, rc, "watch");
  knit__lane_set_watcher(lr, w);
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

napi_value knit__worker_init(napi_env env, napi_value exports, knit_env *ke) {
  napi_property_descriptor props[] = {
      KNIT_FN("attach", attach, ke),
      KNIT_FN("take", take, ke),
      KNIT_FN("respond", respond, ke),
      KNIT_FN("flushResponses", flush_responses, ke),
      KNIT_FN("cancelled", cancelled, ke),
      KNIT_FN("wait", wait_work, ke),
      KNIT_FN("watch", watch, ke),
      KNIT_FN("watchArm", watch_arm, ke),
      KNIT_FN("watchDisarm", watch_disarm, ke),
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

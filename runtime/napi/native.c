/* Native tasks as JS sees them: a task table built when the pool is created
 * (so a missing library or symbol, or an undeclared type, throws from
 * createPool), and C threads that serve a pool's native lanes.
 *
 * A native lane is an ordinary lane of the pool (laneOpen), so poll() drains
 * its responses with the others. Its consumer is a detached C thread holding
 * a consumer reference on the lane, as an attached JS worker does; it drops
 * it when it leaves its loop after the host stops the lane (laneStop,
 * laneClose or poolClose). The task table is reference-counted: the JS
 * handle and every thread hold one, and the last dlclose()s the libraries. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define MAX_TEXT 4096

static void table_finalize(napi_env env, void *data, void *hint) { knit_native_tasks_unref(data); }

/* Reads string property @name of @obj into @buf; *@present says whether it
 * was a string (undefined/null leave it false). Returns -1 with a TypeError
 * thrown for other values. */
static int get_text(napi_env env, napi_value obj, const char *name, char *buf, size_t size,
                    bool *present) {
  napi_value v;
  napi_valuetype t;
  *present = false;
  NAPI_CALL_INT(env, napi_get_named_property(env, obj, name, &v));
  NAPI_CALL_INT(env, napi_typeof(env, v, &t));
  if (t == napi_undefined || t == napi_null) return 0;
  if (t != napi_string) {
    char msg[96];
    snprintf(msg, sizeof msg, "native task spec: %s must be a string", name);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  size_t len;
  NAPI_CALL_INT(env, napi_get_value_string_utf8(env, v, buf, size, &len));
  if (len + 1 >= size) {
    char msg[96];
    snprintf(msg, sizeof msg, "native task spec: %s is longer than %zu bytes", name, size - 2);
    napi_throw_range_error(env, NULL, msg);
    return -1;
  }
  /* C would read only up to it: "lib.so\0.txt" must not load lib.so */
  if (strlen(buf) != len) {
    char msg[96];
    snprintf(msg, sizeof msg, "native task spec: %s contains a NUL character", name);
    napi_throw_type_error(env, NULL, msg);
    return -1;
  }
  *present = true;
  return 0;
}

/* nativeTable([{ id, name, library, symbol, arg, result }]) -> table.
 * Loads every library, finds every symbol and prepares every signature now;
 * the first failure throws an Error naming the task. */
static napi_value native_table(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  napi_value specs = argv[0];
  uint32_t n = 0;
  NAPI_CALL(env, napi_get_array_length(env, specs, &n));
  knit_native_tasks *t;
  if (knit_native_tasks_create(&t)) {
    napi_throw_error(env, NULL, "knitting: out of memory");
    return NULL;
  }
  char *text = malloc(5 * MAX_TEXT);
  if (!text) {
    knit_native_tasks_unref(t);
    napi_throw_error(env, NULL, "knitting: out of memory");
    return NULL;
  }
  char *name = text, *library = text + MAX_TEXT, *symbol = text + 2 * MAX_TEXT;
  char *arg = text + 3 * MAX_TEXT, *result = text + 4 * MAX_TEXT;
  napi_value out = NULL;
  for (uint32_t i = 0; i < n; i++) {
    napi_value spec, v;
    uint32_t id = 0;
    bool has_name, has_lib, has_sym, has_arg, has_res;
    if (napi_get_element(env, specs, i, &spec) != napi_ok ||
        napi_get_named_property(env, spec, "id", &v) != napi_ok ||
        napi_get_value_uint32(env, v, &id) != napi_ok) {
      knit__napi_fail(env, napi_generic_failure, "nativeTable: spec.id");
      goto done;
    }
    if (get_text(env, spec, "name", name, MAX_TEXT, &has_name) ||
        get_text(env, spec, "library", library, MAX_TEXT, &has_lib) ||
        get_text(env, spec, "symbol", symbol, MAX_TEXT, &has_sym) ||
        get_text(env, spec, "arg", arg, MAX_TEXT, &has_arg) ||
        get_text(env, spec, "result", result, MAX_TEXT, &has_res))
      goto done;
    char why[1024];
    int rc = knit_native_tasks_add_symbol(t, id, has_lib ? library : NULL, has_sym ? symbol : NULL,
                                          has_arg ? arg : NULL, has_res ? result : NULL, why,
                                          sizeof why);
    if (rc) {
      char msg[1200];
      snprintf(msg, sizeof msg, "knitting: native task \"%s\": %s", has_name ? name : symbol, why);
      napi_throw_error(env, rc == -ENOENT ? "KNIT_NATIVE_MISSING" : "KNIT_NATIVE_SIGNATURE", msg);
      goto done;
    }
  }
  if (napi_create_external(env, t, table_finalize, NULL, &out) != napi_ok) {
    knit__napi_fail(env, napi_generic_failure, "nativeTable: napi_create_external");
    out = NULL;
    goto done;
  }
  t = NULL; /* the external owns it now */
done:
  free(text);
  knit_native_tasks_unref(t);
  return out;
}

static void thread_exit(void *ref) { knit__lane_unhold(ref); }

/* nativeStart(table, lane, spinUs, payloadMax): a C thread serves the lane
 * until the host stops it. */
static napi_value native_start(napi_env env, napi_callback_info info) {
  KNIT_ARGS(4);
  knit_native_tasks *t = NULL;
  double spin_us = 50, payload_max = 0;
  NAPI_CALL(env, napi_get_value_external(env, argv[0], (void **)&t));
  NAPI_CALL(env, napi_get_value_double(env, argv[2], &spin_us));
  NAPI_CALL(env, napi_get_value_double(env, argv[3], &payload_max));
  const uint32_t *closing = NULL;
  void *ref = NULL;
  knit_lane *lane = knit__lane_hold(env, argv[1], &closing, &ref);
  if (!lane) return NULL;
  knit_native_opts o = {
      .spin_ns = (uint64_t)(spin_us * 1000.0),
      .park_ns = 0, /* a C thread has no timers to run: park until woken */
      .yield_cpu = true,
      .payload_max = (size_t)payload_max,
      .stop = closing,
      .on_exit = thread_exit,
      .exit_arg = ref,
  };
  int rc = knit_native_worker_start(lane, t, &o, NULL);
  if (rc) {
    knit__lane_unhold(ref);
    char msg[128];
    snprintf(msg, sizeof msg, "knitting: cannot start a native thread: %s", strerror(-rc));
    napi_throw_error(env, "KNIT_RUNTIME", msg);
  }
  return NULL;
}

napi_value knit__native_init(napi_env env, napi_value exports, knit_env *ke) {
  napi_property_descriptor props[] = {
      KNIT_FN("nativeTable", native_table, ke),
      KNIT_FN("nativeStart", native_start, ke),
  };
  NAPI_CALL(env, napi_define_properties(env, exports, 2, props));
  return exports;
}

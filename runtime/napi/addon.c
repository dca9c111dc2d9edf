/* knit.node entry point. Each env (the main thread and every worker) gets
 * its own knit_env; the lanes themselves are process-wide (lane.c). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"
#include "knit/types.h"

void knit__napi_fail(napi_env env, napi_status status, const char *what) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char msg[256];
  snprintf(msg, sizeof msg, "knitting internal error (%d%s%s) in %s", (int)status,
           info && info->error_message ? ": " : "",
           info && info->error_message ? info->error_message : "", what);
  napi_throw_error(env, "KNIT_INTERNAL", msg);
}

int knit__call_builtin(napi_env env, knit_env *ke, enum knit_builtin b, napi_value *args, size_t n,
                       napi_value *out) {
  napi_value fn, undef;
  NAPI_CALL_INT(env, napi_get_reference_value(env, ke->builtins[b], &fn));
  NAPI_CALL_INT(env, napi_get_undefined(env, &undef));
  NAPI_CALL_INT(env, napi_call_function(env, undef, fn, n, args, out));
  return 0;
}

static void env_finalize(napi_env env, void *data, void *hint) {
  knit_env *ke = data;
  for (int i = 0; i < B_COUNT; i++)
    if (ke->builtins[i]) napi_delete_reference(env, ke->builtins[i]);
  if (ke->args_ref) napi_delete_reference(env, ke->args_ref);
  knit_writer_clear(&ke->writer);
  knit__shapes_free(env, ke->shapes);
  free(ke->units);
  free(ke);
}

/* init(builtins): the JS side hands over the constructors and helpers the
 * converters use, by name, and takeMax (knit_env.take_max). */
static napi_value init_builtins(napi_env env, napi_callback_info info) {
  static const char *const names[B_COUNT] = {
      [B_OBJECT_PROTO] = "objectProto", [B_MAP] = "Map", [B_SET] = "Set",
      [B_BUFFER_PROTO] = "bufferProto", [B_ENVELOPE] = "Envelope", [B_DOM_EXCEPTION] = "DOMException",
      [B_SYMBOL_FOR] = "symbolFor", [B_SYMBOL_KEY_FOR] = "symbolKeyFor",
      [B_MAP_ENTRIES] = "mapEntries", [B_SET_VALUES] = "setValues",
      [B_MAP_FROM] = "mapFrom", [B_SET_FROM] = "setFrom", [B_ERRORS] = "errors",
      [B_OBJECT_ENTRIES] = "objectEntries", [B_LIST_ITEMS] = "listItems",
      [B_OBJECT_SHAPE] = "objectShape", [B_PACK] = "pack",
      [B_CONCAT] = "concat", [B_ARRAY_COPY] = "arrayCopy",
  };
  KNIT_ARGS(1);
  napi_value obj = argv[0];
  for (int i = 0; i < B_COUNT; i++) {
    napi_value v;
    NAPI_CALL(env, napi_get_named_property(env, obj, names[i], &v));
    if (ke->builtins[i]) napi_delete_reference(env, ke->builtins[i]);
    NAPI_CALL(env, napi_create_reference(env, v, 1, &ke->builtins[i]));
  }
  napi_value take_max;
  NAPI_CALL(env, napi_get_named_property(env, obj, "takeMax", &take_max));
  NAPI_CALL(env, napi_get_value_uint32(env, take_max, &ke->take_max));
  ke->ready = true;
  return NULL;
}

/* clone(value, max, thrown) -> the value as a worker would receive it,
 * encoded and decoded with the limit of @max bytes: the inliner's copy of
 * an argument or a result. With @thrown true, @value was thrown and is
 * encoded as a worker encodes a throw (parts that cannot travel dropped,
 * never failing). Throws what a worker's encode would. */
static napi_value clone_js(napi_env env, napi_callback_info info) {
  KNIT_ARGS(3);
  double max = 0;
  bool thrown = false;
  NAPI_CALL(env, napi_get_value_double(env, argv[1], &max));
  NAPI_CALL(env, napi_get_value_bool(env, argv[2], &thrown));
  knit_writer *w = knit__writer_take(env, ke, max > 0 ? (size_t)max : 0);
  if (!w) return NULL;
  napi_value out = NULL;
  if (thrown) knit__encode_thrown(env, ke, argv[0], w);
  if (thrown || !knit__encode(env, ke, argv[0], w)) out = knit__decode(env, ke, w->buf, w->len);
  knit__writer_give(ke, w);
  return out;
}

/* codecId(name) -> the knit_codec whose knit_codec_name() is @name (0, the
 * generic codec, for names it does not know): knitgen writes codec names into
 * tables, and the pool resolves them once per table. */
static napi_value codec_id(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  size_t len = 0;
  napi_value out;
  char name[32] = "";
  napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len);
  int id = KNIT_CODEC_ANY;
  for (int c = KNIT_CODEC_ANY; c <= KNIT_CODEC_F64S; c++)
    if (!strcmp(knit_codec_name((knit_codec)c), name)) id = c;
  NAPI_CALL(env, napi_create_int32(env, id, &out));
  return out;
}

/* renice(increment): lowers the calling thread's scheduling priority by
 * @increment (0-19). Linux keeps nice values per thread, and raising one
 * needs no privilege. */
static napi_value renice(napi_env env, napi_callback_info info) {
  KNIT_ARGS(1);
  int32_t increment = 0;
  NAPI_CALL(env, napi_get_value_int32(env, argv[0], &increment));
  if (increment < 0 || increment > 19) {
    napi_throw_range_error(env, "KNIT_NICE", "niceIncrement must be 0-19");
    return NULL;
  }
  id_t tid = (id_t)syscall(SYS_gettid);
  errno = 0;
  int nice = getpriority(PRIO_PROCESS, tid);
  if ((nice == -1 && errno) || setpriority(PRIO_PROCESS, tid, nice + increment)) {
    char msg[96];
    snprintf(msg, sizeof msg, "knitting: cannot renice a worker thread: %s", strerror(errno));
    napi_throw_error(env, "KNIT_NICE", msg);
  }
  return NULL;
}

/* now() -> knit_now_ns() in milliseconds: the clock lanes stamp with. */
static napi_value now_ms(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  NAPI_CALL(env, napi_create_double(env, (double)knit_now_ns() / 1e6, &v));
  return v;
}

/* crowded() -> whether the awake consumers of the process and one host
 * thread outnumber the cores (knit_crowded). */
static napi_value crowded(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value v;
  NAPI_CALL(env, napi_get_boolean(env, knit_crowded(), &v));
  return v;
}

/* The call words (knit_env.args) as exports.callArgs: made here, once per
 * env, so that every JS module instance loading this addon shares them. An
 * ArrayBuffer's memory does not move while it lives; the reference keeps
 * it alive. */
static int make_call_words(napi_env env, knit_env *ke, napi_value exports) {
  napi_value ab, words;
  void *data;
  NAPI_CALL_INT(env, napi_create_arraybuffer(env, KNIT_ARG_COUNT * sizeof(int32_t), &data, &ab));
  NAPI_CALL_INT(env, napi_create_typedarray(env, napi_int32_array, KNIT_ARG_COUNT, ab, 0, &words));
  NAPI_CALL_INT(env, napi_create_reference(env, words, 1, &ke->args_ref));
  napi_property_descriptor pd = {.utf8name = "callArgs", .value = words, .attributes = napi_enumerable};
  NAPI_CALL_INT(env, napi_define_properties(env, exports, 1, &pd));
  ke->args = data;
  return 0;
}

NAPI_MODULE_INIT() {
  knit_env *ke = calloc(1, sizeof *ke);
  if (!ke) return NULL;
  knit_writer_init(&ke->writer, 8u << 20);
  ke->shapes = knit__shapes_new(); /* NULL: objects are made property by property */
  NAPI_CALL(env, napi_set_instance_data(env, ke, env_finalize, NULL));
  if (make_call_words(env, ke, exports)) return NULL;
  napi_property_descriptor props[] = {
      KNIT_FN("init", init_builtins, ke),
      KNIT_FN("clone", clone_js, ke),
      KNIT_FN("codecId", codec_id, ke),
      KNIT_FN("renice", renice, ke),
      KNIT_FN("takeItems", knit__take_items, ke),
      KNIT_FN("now", now_ms, ke),
      KNIT_FN("crowded", crowded, ke),
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  napi_value version;
  NAPI_CALL(env, napi_create_string_utf8(env, KNIT_VERSION, NAPI_AUTO_LENGTH, &version));
  NAPI_CALL(env, napi_set_named_property(env, exports, "version", version));
  if (!knit__native_init(env, exports, ke)) return NULL;
  if (!knit__host_init(env, exports, ke)) return NULL;
  return knit__worker_init(env, exports, ke);
}

/* Shared by the addon's files: the one Node-API checking macro, per-env
 * instance data, and the converters between JS values and the codec. */
#ifndef KNIT_NAPI_COMMON_H
#define KNIT_NAPI_COMMON_H

#include <node_api.h>

#include "knit/knit.h"

/* Evaluates a Node-API call; on failure throws (unless an exception is
 * already pending) and returns NULL from the calling function. */
#define NAPI_CALL(env, call)                                                   \
  do {                                                                         \
    napi_status status_ = (call);                                              \
    if (status_ != napi_ok) {                                                  \
      knit__napi_fail((env), status_, #call);                                  \
      return NULL;                                                             \
    }                                                                          \
  } while (0)

/* The same, for functions returning int (-1 on failure). */
#define NAPI_CALL_INT(env, call)                                               \
  do {                                                                         \
    napi_status status_ = (call);                                              \
    if (status_ != napi_ok) {                                                  \
      knit__napi_fail((env), status_, #call);                                  \
      return -1;                                                               \
    }                                                                          \
  } while (0)

void knit__napi_fail(napi_env env, napi_status status, const char *what);

/* JS builtins the converters need, handed over once by knitting's JS side
 * through init(); kept per env because every worker has its own. */
enum knit_builtin {
  B_OBJECT_PROTO, B_MAP, B_SET, B_BUFFER_PROTO, B_ENVELOPE, B_DOM_EXCEPTION,
  B_SYMBOL_FOR, B_SYMBOL_KEY_FOR, B_MAP_ENTRIES, B_SET_VALUES, B_MAP_FROM, B_SET_FROM,
  B_OBJECT_ENTRIES, B_LIST_ITEMS, B_OBJECT_SHAPE, B_PACK, B_CONCAT, B_ARRAY_COPY,
  B_ERRORS, /* { Error, TypeError, RangeError, ... } by name */
  B_COUNT
};

typedef struct knit_shapes knit_shapes;

/* The call words (knit_env.args, callArgs in addon.js): the scalar
 * arguments and results of the per-call functions (submit, submitStashed,
 * respond), written and read in place rather than passed as N-API values,
 * each of which costs a Node-API call to read (~4 ns on node, ~7 on bun).
 * A function reads them all before it runs any JS (a getter may make a
 * call that rewrites them) and writes its result last. */
enum knit_arg {
  KNIT_ARG_TASK, KNIT_ARG_CALL, KNIT_ARG_AUX, KNIT_ARG_CODEC, KNIT_ARG_PUBLISH,
  KNIT_ARG_STATUS, KNIT_ARG_RESULT,
  KNIT_ARG_COUNT
};

typedef struct knit_env {
  napi_ref builtins[B_COUNT];
  bool ready;
  knit_writer writer; /* scratch for encoding, reused (knit__writer_take) */
  bool writer_busy;   /* an encode into it is under way */
  uint16_t *units;    /* scratch for UTF-16 strings */
  size_t units_cap;
  struct enc *encoding; /* the walk under way, for knit__take_items() */
  uint32_t take_max;    /* most items per takeItems() call; 0: never */
  knit_shapes *shapes;  /* object makers for the decoder (shape.c) */
  int32_t *args;        /* the call words, KNIT_ARG_COUNT of them */
  napi_ref args_ref;    /* keeps their Int32Array alive */
} knit_env;

/* Calls builtin @b with @n arguments: 0, or -1 with an exception pending. */
int knit__call_builtin(napi_env env, knit_env *ke, enum knit_builtin b, napi_value *args, size_t n,
                       napi_value *out);

/* Opens an exported function that takes arguments: them, and its env's knit_env,
 * which each function is made with as its data, so that one
 * napi_get_cb_info gives both (napi_get_instance_data would be one
 * Node-API call more per call). */
#define KNIT_ARGS(n)                                                           \
  size_t argc = (n);                                                           \
  napi_value argv[(n) ? (n) : 1];                                              \
  knit_env *ke = NULL;                                                         \
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, (void **)&ke))

/* The env's scratch writer with limit @max, or a fresh one if an encode is
 * already writing into it: a getter or iterator the walk runs may make a
 * pool call, whose encode must not reset the first. NULL with an Error
 * thrown when out of memory. Give it back with knit__writer_give. */
knit_writer *knit__writer_take(napi_env env, knit_env *ke, size_t max);
void knit__writer_give(knit_env *ke, knit_writer *w);

/* Encodes @value into @w (reset first). On an unsupported value throws a
 * TypeError, on an oversized one a RangeError; returns 0 or -1 (thrown). */
int knit__encode(napi_env env, knit_env *ke, napi_value value, knit_writer *w);
/* takeItems(...items): how the JS helpers hand a container's items to the
 * encoder under way (knit_env.encoding), as call arguments. */
napi_value knit__take_items(napi_env env, napi_callback_info info);
/* Like knit__encode, for a value whose type a knitgen table declares
 * (@codec, a knit_codec): a value of another type is a TypeError, and
 * numbers skip the generic walk. KNIT_CODEC_ANY is knit__encode. */
int knit__encode_as(napi_env env, knit_env *ke, napi_value value, int codec, knit_writer *w);
/* An array of @items (valid handles of the current scope). Returns 0, or
 * -1 with an exception pending. Below KNIT_PACK_MIN items, filling an
 * array the caller keeps is cheaper than making one. */
#define KNIT_PACK_MIN 4
int knit__make_array(napi_env env, knit_env *ke, napi_value *items, size_t n, napi_value *out);
/* Decodes one payload; returns NULL with an Error thrown if malformed. */
napi_value knit__decode(napi_env env, knit_env *ke, const uint8_t *data, size_t len);
/* Encodes a thrown value, forcing success: an unencodable throw becomes an
 * Error describing it. */
void knit__encode_thrown(napi_env env, knit_env *ke, napi_value thrown, knit_writer *w);

/* Plain objects of up to KNIT_SHAPE_MAX keys (shape.c). Returns the JS
 * function that makes an object with @keys (STR8 items) from its values in
 * order, or NULL: the shape is not hot yet, or the engine cannot compile. */
#define KNIT_SHAPE_MAX 16
knit_shapes *knit__shapes_new(void);
void knit__shapes_free(napi_env env, knit_shapes *s);
napi_value knit__shape_maker(napi_env env, knit_env *ke, const knit_item *keys, uint32_t n);

/* Encoded arguments of queued calls, held by integer token (stash.c). */
typedef struct knit_stash knit_stash;
knit_stash *knit__stash_new(void);
void knit__stash_free(knit_stash *s);
/* Copies @data in; returns a token >= 0, or -ENOMEM / -E2BIG. */
int32_t knit__stash_put(knit_stash *s, const uint8_t *data, size_t len);
/* The bytes of a live token (valid until the next put or drop), or NULL for
 * a token that is not live. */
const uint8_t *knit__stash_get(knit_stash *s, int32_t token, size_t *len);
void knit__stash_drop(knit_stash *s, int32_t token);

/* Registration helpers, one per file. KNIT_FN describes an exported
 * function, made with its env's knit_env @ke as data (KNIT_ARGS). */
#define KNIT_FN(name, fn, ke) {(name), NULL, (fn), NULL, NULL, NULL, napi_default, (ke)}

napi_value knit__host_init(napi_env env, napi_value exports, knit_env *ke);
napi_value knit__worker_init(napi_env env, napi_value exports, knit_env *ke);
napi_value knit__native_init(napi_env env, napi_value exports, knit_env *ke);

/* For native.c: a consumer reference on the lane behind @handle, as a worker
 * takes by attaching (returns NULL with an Error thrown); *@closing is the
 * host's stop word. knit__lane_unhold() drops it, from any thread. */
knit_lane *knit__lane_hold(napi_env env, napi_value handle, const uint32_t **closing, void **ref);
void knit__lane_unhold(void *ref);

#endif

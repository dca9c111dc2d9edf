/* JS values -> the codec (runtime/src/codec.c): the walk over a value
 * happens here; the byte format lives in the codec alone. decode.c is the
 * other direction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "knit/types.h"

enum { ENC_OK = 0, ENC_TYPE, ENC_RANGE, ENC_JS };
/* Shorter arrays are read an item at a time: the helper's call costs as
 * much as reading 3 items on node and 5 on deno. */
enum { TAKE_LIST_MIN = 6 };

typedef struct enc {
  napi_env env;
  unsigned taking; /* the container tag knit__take_items() fills */
  int taken;       /* how knit__take_items() ended, ENC_* */
  knit_env *ke;
  knit_writer *w;
  napi_value stack[KNIT_MAX_DEPTH + 1]; /* ancestors, for cycle detection */
  unsigned depth;
  bool salvage; /* a thrown value: drop what of an Error cannot be sent */
  char msg[160];
} enc;

static int fail(enc *e, int kind, const char *fmt, const char *arg) {
  snprintf(e->msg, sizeof e->msg, fmt, arg);
  return kind;
}

/* The writer's sticky error (payload over the limit, or out of memory), as
 * the RangeError the caller gets. */
static int writer_failed(enc *e) {
  if (e->w->err == -ENOMEM) return fail(e, ENC_RANGE, "%s", "out of memory encoding a value");
  char limit[48];
  snprintf(limit, sizeof limit, "%zu", e->w->max);
  return fail(e, ENC_RANGE, "payload exceeds the limit of %s bytes (payload.maxPayloadBytes)", limit);
}

#define TRY(e, call)                                                           \
  do {                                                                         \
    if ((call) != napi_ok) return ENC_JS;                                      \
  } while (0)

static napi_value builtin(enc *e, enum knit_builtin b) {
  napi_value v = NULL;
  napi_get_reference_value(e->env, e->ke->builtins[b], &v);
  return v;
}

static int grow_units(enc *e, size_t need) {
  if (need <= e->ke->units_cap) return ENC_OK;
  size_t cap = need < 256 ? 256 : need;
  uint16_t *u = realloc(e->ke->units, cap * 2);
  if (!u) return fail(e, ENC_RANGE, "%s", "out of memory encoding a string");
  e->ke->units = u;
  e->ke->units_cap = cap;
  return ENC_OK;
}

static int put_string(enc *e, napi_value v) {
  size_t n;
  int rc;
  if ((rc = grow_units(e, 256))) return rc;
  /* One call for a string that fits the scratch buffer (it says so by
   * leaving room for the terminator); a longer one is sized first. */
  TRY(e, napi_get_value_string_utf16(e->env, v, (char16_t *)e->ke->units, e->ke->units_cap, &n));
  if (n + 1 >= e->ke->units_cap) {
    TRY(e, napi_get_value_string_utf16(e->env, v, NULL, 0, &n));
    if ((rc = grow_units(e, n + 1))) return rc;
    TRY(e, napi_get_value_string_utf16(e->env, v, (char16_t *)e->ke->units, n + 1, &n));
  }
  knit_put_str16(e->w, e->ke->units, n);
  return ENC_OK;
}

static int put_value(enc *e, napi_value v);

static int instance_of(enc *e, napi_value v, enum knit_builtin ctor, bool *out) {
  napi_value c = builtin(e, ctor);
  *out = false;
  if (!c) return ENC_OK;
  TRY(e, napi_instanceof(e->env, v, c, out));
  return ENC_OK;
}

static int call_helper(enc *e, enum knit_builtin b, napi_value arg, napi_value *out) {
  return knit__call_builtin(e->env, e->ke, b, &arg, 1, out) ? ENC_JS : ENC_OK;
}

static void clear_exception(napi_env env) {
  napi_value exc;
  napi_get_and_clear_last_exception(env, &exc);
}

/* Salvaging a thrown Error: why the part begun at @mark could not be sent,
 * with the exception (if one is pending) cleared and the writer rewound. */
static const char *unsent(enc *e, int rc, size_t mark) {
  bool pending = false;
  napi_value exc, text;
  size_t n;
  if (napi_is_exception_pending(e->env, &pending) == napi_ok && pending &&
      napi_get_and_clear_last_exception(e->env, &exc) == napi_ok) {
    if (napi_coerce_to_string(e->env, exc, &text) != napi_ok ||
        napi_get_value_string_utf8(e->env, text, e->msg, sizeof e->msg, &n) != napi_ok)
      fail(e, ENC_JS, "%s", "reading it threw");
    clear_exception(e->env); /* from a throwing toString */
  } else if (rc == ENC_JS) {
    fail(e, ENC_JS, "%s", "a Node-API call failed");
  }
  knit_writer_rewind(e->w, mark);
  return e->msg;
}

/* How writing one part ended: a part that took the payload past its limit
 * failed too (the writer's error is sticky), so salvaging drops it. */
static int part_result(enc *e, int rc) {
  return !rc && e->w->err ? writer_failed(e) : rc;
}

/* Own enumerable string-keyed properties, as (key, value) pairs, and
 * @extra (NULL for none) after them. Salvaging, a property that cannot be
 * sent is left out. */
static int put_props(enc *e, napi_value obj, napi_value keys, uint32_t n, napi_value extra) {
  size_t head = e->w->len;
  uint32_t sent = 0, total = n + (extra != NULL);
  knit_put_container(e->w, KNIT_T_OBJECT, total);
  for (uint32_t i = 0; i < total; i++) {
    napi_value key = extra, item;
    size_t mark = e->w->len;
    bool clean = !e->w->err; /* only a failure past the mark can be undone */
    if (i < n) TRY(e, napi_get_element(e->env, keys, i, &key));
    int rc = put_string(e, key);
    if (!rc) rc = napi_get_property(e->env, obj, key, &item) == napi_ok ? put_value(e, item) : ENC_JS;
    rc = part_result(e, rc);
    if (rc && !(e->salvage && clean)) return rc;
    if (rc) unsent(e, rc, mark);
    else sent++;
  }
  knit_patch_u32(e->w, head + 1, sent);
  return ENC_OK;
}

static int own_keys(enc *e, napi_value obj, napi_value *keys, uint32_t *n) {
  TRY(e, napi_get_all_property_names(e->env, obj, napi_key_own_only,
                                     napi_key_enumerable | napi_key_skip_symbols,
                                     napi_key_numbers_to_strings, keys));
  TRY(e, napi_get_array_length(e->env, *keys, n));
  return ENC_OK;
}

static int get_named(enc *e, napi_value obj, const char *name, napi_value *out, bool *has) {
  TRY(e, napi_has_named_property(e->env, obj, name, has));
  if (*has) TRY(e, napi_get_named_property(e->env, obj, name, out));
  return ENC_OK;
}

/* Part @name of an Error (an own property only, with @own). Salvaging, a
 * part whose getter throws counts as absent. */
static int error_part(enc *e, napi_value err, const char *name, bool own, napi_value *out, bool *has) {
  napi_value key;
  *has = false;
  if (napi_create_string_utf8(e->env, name, NAPI_AUTO_LENGTH, &key) == napi_ok &&
      (own ? napi_has_own_property(e->env, err, key, has) : napi_has_property(e->env, err, key, has)) == napi_ok &&
      (!*has || napi_get_property(e->env, err, key, out) == napi_ok))
    return ENC_OK;
  if (!e->salvage) return ENC_JS;
  clear_exception(e->env);
  *has = false;
  return ENC_OK;
}

/* Part @v as a string, @fallback when absent. Salvaging, a part whose
 * toString throws counts as absent. */
static int error_text(enc *e, napi_value v, bool has, const char *fallback, napi_value *out) {
  if (has && napi_coerce_to_string(e->env, v, out) == napi_ok) return ENC_OK;
  if (has && !e->salvage) return ENC_JS;
  if (has) clear_exception(e->env);
  TRY(e, napi_create_string_utf8(e->env, fallback, NAPI_AUTO_LENGTH, out));
  return ENC_OK;
}

static int put_error(enc *e, napi_value err) {
  napi_value name, message, stack, cause, errors, keys;
  bool has_name, has_msg, has_stack, has_cause, has_errors, is_list = false;
  int rc;
  if ((rc = error_part(e, err, "name", false, &name, &has_name)) ||
      (rc = error_part(e, err, "message", false, &message, &has_msg)) ||
      (rc = error_part(e, err, "stack", false, &stack, &has_stack)) ||
      (rc = error_part(e, err, "cause", true, &cause, &has_cause)) ||
      (rc = error_part(e, err, "errors", true, &errors, &has_errors)))
    return rc;
  uint32_t nkeys;
  if ((rc = own_keys(e, err, &keys, &nkeys))) return rc;
  /* stack and message are own but usually not enumerable; cause likewise,
   * and an AggregateError's errors, sent with the properties. */
  napi_valuetype t;
  if (has_stack) {
    TRY(e, napi_typeof(e->env, stack, &t));
    has_stack = t == napi_string;
  }
  if (has_errors) {
    bool enumerable = false;
    TRY(e, napi_is_array(e->env, errors, &is_list));
    for (uint32_t i = 0; is_list && i < nkeys && !enumerable; i++) {
      napi_value k;
      TRY(e, napi_get_element(e->env, keys, i, &k));
      char buf[8];
      size_t n;
      TRY(e, napi_get_value_string_utf8(e->env, k, buf, sizeof buf, &n));
      enumerable = n == 6 && !memcmp(buf, "errors", 6);
    }
    if (enumerable) is_list = false; /* sent among the properties already */
  }
  napi_value extra = NULL;
  if (is_list) TRY(e, napi_create_string_utf8(e->env, "errors", 6, &extra));
  bool dom;
  if ((rc = instance_of(e, err, B_DOM_EXCEPTION, &dom))) return rc;
  unsigned flags = (has_stack ? KNIT_ERR_STACK : 0) | (has_cause ? KNIT_ERR_CAUSE : 0) |
                   (nkeys || extra ? KNIT_ERR_PROPS : 0) | (dom ? KNIT_ERR_DOM : 0);
  size_t head = e->w->len;
  knit_put_error_head(e->w, flags);
  napi_value s;
  if ((rc = error_text(e, name, has_name, "Error", &s)) || (rc = put_string(e, s))) return rc;
  if ((rc = error_text(e, message, has_msg, "", &s)) || (rc = put_string(e, s))) return rc;
  if (has_stack && (rc = put_string(e, stack))) return rc;
  if (has_cause) {
    size_t mark = e->w->len;
    bool clean = !e->w->err; /* only a failure past the mark can be undone */
    if ((rc = part_result(e, put_value(e, cause))) && !(e->salvage && clean)) return rc;
    if (rc) {
      /* A string says why: no nesting, so it fits where the cause failed,
       * unless the payload is that close to its limit: then no cause. */
      char text[200];
      int len = snprintf(text, sizeof text, "cause not sent: %s", unsent(e, rc, mark));
      knit_put_str8(e->w, text, len < 0 ? 0 : len >= (int)sizeof text ? sizeof text - 1 : (size_t)len);
      if (e->w->err) {
        knit_writer_rewind(e->w, mark);
        knit_patch_error_flags(e->w, head, flags & ~KNIT_ERR_CAUSE);
      }
    }
  }
  if ((nkeys || extra) && (rc = put_props(e, err, keys, nkeys, extra))) return rc;
  return ENC_OK;
}

/* A transferred (detached) buffer reads as empty: refuse it, as
 * structuredClone does, rather than send nothing. */
static int refuse_detached(enc *e, napi_value ab) {
  bool detached = false;
  TRY(e, napi_is_detached_arraybuffer(e->env, ab, &detached));
  return detached ? fail(e, ENC_TYPE, "%s", "a detached ArrayBuffer cannot be sent") : ENC_OK;
}

static int put_typedarray(enc *e, napi_value v) {
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  napi_value ab;
  int rc;
  TRY(e, napi_get_typedarray_info(e->env, v, &type, &length, &data, &ab, &offset));
  if ((rc = refuse_detached(e, ab))) return rc;
  unsigned tag;
  switch (type) {
  case napi_int8_array: tag = KNIT_T_INT8; break;
  case napi_uint8_array: tag = KNIT_T_UINT8; break;
  case napi_uint8_clamped_array: tag = KNIT_T_UINT8C; break;
  case napi_int16_array: tag = KNIT_T_INT16; break;
  case napi_uint16_array: tag = KNIT_T_UINT16; break;
  case napi_int32_array: tag = KNIT_T_INT32; break;
  case napi_uint32_array: tag = KNIT_T_UINT32; break;
  case napi_float32_array: tag = KNIT_T_FLOAT32; break;
  case napi_float64_array: tag = KNIT_T_FLOAT64; break;
  case napi_bigint64_array: tag = KNIT_T_BIGINT64; break;
  case napi_biguint64_array: tag = KNIT_T_BIGUINT64; break;
  default: return fail(e, ENC_TYPE, "%s", "this typed array kind cannot be sent");
  }
  if (tag == KNIT_T_UINT8) {
    napi_value proto;
    bool is_buffer = false;
    TRY(e, napi_get_prototype(e->env, v, &proto));
    napi_value bp = builtin(e, B_BUFFER_PROTO);
    if (bp) TRY(e, napi_strict_equals(e->env, proto, bp, &is_buffer));
    if (is_buffer) tag = KNIT_T_BUFFER;
  }
  knit_put_binary(e->w, tag, data, length * knit_tag_elem_size(tag));
  return ENC_OK;
}

static bool is_object_proto(enc *e, napi_value proto) {
  bool same = false;
  return napi_strict_equals(e->env, proto, builtin(e, B_OBJECT_PROTO), &same) == napi_ok && same;
}

static bool is_null(enc *e, napi_value v) {
  napi_valuetype t;
  return napi_typeof(e->env, v, &t) == napi_ok && t == napi_null;
}

static bool paired(unsigned tag) { return tag == KNIT_T_OBJECT || tag == KNIT_T_MAP; }

/* Item @i of a container: a plain object's keys are strings. */
static int put_item(enc *e, unsigned tag, size_t i, napi_value v) {
  return tag == KNIT_T_OBJECT && !(i & 1) ? put_string(e, v) : put_value(e, v);
}

static int put_items(enc *e, unsigned tag, const napi_value *items, size_t n) {
  knit_put_container(e->w, tag, paired(tag) ? n / 2 : n);
  for (size_t i = 0; i < n; i++) {
    int rc = put_item(e, tag, i, items[i]);
    if (rc) return rc;
  }
  return ENC_OK;
}

/* A container's items (a Map's or plain object's as key, value, ...), which
 * JS helper @b hands over as the arguments of takeItems(...items): Node-API
 * copies call arguments in one go, where reading an array costs a
 * napi_get_element (~25 ns on node) per item. With too many items for one
 * call, or on an engine where the call costs more than it saves
 * (knit_env.take_max 0), the helper returns them as an array instead. */
static int put_via(enc *e, enum knit_builtin b, unsigned tag, napi_value v) {
  napi_value items, item;
  napi_valuetype t;
  uint32_t n;
  int rc;
  struct enc *outer = e->ke->encoding;
  e->ke->encoding = e;
  e->taking = tag;
  e->taken = ENC_JS; /* unless takeItems() ran */
  rc = call_helper(e, b, v, &items);
  e->ke->encoding = outer;
  if (rc) return rc;
  TRY(e, napi_typeof(e->env, items, &t));
  if (t == napi_undefined) return e->taken;
  TRY(e, napi_get_array_length(e->env, items, &n));
  knit_put_container(e->w, tag, paired(tag) ? n / 2 : n);
  for (uint32_t i = 0; i < n; i++) {
    TRY(e, napi_get_element(e->env, items, i, &item));
    if ((rc = put_item(e, tag, i, item))) return rc;
  }
  return ENC_OK;
}

napi_value knit__take_items(napi_env env, napi_callback_info info) {
  napi_value small[32], *items = small;
  size_t n = 32;
  knit_env *ke = NULL;
  if (napi_get_cb_info(env, info, &n, small, NULL, (void **)&ke) != napi_ok) return NULL;
  enc *e = ke->encoding;
  if (!e) return NULL; /* called from outside a walk: nothing to fill */
  ke->encoding = NULL; /* one take per helper call */
  unsigned tag = e->taking;
  if (n > 32) {
    if (!(items = malloc(n * sizeof *items))) {
      e->taken = fail(e, ENC_RANGE, "%s", "out of memory encoding an object");
      return NULL;
    }
    if (napi_get_cb_info(env, info, &n, items, NULL, NULL) != napi_ok) {
      free(items);
      e->taken = ENC_JS;
      return NULL;
    }
  }
  e->taken = put_items(e, tag, items, n);
  if (items != small) free(items);
  return NULL;
}

static int put_object(enc *e, napi_value v) {
  bool flag;
  int rc;
  TRY(e, napi_is_array(e->env, v, &flag));
  if (flag) {
    uint32_t n;
    TRY(e, napi_get_array_length(e->env, v, &n));
    /* Every item takes a byte at least: a longer array can never fit. */
    if (n > e->w->max - e->w->len) {
      e->w->err = -EMSGSIZE;
      return writer_failed(e);
    }
    if (n >= TAKE_LIST_MIN && n <= e->ke->take_max) return put_via(e, B_LIST_ITEMS, KNIT_T_ARRAY, v);
    knit_put_container(e->w, KNIT_T_ARRAY, n);
    for (uint32_t i = 0; i < n; i++) {
      napi_value item;
      TRY(e, napi_get_element(e->env, v, i, &item));
      if ((rc = put_value(e, item))) return rc;
    }
    return ENC_OK;
  }
  /* Objects whose prototype is Object.prototype, the common case, skip
   * every probe below; a built-in (Date, Error, typed array...) is taken for
   * one only if its prototype was replaced by Object.prototype. Objects
   * with a null prototype go through the probes first: V8 reports a Proxy's
   * prototype as null without asking its trap, and instanceof does ask. */
  napi_value proto;
  TRY(e, napi_get_prototype(e->env, v, &proto));
  if (is_object_proto(e, proto)) return put_via(e, B_OBJECT_ENTRIES, KNIT_T_OBJECT, v);
  TRY(e, napi_is_typedarray(e->env, v, &flag));
  if (flag) return put_typedarray(e, v);
  TRY(e, napi_is_arraybuffer(e->env, v, &flag));
  if (flag) {
    void *data;
    size_t len;
    if ((rc = refuse_detached(e, v))) return rc;
    TRY(e, napi_get_arraybuffer_info(e->env, v, &data, &len));
    knit_put_binary(e->w, KNIT_T_ARRAYBUFFER, data, len);
    return ENC_OK;
  }
  TRY(e, napi_is_dataview(e->env, v, &flag));
  if (flag) {
    void *data;
    size_t len, off;
    napi_value ab;
    TRY(e, napi_get_dataview_info(e->env, v, &len, &data, &ab, &off));
    if ((rc = refuse_detached(e, ab))) return rc;
    knit_put_binary(e->w, KNIT_T_DATAVIEW, data, len);
    return ENC_OK;
  }
  TRY(e, napi_is_date(e->env, v, &flag));
  if (flag) {
    double ms;
    TRY(e, napi_get_date_value(e->env, v, &ms));
    knit_put_f64(e->w, KNIT_T_DATE, ms);
    return ENC_OK;
  }
  TRY(e, napi_is_error(e->env, v, &flag));
  if (!flag && (rc = instance_of(e, v, B_DOM_EXCEPTION, &flag))) return rc;
  if (flag) return put_error(e, v);
  TRY(e, napi_is_promise(e->env, v, &flag));
  if (flag) return fail(e, ENC_TYPE, "%s", "a Promise nested in a payload cannot be sent (await it first)");
  if ((rc = instance_of(e, v, B_MAP, &flag))) return rc;
  if (flag) return put_via(e, B_MAP_ENTRIES, KNIT_T_MAP, v);
  if ((rc = instance_of(e, v, B_SET, &flag))) return rc;
  if (flag) return put_via(e, B_SET_VALUES, KNIT_T_SET, v);
  if ((rc = instance_of(e, v, B_ENVELOPE, &flag))) return rc;
  if (flag) {
    napi_value header, payload;
    bool has, is_ab = false;
    knit_put_tag(e->w, KNIT_T_ENVELOPE);
    if ((rc = get_named(e, v, "header", &header, &has))) return rc;
    if (!has) TRY(e, napi_get_undefined(e->env, &header));
    if ((rc = put_value(e, header))) return rc;
    if ((rc = get_named(e, v, "payload", &payload, &has))) return rc;
    if (has) TRY(e, napi_is_arraybuffer(e->env, payload, &is_ab));
    if (!is_ab) return fail(e, ENC_TYPE, "%s", "an Envelope's payload must be an ArrayBuffer");
    return put_value(e, payload);
  }
  if (is_null(e, proto)) {
    /* A Proxy's prototype reads as null (see above). One over an array
     * (Array.isArray) is sent as the array its traps show, not as an
     * object with index keys; arrayCopy returns null for anything else. */
    napi_value args[2] = {v}, copy;
    napi_valuetype t;
    TRY(e, napi_create_double(e->env, (double)(e->w->max - e->w->len), &args[1]));
    if (knit__call_builtin(e->env, e->ke, B_ARRAY_COPY, args, 2, &copy)) return ENC_JS;
    TRY(e, napi_typeof(e->env, copy, &t));
    if (t == napi_object) return put_value(e, copy);
    if (t == napi_number) { /* too long to ever fit */
      e->w->err = -EMSGSIZE;
      return writer_failed(e);
    }
    return put_via(e, B_OBJECT_ENTRIES, KNIT_T_OBJECT, v);
  }
  napi_value ctor, name;
  char buf[96] = "an object with a custom prototype";
  bool has;
  if (napi_get_named_property(e->env, v, "constructor", &ctor) == napi_ok &&
      napi_typeof(e->env, ctor, &(napi_valuetype){0}) == napi_ok &&
      get_named(e, ctor, "name", &name, &has) == ENC_OK && has) {
    size_t len;
    char cname[48];
    if (napi_get_value_string_utf8(e->env, name, cname, sizeof cname, &len) == napi_ok && len)
      snprintf(buf, sizeof buf, "an instance of class %s", cname);
  }
  return fail(e, ENC_TYPE, "%s cannot be sent (only plain objects, arrays, Map, Set and the listed built-ins)", buf);
}

static int put_value(enc *e, napi_value v) {
  napi_valuetype t;
  /* Stop a walk as soon as the payload is lost: a sparse array of a
   * billion holes must not be walked to its end. */
  if (e->w->err) return writer_failed(e);
  TRY(e, napi_typeof(e->env, v, &t));
  switch (t) {
  case napi_undefined: knit_put_tag(e->w, KNIT_T_UNDEFINED); return ENC_OK;
  case napi_null: knit_put_tag(e->w, KNIT_T_NULL); return ENC_OK;
  case napi_boolean: {
    bool b;
    TRY(e, napi_get_value_bool(e->env, v, &b));
    knit_put_tag(e->w, b ? KNIT_T_TRUE : KNIT_T_FALSE);
    return ENC_OK;
  }
  case napi_number: {
    double d;
    TRY(e, napi_get_value_double(e->env, v, &d));
    knit_put_number(e->w, d);
    return ENC_OK;
  }
  case napi_string: return put_string(e, v);
  case napi_bigint: {
    size_t n = 0;
    int sign = 0;
    TRY(e, napi_get_value_bigint_words(e->env, v, NULL, &n, NULL)); /* sizing: no sign */
    uint64_t small[4], *words = n <= 4 ? small : malloc(n * 8);
    if (!words) return fail(e, ENC_RANGE, "%s", "out of memory encoding a bigint");
    napi_status st = napi_get_value_bigint_words(e->env, v, &sign, &n, words);
    if (st == napi_ok) knit_put_bigint(e->w, sign, words, n);
    if (words != small) free(words);
    return st == napi_ok ? ENC_OK : ENC_JS;
  }
  case napi_symbol: {
    napi_value key;
    napi_valuetype kt;
    int rc = call_helper(e, B_SYMBOL_KEY_FOR, v, &key);
    if (rc) return rc;
    TRY(e, napi_typeof(e->env, key, &kt));
    if (kt != napi_string)
      return fail(e, ENC_TYPE, "%s", "a local Symbol cannot be sent (only Symbol.for symbols)");
    knit_put_tag(e->w, KNIT_T_SYMBOL);
    return put_string(e, key);
  }
  case napi_function:
    return fail(e, ENC_TYPE, "%s", "a function cannot be sent");
  case napi_external:
    return fail(e, ENC_TYPE, "%s", "an external value cannot be sent");
  case napi_object: {
    if (e->depth >= KNIT_MAX_DEPTH)
      return fail(e, ENC_TYPE, "payload nests deeper than %s levels", "128");
    for (unsigned i = 0; i < e->depth; i++) {
      bool same;
      TRY(e, napi_strict_equals(e->env, e->stack[i], v, &same));
      if (same) return fail(e, ENC_TYPE, "%s", "a cyclic value cannot be sent");
    }
    e->stack[e->depth++] = v;
    int rc = put_object(e, v);
    e->depth--;
    return rc;
  }
  }
  return fail(e, ENC_TYPE, "%s", "this value cannot be sent");
}

knit_writer *knit__writer_take(napi_env env, knit_env *ke, size_t max) {
  knit_writer *w = &ke->writer;
  if (ke->writer_busy) {
    if (!(w = malloc(sizeof *w))) {
      napi_throw_range_error(env, "KNIT_NOMEM", "out of memory encoding a value");
      return NULL;
    }
    knit_writer_init(w, max);
  }
  ke->writer_busy = true;
  w->max = max;
  return w;
}

void knit__writer_give(knit_env *ke, knit_writer *w) {
  if (w == &ke->writer) {
    ke->writer_busy = false;
    return;
  }
  knit_writer_clear(w);
  free(w);
}

static int encode(napi_env env, knit_env *ke, napi_value value, knit_writer *w, bool salvage) {
  enc e = {.env = env, .ke = ke, .w = w, .salvage = salvage};
  knit_writer_reset(w);
  int rc = put_value(&e, value);
  if (rc == ENC_OK && w->err) rc = writer_failed(&e);
  switch (rc) {
  case ENC_OK: return 0;
  case ENC_TYPE: napi_throw_type_error(env, "KNIT_UNSUPPORTED", e.msg); return -1;
  case ENC_RANGE: napi_throw_range_error(env, "KNIT_TOO_LARGE", e.msg); return -1;
  default:
    /* A JS exception is pending (e.g. a getter threw), or a Node-API call
     * failed without one: never fail silently. */
    knit__napi_fail(env, napi_generic_failure, "encoding a value");
    return -1;
  }
}

int knit__encode(napi_env env, knit_env *ke, napi_value value, knit_writer *w) {
  return encode(env, ke, value, w, false);
}

static const char *js_type_name(napi_env env, napi_value v) {
  napi_valuetype t = napi_undefined;
  napi_typeof(env, v, &t);
  static const char *const names[] = {"undefined", "null", "a boolean", "a number", "a string",
                                      "a symbol", "an object", "a function", "an external",
                                      "a bigint"};
  return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "another value";
}

static bool is_typed(napi_env env, napi_value v, napi_typedarray_type want) {
  bool is = false;
  napi_typedarray_type type;
  size_t len, off;
  void *data;
  napi_value ab;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  return napi_get_typedarray_info(env, v, &type, &len, &data, &ab, &off) == napi_ok && type == want;
}

int knit__encode_as(napi_env env, knit_env *ke, napi_value value, int codec, knit_writer *w) {
  const char *want = NULL;
  napi_valuetype t = napi_undefined;
  if (codec == KNIT_CODEC_ANY) return knit__encode(env, ke, value, w);
  napi_typeof(env, value, &t);
  switch (codec) {
  case KNIT_CODEC_F64:
    if (t == napi_number) {
      double d;
      napi_get_value_double(env, value, &d);
      knit_writer_reset(w);
      knit_put_number(w, d);
      return 0;
    }
    want = "a number";
    break;
  case KNIT_CODEC_STR: if (t != napi_string) want = "a string"; break;
  case KNIT_CODEC_BOOL: if (t != napi_boolean) want = "a boolean"; break;
  case KNIT_CODEC_BIGINT: if (t != napi_bigint) want = "a bigint"; break;
  case KNIT_CODEC_BYTES: if (!is_typed(env, value, napi_uint8_array)) want = "a Uint8Array"; break;
  case KNIT_CODEC_F64S: if (!is_typed(env, value, napi_float64_array)) want = "a Float64Array"; break;
  default: break;
  }
  if (want) {
    char msg[160];
    snprintf(msg, sizeof msg, "the argument must be %s, as the task's type says; got %s", want,
             t == napi_object ? "an object" : js_type_name(env, value));
    napi_throw_type_error(env, "KNIT_ARG_TYPE", msg);
    return -1;
  }
  return knit__encode(env, ke, value, w);
}

void knit__encode_thrown(napi_env env, knit_env *ke, napi_value thrown, knit_writer *w) {
  if (encode(env, ke, thrown, w, true) == 0) return;
  /* The thrown value itself cannot travel: send an Error that says so. */
  napi_value exc, msg, err;
  napi_get_and_clear_last_exception(env, &exc);
  if (napi_coerce_to_string(env, exc, &msg) != napi_ok)
    napi_create_string_utf8(env, "unsendable thrown value", NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, NULL, msg, &err);
  if (knit__encode(env, ke, err, w) != 0) {
    napi_get_and_clear_last_exception(env, &exc);
    knit_writer_reset(w);
    knit_put_error_head(w, 0);
    knit_put_str8(w, "Error", 5);
    knit_put_str8(w, "unsendable thrown value", 23);
  }
}


/* The codec (runtime/src/codec.c) -> JS values: a payload read item by item
 * into the values it describes. encode.c is the other direction. */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "knit/types.h"

typedef struct dec {
  napi_env env;
  knit_env *ke;
  knit_reader r;
  unsigned depth;
} dec;

#define DTRY(call)                                                             \
  do {                                                                         \
    if ((call) != napi_ok) return NULL;                                        \
  } while (0)

static napi_value bad(dec *d) {
  napi_throw_error(d->env, "KNIT_CORRUPT", "malformed payload in shared memory");
  return NULL;
}

static napi_value get_value(dec *d);

/* From KNIT_PACK_MIN items the JS helper pack(...items) makes an array: one
 * call into JS (about 90 ns on node) costs less than napi_set_element per
 * item (25-50 ns each). Longer arrays go PACK_MAX items a call, joined by
 * concat(...chunks), clear of the engines' argument limits. */
#define PACK_MAX 4096

static napi_value make_string(dec *d, const knit_item *it) {
  napi_value s;
  if (it->tag == KNIT_T_STR8) DTRY(napi_create_string_utf8(d->env, it->data, it->len, &s));
  else {
    /* The units may be unaligned in the payload: copy them out. */
    size_t n = it->count;
    uint16_t small[256], *u = n <= 256 ? small : malloc(n * 2);
    if (!u) return bad(d);
    memcpy(u, it->data, n * 2);
    napi_status st = napi_create_string_utf16(d->env, (const char16_t *)u, n, &s);
    if (u != small) free(u);
    DTRY(st);
  }
  return s;
}

static napi_value get_string(dec *d) {
  knit_item it;
  if (knit_read(&d->r, &it) || (it.tag != KNIT_T_STR8 && it.tag != KNIT_T_STR16)) return bad(d);
  return make_string(d, &it);
}

/* Adds @key as an own data property of @obj, like CreateDataProperty: a key
 * named "__proto__" stays a key and never changes the prototype (assignment,
 * napi_set_property, would). */
static napi_status set_own(dec *d, napi_value obj, napi_value key, napi_value value) {
  napi_property_descriptor pd = {.name = key, .value = value, .attributes = napi_default_jsproperty};
  return napi_define_properties(d->env, obj, 1, &pd);
}

static napi_value call_builtin(dec *d, enum knit_builtin b, napi_value arg) {
  napi_value out;
  return knit__call_builtin(d->env, d->ke, b, &arg, 1, &out) ? NULL : out;
}

static napi_value make_error(dec *d, unsigned flags) {
  napi_value name = get_string(d), message = name ? get_string(d) : NULL;
  if (!message) return NULL;
  napi_value errors, ctor, err;
  bool has = false;
  DTRY(napi_get_reference_value(d->env, d->ke->builtins[B_ERRORS], &errors));
  /* Own properties only: a name like "constructor" or "toString" must not
   * find Object.prototype's members. */
  DTRY(napi_has_own_property(d->env, errors, name, &has));
  if (flags & KNIT_ERR_DOM) {
    napi_value args[2] = {message, name};
    DTRY(napi_get_reference_value(d->env, d->ke->builtins[B_DOM_EXCEPTION], &ctor));
    DTRY(napi_new_instance(d->env, ctor, 2, args, &err));
  } else if (has) {
    DTRY(napi_get_property(d->env, errors, name, &ctor));
    DTRY(napi_new_instance(d->env, ctor, 1, &message, &err));
  } else {
    DTRY(napi_create_error(d->env, NULL, message, &err));
    DTRY(napi_set_named_property(d->env, err, "name", name));
  }
  if (flags & KNIT_ERR_STACK) {
    napi_value stack = get_string(d);
    if (!stack) return NULL;
    DTRY(napi_set_named_property(d->env, err, "stack", stack));
  }
  if (flags & KNIT_ERR_CAUSE) {
    napi_value cause = get_value(d);
    if (!cause) return NULL;
    napi_property_descriptor pd = {.utf8name = "cause", .value = cause,
                                   .attributes = napi_writable | napi_configurable};
    DTRY(napi_define_properties(d->env, err, 1, &pd));
  }
  if (flags & KNIT_ERR_PROPS) {
    knit_item it;
    if (knit_read(&d->r, &it) || it.tag != KNIT_T_OBJECT) return bad(d);
    for (uint32_t i = 0; i < it.count; i++) {
      napi_value k = get_string(d), v = k ? get_value(d) : NULL;
      if (!v) return NULL;
      DTRY(set_own(d, err, k, v));
    }
  }
  return err;
}

static napi_value make_binary(dec *d, const knit_item *it) {
  napi_value ab, out;
  void *mem;
  if (it->tag == KNIT_T_BUFFER) {
    DTRY(napi_create_buffer_copy(d->env, it->len, it->data, &mem, &out));
    return out;
  }
  DTRY(napi_create_arraybuffer(d->env, it->len, &mem, &ab));
  if (it->len) memcpy(mem, it->data, it->len);
  napi_typedarray_type type;
  switch (it->tag) {
  case KNIT_T_ARRAYBUFFER: return ab;
  case KNIT_T_DATAVIEW:
    DTRY(napi_create_dataview(d->env, it->len, ab, 0, &out));
    return out;
  case KNIT_T_INT8: type = napi_int8_array; break;
  case KNIT_T_UINT8: type = napi_uint8_array; break;
  case KNIT_T_UINT8C: type = napi_uint8_clamped_array; break;
  case KNIT_T_INT16: type = napi_int16_array; break;
  case KNIT_T_UINT16: type = napi_uint16_array; break;
  case KNIT_T_INT32: type = napi_int32_array; break;
  case KNIT_T_UINT32: type = napi_uint32_array; break;
  case KNIT_T_FLOAT32: type = napi_float32_array; break;
  case KNIT_T_FLOAT64: type = napi_float64_array; break;
  case KNIT_T_BIGINT64: type = napi_bigint64_array; break;
  case KNIT_T_BIGUINT64: type = napi_biguint64_array; break;
  default: return bad(d);
  }
  DTRY(napi_create_typedarray(d->env, type, it->count, ab, 0, &out));
  return out;
}

/* Defines @n (at most DEFINE_BATCH) pairs on @obj as own data properties,
 * like CreateDataProperty: a key "__proto__" stays a key (assignment,
 * napi_set_property, would set the prototype). Short UTF-8 keys go by
 * name: node's V8 then finds them in its string table instead of making a
 * new string each. */
enum { DEFINE_BATCH = 8, KEY_MAX = 48 };
static bool define_pairs(dec *d, napi_value obj, const knit_item *keys, const napi_value *vals, unsigned n) {
  napi_property_descriptor pd[DEFINE_BATCH];
  char names[DEFINE_BATCH][KEY_MAX];
  for (unsigned i = 0; i < n; i++) {
    const knit_item *key = &keys[i];
    napi_property_descriptor *p = &pd[i];
    memset(p, 0, sizeof *p);
    if (key->tag == KNIT_T_STR8 && key->len < KEY_MAX && !memchr(key->data, 0, key->len)) {
      memcpy(names[i], key->data, key->len);
      names[i][key->len] = 0;
      p->utf8name = names[i];
    } else if (!(p->name = make_string(d, key))) {
      return false;
    }
    p->value = vals[i];
    p->attributes = napi_default_jsproperty;
  }
  return napi_define_properties(d->env, obj, n, pd) == napi_ok;
}

/* Reads the next @n (key, value) pairs. */
static bool read_pairs(dec *d, knit_item *keys, napi_value *vals, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) {
    if (knit_read(&d->r, &keys[i]) || (keys[i].tag != KNIT_T_STR8 && keys[i].tag != KNIT_T_STR16)) {
      bad(d);
      return false;
    }
    if (!(vals[i] = get_value(d))) return false;
  }
  return true;
}

/* A small object whose keys are hot is made by its shape's JS function
 * (shape.c); any other a few properties at a time. */
static napi_value make_object(dec *d, uint32_t count) {
  knit_item keys[KNIT_SHAPE_MAX];
  napi_value vals[KNIT_SHAPE_MAX], out;
  if (count <= KNIT_SHAPE_MAX) {
    if (!read_pairs(d, keys, vals, count)) return NULL;
    napi_value maker = knit__shape_maker(d->env, d->ke, keys, count), undef;
    if (maker) {
      DTRY(napi_get_undefined(d->env, &undef));
      DTRY(napi_call_function(d->env, undef, maker, count, vals, &out));
      return out;
    }
    DTRY(napi_create_object(d->env, &out));
    for (uint32_t i = 0; i < count; i += DEFINE_BATCH) {
      unsigned n = count - i < DEFINE_BATCH ? count - i : DEFINE_BATCH;
      if (!define_pairs(d, out, keys + i, vals + i, n)) return NULL;
    }
    return out;
  }
  DTRY(napi_create_object(d->env, &out));
  for (uint32_t i = 0; i < count; i += DEFINE_BATCH) {
    unsigned n = count - i < DEFINE_BATCH ? count - i : DEFINE_BATCH;
    if (!read_pairs(d, keys, vals, n) || !define_pairs(d, out, keys, vals, n)) return NULL;
  }
  return out;
}

/* The next @n values as an array: gathered, then made in one go
 * (knit__make_array). A short one is filled as it is decoded: gathering
 * first costs a pair 10 ns. */
static napi_value make_list(dec *d, uint32_t n) {
  napi_value out, small[16], *items = small;
  if (n < KNIT_PACK_MIN) {
    DTRY(napi_create_array_with_length(d->env, n, &out));
    for (uint32_t i = 0; i < n; i++) {
      napi_value item = get_value(d);
      if (!item) return NULL;
      DTRY(napi_set_element(d->env, out, i, item));
    }
    return out;
  }
  if (n > 16 && !(items = malloc(n * sizeof *items))) return bad(d);
  uint32_t got = 0;
  while (got < n && (items[got] = get_value(d))) got++;
  int rc = got == n ? knit__make_array(d->env, d->ke, items, n, &out) : -1;
  if (items != small) free(items);
  return rc ? NULL : out;
}

static napi_value get_value(dec *d) {
  knit_item it;
  napi_value v;
  if (knit_read(&d->r, &it)) return bad(d);
  switch (it.tag) {
  case KNIT_T_UNDEFINED: DTRY(napi_get_undefined(d->env, &v)); return v;
  case KNIT_T_NULL: DTRY(napi_get_null(d->env, &v)); return v;
  case KNIT_T_FALSE: case KNIT_T_TRUE:
    DTRY(napi_get_boolean(d->env, it.tag == KNIT_T_TRUE, &v));
    return v;
  case KNIT_T_F64: case KNIT_T_I32: DTRY(napi_create_double(d->env, it.num, &v)); return v;
  case KNIT_T_DATE: DTRY(napi_create_date(d->env, it.num, &v)); return v;
  case KNIT_T_BIGINT: {
    uint64_t small[4], *words = it.count <= 4 ? small : malloc((size_t)it.count * 8);
    if (!words) return bad(d);
    if (it.count) memcpy(words, it.data, it.len);
    napi_status st = napi_create_bigint_words(d->env, it.sign, it.count, words, &v);
    if (words != small) free(words);
    DTRY(st);
    return v;
  }
  case KNIT_T_STR8: case KNIT_T_STR16: return make_string(d, &it);
  case KNIT_T_SYMBOL: {
    napi_value key = get_string(d);
    return key ? call_builtin(d, B_SYMBOL_FOR, key) : NULL;
  }
  default: break;
  }
  if (knit_tag_elem_size(it.tag)) return make_binary(d, &it);
  if (++d->depth > KNIT_MAX_DEPTH) return bad(d);
  napi_value out = NULL;
  switch (it.tag) {
  case KNIT_T_ERROR: out = make_error(d, it.flags); break;
  case KNIT_T_ARRAY: case KNIT_T_SET: case KNIT_T_MAP: {
    uint32_t n = it.tag == KNIT_T_MAP ? it.count * 2 : it.count;
    if (it.tag == KNIT_T_MAP && it.count > UINT32_MAX / 2) return bad(d);
    if (!(out = make_list(d, n))) return NULL;
    if (it.tag == KNIT_T_MAP) out = call_builtin(d, B_MAP_FROM, out);
    else if (it.tag == KNIT_T_SET) out = call_builtin(d, B_SET_FROM, out);
    break;
  }
  case KNIT_T_OBJECT: out = make_object(d, it.count); break;
  case KNIT_T_ENVELOPE: {
    napi_value args[2], ctor;
    if (!(args[0] = get_value(d)) || !(args[1] = get_value(d))) return NULL;
    DTRY(napi_get_reference_value(d->env, d->ke->builtins[B_ENVELOPE], &ctor));
    DTRY(napi_new_instance(d->env, ctor, 2, args, &out));
    break;
  }
  default: return bad(d);
  }
  d->depth--;
  return out;
}

int knit__make_array(napi_env env, knit_env *ke, napi_value *items, size_t n, napi_value *out) {
  if (n >= KNIT_PACK_MIN && n <= PACK_MAX) return knit__call_builtin(env, ke, B_PACK, items, n, out);
  size_t nchunks = (n + PACK_MAX - 1) / PACK_MAX;
  if (n > PACK_MAX && nchunks <= PACK_MAX) {
    /* Packed a chunk at a time, then joined: concat(...chunks). */
    napi_value *chunks = malloc(nchunks * sizeof *chunks);
    if (!chunks) {
      napi_throw_range_error(env, "KNIT_NOMEM", "out of memory decoding an array");
      return -1;
    }
    int rc = 0;
    for (size_t c = 0; c < nchunks && !rc; c++) {
      size_t from = c * PACK_MAX, len = n - from < PACK_MAX ? n - from : PACK_MAX;
      rc = knit__call_builtin(env, ke, B_PACK, items + from, len, &chunks[c]);
    }
    if (!rc) rc = knit__call_builtin(env, ke, B_CONCAT, chunks, nchunks, out);
    free(chunks);
    return rc;
  }
  NAPI_CALL_INT(env, napi_create_array_with_length(env, n, out));
  for (size_t i = 0; i < n; i++) NAPI_CALL_INT(env, napi_set_element(env, *out, (uint32_t)i, items[i]));
  return 0;
}

napi_value knit__decode(napi_env env, knit_env *ke, const uint8_t *data, size_t len) {
  dec d = {.env = env, .ke = ke};
  knit_reader_init(&d.r, data, len);
  napi_value v = get_value(&d);
  if (v && !knit_reader_done(&d.r)) return bad(&d);
  return v;
}

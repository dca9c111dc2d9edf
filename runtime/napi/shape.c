/* Object shapes for the decoder: a plain object whose keys have come often
 * enough (HOT times in a row in its cache entry) is made by a JS function
 * compiled for those keys, `(v0, v1) => ({ "msg": v0, "id": v1 })`. The
 * engine makes a literal's object in one go, where Node-API defines one
 * property at a time, each key looked up in the string table first:
 * decoding { msg, id } takes 106 ns instead of 186 on node 24, 5 keys 147
 * instead of 375 (bun 163/230 and 190/408, deno 117/211 and 154/407). */
#include <stdlib.h>
#include <string.h>

#include "common.h"

enum { SHAPES = 256, HOT = 8, KEY_BYTES = 112 };

typedef struct shape {
  uint64_t hash;
  uint32_t n;
  uint32_t seen;   /* cold: decodes since this shape took the entry; hot:
                      other shapes that may still come before it is evicted */
  napi_ref make;   /* the compiled function, once hot */
  size_t len;      /* bytes at keys */
  uint8_t keys[KEY_BYTES]; /* each key as a length byte and its UTF-8 bytes */
} shape;

struct knit_shapes {
  shape entries[SHAPES];
  bool off; /* the engine refuses to compile (code generation disallowed) */
};

knit_shapes *knit__shapes_new(void) { return calloc(1, sizeof(knit_shapes)); }

void knit__shapes_free(napi_env env, knit_shapes *s) {
  if (!s) return;
  for (int i = 0; i < SHAPES; i++)
    if (s->entries[i].make) napi_delete_reference(env, s->entries[i].make);
  free(s);
}

static bool same_keys(const shape *sh, const knit_item *keys, uint32_t n) {
  const uint8_t *p = sh->keys;
  for (uint32_t i = 0; i < n; i++) {
    if (*p != keys[i].len || memcmp(p + 1, keys[i].data, keys[i].len)) return false;
    p += 1 + keys[i].len;
  }
  return true;
}

/* The maker for @keys from JS helper objectShape(...keys); NULL with
 * *@refused set when the engine may not compile code, NULL alone when the
 * helper threw (the exception is cleared: decoding goes on without). */
static napi_value compile(napi_env env, knit_env *ke, const knit_item *keys, uint32_t n, bool *refused) {
  napi_value args[KNIT_SHAPE_MAX], fn, undef, ignored;
  napi_valuetype t;
  for (uint32_t i = 0; i < n; i++)
    if (napi_create_string_utf8(env, keys[i].data, keys[i].len, &args[i]) != napi_ok) goto failed;
  if (napi_get_reference_value(env, ke->builtins[B_OBJECT_SHAPE], &fn) != napi_ok ||
      napi_get_undefined(env, &undef) != napi_ok ||
      napi_call_function(env, undef, fn, n, args, &fn) != napi_ok || napi_typeof(env, fn, &t) != napi_ok)
    goto failed;
  *refused = t != napi_function;
  return *refused ? NULL : fn;
failed:
  napi_get_and_clear_last_exception(env, &ignored);
  return NULL;
}

napi_value knit__shape_maker(napi_env env, knit_env *ke, const knit_item *keys, uint32_t n) {
  knit_shapes *s = ke->shapes;
  if (!s || s->off || n == 0 || n > KNIT_SHAPE_MAX) return NULL;
  uint64_t h = 1469598103934665603ull;
  size_t len = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (keys[i].tag != KNIT_T_STR8 || keys[i].len > 255) return NULL;
    h = (h ^ keys[i].len) * 1099511628211ull;
    const uint8_t *b = keys[i].data;
    for (size_t j = 0; j < keys[i].len; j++) h = (h ^ b[j]) * 1099511628211ull;
    len += 1 + keys[i].len;
  }
  if (len > KEY_BYTES) return NULL;
  shape *sh = &s->entries[(h ^ (h >> 29)) & (SHAPES - 1)];
  napi_value fn;
  if (sh->hash == h && sh->n == n && sh->len == len && same_keys(sh, keys, n)) {
    if (sh->make) {
      sh->seen = HOT;
      return napi_get_reference_value(env, sh->make, &fn) == napi_ok ? fn : NULL;
    }
    if (++sh->seen < HOT) return NULL;
    bool refused = false;
    if (!(fn = compile(env, ke, keys, n, &refused))) {
      s->off = refused;
      sh->seen = 0;
      return NULL;
    }
    if (napi_create_reference(env, fn, 1, &sh->make) != napi_ok) sh->make = NULL;
    sh->seen = HOT;
    return fn;
  }
  /* A new shape takes the entry over, a hot one's after HOT misses in a row
   * (objects of many one-off shapes must not evict the ones in use). */
  if (sh->make) {
    if (--sh->seen) return NULL;
    napi_delete_reference(env, sh->make);
  }
  *sh = (shape){.hash = h, .n = n, .seen = 1, .len = len};
  uint8_t *copy = sh->keys;
  for (uint32_t i = 0; i < n; i++) {
    *copy = (uint8_t)keys[i].len;
    memcpy(copy + 1, keys[i].data, keys[i].len);
    copy += 1 + keys[i].len;
  }
  return NULL;
}

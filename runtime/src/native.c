/* Native tasks: C functions served by plain C threads over the same lanes as
 * JS workers (knit.h, "native tasks"; docs/native-tasks.md).
 *
 * A task's signature is parsed once with the one type parser (types.c) and
 * turned into C types with their layout (knit__csig). A call decodes the
 * request payload straight into an argument block, pointing string and
 * binary arguments into the request slot where it can, calls the function
 * through its prepared ffi_cif or a generated dispatcher, and encodes the
 * result with the codec. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "atomic.h"
#include "native_impl.h"

/* ---- signatures ------------------------------------------------------------ */

static void whyf(char *why, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void whyf(char *why, size_t size, const char *fmt, ...) {
  if (!why || !size) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, size, fmt, ap);
  va_end(ap);
}

static size_t align_up(size_t n, size_t a) { return (n + a - 1) & ~(a - 1); }

static bool is_ident(const char *s, size_t n) {
  if (!n || (s[0] >= '0' && s[0] <= '9')) return false;
  for (size_t k = 0; k < n; k++) {
    char c = s[k];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  }
  return true;
}

static knit__cnode *new_node(knit__csig *sig, knit_ctype c) {
  knit__cnode *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->c = c;
  n->next = sig->nodes;
  sig->nodes = n;
  return n;
}

/* An aggregate's ffi_type over @count element types. */
static int set_aggregate(knit__cnode *n, ffi_type **types, size_t count) {
  n->elems = calloc(count + 1, sizeof *n->elems);
  if (!n->elems) return -ENOMEM;
  memcpy(n->elems, types, count * sizeof *types);
  n->ffi_own = (ffi_type){.size = 0, .alignment = 0, .type = FFI_TYPE_STRUCT, .elements = n->elems};
  n->ffi = &n->ffi_own;
  return 0;
}

static ffi_type *ffi_size_t(void) { return sizeof(size_t) == 8 ? &ffi_type_uint64 : &ffi_type_uint32; }

/* The C node for type @t; @what names it in errors ("the argument"). */
static knit__cnode *build(knit__csig *sig, const knit_type *t, int depth, const char *what,
                          char *why, size_t why_size, int *err) {
  *err = -EINVAL;
  if (depth > 32) {
    whyf(why, why_size, "%s: structs nest too deeply", what);
    return NULL;
  }
  if (t->kind == KNIT_TYPE_PROMISE) {
    whyf(why, why_size, "%s: a native task is synchronous; declare '%.*s' without Promise", what,
         (int)t->items[0]->len, t->items[0]->text);
    return NULL;
  }
  knit_ctype c = knit_type_ctype(t);
  if (c == KNIT_C_NONE || c == KNIT_C_TUPLE || (c == KNIT_C_VOID && depth > 0)) {
    whyf(why, why_size, "%s: type '%.*s' has no C mapping (use number, boolean, bigint, string, "
         "Uint8Array, ArrayBuffer, Float64Array, Int32Array or a plain object of those)",
         what, (int)(t->len > 80 ? 80 : t->len), t->text);
    return NULL;
  }
  *err = -ENOMEM;
  knit__cnode *n = new_node(sig, c);
  if (!n) return NULL;
  switch (c) {
  case KNIT_C_VOID:
    n->ffi = &ffi_type_void;
    break;
  case KNIT_C_DOUBLE:
    n->size = n->align = 8;
    n->ffi = &ffi_type_double;
    break;
  case KNIT_C_BOOL:
    n->size = n->align = sizeof(bool);
    n->ffi = &ffi_type_uint8;
    break;
  case KNIT_C_INT64:
    n->size = n->align = 8;
    n->ffi = &ffi_type_sint64;
    break;
  case KNIT_C_STR: case KNIT_C_BYTES: case KNIT_C_F64S: case KNIT_C_I32S: {
    n->size = sizeof(knit_str);
    n->align = _Alignof(knit_str);
    n->tag = c == KNIT_C_STR ? KNIT_T_STR8 : c == KNIT_C_F64S ? KNIT_T_FLOAT64
             : c == KNIT_C_I32S ? KNIT_T_INT32 : t->tag;
    ffi_type *el[2] = {&ffi_type_pointer, ffi_size_t()};
    if (set_aggregate(n, el, 2)) return NULL;
    break;
  }
  case KNIT_C_STRUCT: {
    n->n_members = t->n_items;
    n->members = calloc(t->n_items, sizeof *n->members);
    ffi_type **el = calloc(t->n_items, sizeof *el);
    if (!n->members || !el) {
      free(el);
      return NULL;
    }
    size_t off = 0, align = 1;
    for (size_t k = 0; k < t->n_items; k++) {
      const knit_type *m = t->items[k];
      if (!is_ident(m->label, m->label_len)) {
        *err = -EINVAL;
        whyf(why, why_size, "%s: property key %.*s is not a C identifier", what,
             (int)m->label_len, m->label);
        free(el);
        return NULL;
      }
      for (size_t j = 0; j < k; j++)
        if (n->members[j].name_len == m->label_len && !memcmp(n->members[j].name, m->label, m->label_len)) {
          *err = -EINVAL;
          whyf(why, why_size, "%s: property '%.*s' is declared twice", what, (int)m->label_len, m->label);
          free(el);
          return NULL;
        }
      knit__cnode *mt = build(sig, m, depth + 1, what, why, why_size, err);
      if (!mt) {
        free(el);
        return NULL;
      }
      off = align_up(off, mt->align);
      n->members[k] = (knit__cmember){m->label, m->label_len, off, mt};
      off += mt->size;
      if (mt->align > align) align = mt->align;
      el[k] = mt->ffi;
    }
    n->align = align;
    n->size = align_up(off, align);
    int rc = set_aggregate(n, el, t->n_items);
    free(el);
    if (rc) return NULL;
    break;
  }
  default:
    return NULL;
  }
  *err = 0;
  return n;
}

void knit__csig_clear(knit__csig *sig) {
  if (!sig) return;
  for (knit__cnode *n = sig->nodes, *next; n; n = next) {
    next = n->next;
    free(n->members);
    free(n->elems);
    free(n);
  }
  knit_type_destroy(sig->arg_tree);
  knit_type_destroy(sig->result_tree);
  memset(sig, 0, sizeof *sig);
}

static int parse(const char *text, const char *what, knit_type **out, char *why, size_t why_size) {
  knit_type_error e = {0};
  int rc = knit_type_parse(text, strlen(text), out, &e);
  if (rc == -EINVAL)
    whyf(why, why_size, "%s type '%s' does not parse: %s at offset %zu", what, text, e.message, e.offset);
  else if (rc)
    whyf(why, why_size, "out of memory");
  return rc;
}

int knit__csig_init(knit__csig *sig, const char *arg, const char *result, bool prep_ffi,
                    char *why, size_t why_size) {
  memset(sig, 0, sizeof *sig);
  whyf(why, why_size, "%s", "");
  int rc = parse(arg, "argument", &sig->arg_tree, why, why_size);
  if (!rc) rc = parse(result, "result", &sig->result_tree, why, why_size);
  if (rc) goto fail;

  knit_ctype kinds[KNIT_NATIVE_MAX_PARAMS];
  const knit_type *types[KNIT_NATIVE_MAX_PARAMS];
  if (sig->arg_tree->kind == KNIT_TYPE_PROMISE) {
    rc = -EINVAL;
    whyf(why, why_size, "the argument: a Promise cannot be an argument");
    goto fail;
  }
  int np = knit_type_c_params(sig->arg_tree, kinds, types, KNIT_NATIVE_MAX_PARAMS);
  if (np == -E2BIG) {
    rc = -E2BIG;
    whyf(why, why_size, "the argument '%s' has more than %d elements", arg, KNIT_NATIVE_MAX_PARAMS);
    goto fail;
  }
  if (np < 0) {
    /* Name the element at fault. */
    const knit_type *bad = sig->arg_tree;
    char what[40] = "the argument";
    if (sig->arg_tree->kind == KNIT_TYPE_TUPLE)
      for (size_t k = 0; k < sig->arg_tree->n_items; k++) {
        const knit_type *e = sig->arg_tree->items[k];
        knit_ctype ec = knit_type_ctype(e);
        if (ec == KNIT_C_NONE || ec == KNIT_C_VOID || ec == KNIT_C_TUPLE ||
            (e->flags & (KNIT_TYPE_OPTIONAL | KNIT_TYPE_REST))) {
          bad = e;
          snprintf(what, sizeof what, "argument element %zu", k + 1);
          break;
        }
      }
    rc = -EINVAL;
    if (bad->flags & (KNIT_TYPE_OPTIONAL | KNIT_TYPE_REST))
      whyf(why, why_size, "%s: optional and rest tuple elements have no C mapping", what);
    else
      build(sig, bad, bad == sig->arg_tree ? 0 : 1, what, why, why_size, &rc);
    if (!rc || !why || !why[0])
      whyf(why, why_size, "the argument: type '%s' has no C mapping", arg);
    rc = -EINVAL;
    goto fail;
  }
  size_t off = 0;
  for (int k = 0; k < np; k++) {
    char what[32];
    snprintf(what, sizeof what, np > 1 ? "argument element %d" : "the argument", k + 1);
    knit__cnode *n = build(sig, types[k], 0, what, why, why_size, &rc);
    if (!n) goto fail;
    off = align_up(off, n->align);
    sig->params[k] = n;
    sig->param_off[k] = off;
    sig->ffi_args[k] = n->ffi;
    off += n->size;
  }
  sig->nparams = (unsigned)np;
  sig->tuple = knit_type_ctype(sig->arg_tree) == KNIT_C_TUPLE;
  sig->args_size = off;
  sig->result = build(sig, sig->result_tree, 0, "the result", why, why_size, &rc);
  if (!sig->result) goto fail;
  if (prep_ffi) {
    ffi_status st = ffi_prep_cif(&sig->cif, FFI_DEFAULT_ABI, sig->nparams, sig->result->ffi,
                                 sig->ffi_args);
    if (st != FFI_OK) {
      rc = -EINVAL;
      whyf(why, why_size, "libffi cannot describe the signature (ffi_prep_cif returned %d)", (int)st);
      goto fail;
    }
    sig->cif_ready = true;
  }
  return 0;
fail:
  knit__csig_clear(sig);
  return rc;
}

/* ---- the table ---------------------------------------------------------------- */

/* A task library binds to its own symbols first: the host process exports
 * thousands (node exports zlib's crc32, OpenSSL, libuv), and a library
 * function named like one of them must not call the host's instead.
 * Sanitizer runtimes refuse RTLD_DEEPBIND, so instrumented builds go without. */
#if defined(RTLD_DEEPBIND) && !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define DEEPBIND RTLD_DEEPBIND
#else
#define DEEPBIND 0
#endif

/* Each task lives in its own allocation: its cif points into its sig. */
typedef struct native_task {
  void *fn;
  knit_dispatch_fn dispatch;
  knit__csig sig;
} native_task;

struct knit_native_tasks {
  uint32_t refs;
  native_task **tasks; /* by id; NULL where no task */
  size_t n;
  void **libs;
  size_t nlibs;
};

int knit_native_tasks_create(knit_native_tasks **out) {
  knit_native_tasks *t = calloc(1, sizeof *t);
  if (!t) return -ENOMEM;
  t->refs = 1;
  *out = t;
  return 0;
}

void knit_native_tasks_ref(knit_native_tasks *t) { knit_fetch_add_seq(&t->refs, 1); }

void knit_native_tasks_unref(knit_native_tasks *t) {
  if (!t || knit_fetch_sub_seq(&t->refs, 1) != 1) return;
  for (size_t k = 0; k < t->n; k++) {
    if (!t->tasks[k]) continue;
    knit__csig_clear(&t->tasks[k]->sig);
    free(t->tasks[k]);
  }
  free(t->tasks);
  for (size_t k = 0; k < t->nlibs; k++) dlclose(t->libs[k]);
  free(t->libs);
  free(t);
}

int knit_native_tasks_add(knit_native_tasks *t, uint32_t id, void *fn, knit_dispatch_fn dispatch,
                          const char *arg, const char *result, char *why, size_t why_size) {
  whyf(why, why_size, "%s", "");
  if (!t || !arg || !result || (!fn && !dispatch)) {
    whyf(why, why_size, "a native task needs a function and both types");
    return -EINVAL;
  }
  if (id >= (1u << 20)) {
    whyf(why, why_size, "task id %u is out of range", id);
    return -EINVAL;
  }
  if (id < t->n && t->tasks[id]) {
    whyf(why, why_size, "task id %u is taken", id);
    return -EEXIST;
  }
  if (id >= t->n) {
    size_t n = (size_t)id + 1;
    native_task **v = realloc(t->tasks, n * sizeof *v);
    if (!v) return -ENOMEM;
    memset(v + t->n, 0, (n - t->n) * sizeof *v);
    t->tasks = v;
    t->n = n;
  }
  native_task *nt = calloc(1, sizeof *nt);
  if (!nt) return -ENOMEM;
  int rc = knit__csig_init(&nt->sig, arg, result, dispatch == NULL, why, why_size);
  if (rc) {
    free(nt);
    return rc;
  }
  nt->fn = fn;
  nt->dispatch = dispatch;
  t->tasks[id] = nt;
  return 0;
}

/* A task library calls knit_result_alloc() and friends, which live in the
 * module that holds libknit (knit.node). That module was loaded with local
 * scope, so make its symbols global once, before the first task library is
 * loaded with RTLD_NOW. */
static pthread_once_t g_promote_once = PTHREAD_ONCE_INIT;
static void promote_self(void) {
  Dl_info info;
  if (dladdr((void *)knit_result_alloc, &info) && info.dli_fname)
    (void)dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD | RTLD_GLOBAL); /* kept for good */
}

/* True when @a and @b map to the same C types: same kinds, binary tags,
 * struct member names in order and tuple lengths (labels and spelling may
 * differ). */
static bool same_ctype(const knit_type *a, const knit_type *b) {
  knit_ctype ca = knit_type_ctype(a), cb = knit_type_ctype(b);
  if (ca != cb || ca == KNIT_C_NONE || a->kind != b->kind) return false;
  if (ca == KNIT_C_BYTES && a->tag != b->tag) return false;
  if (ca != KNIT_C_STRUCT && ca != KNIT_C_TUPLE) return true;
  if (a->n_items != b->n_items) return false;
  for (size_t k = 0; k < a->n_items; k++) {
    const knit_type *x = a->items[k], *y = b->items[k];
    if (ca == KNIT_C_STRUCT && (x->label_len != y->label_len || memcmp(x->label, y->label, x->label_len)))
      return false;
    if (!same_ctype(x, y)) return false;
  }
  return true;
}

static bool same_type(const char *a, const char *b) {
  knit_type *ta = NULL, *tb = NULL;
  bool same = !knit_type_parse(a, strlen(a), &ta, NULL) && !knit_type_parse(b, strlen(b), &tb, NULL) &&
              same_ctype(ta, tb);
  knit_type_destroy(ta);
  knit_type_destroy(tb);
  return same;
}

int knit_native_tasks_add_symbol(knit_native_tasks *t, uint32_t id, const char *library,
                                 const char *symbol, const char *arg, const char *result,
                                 char *why, size_t why_size) {
  whyf(why, why_size, "%s", "");
  if (!t || !library || !symbol || !*symbol) {
    whyf(why, why_size, "a native task needs a library and a symbol");
    return -EINVAL;
  }
  pthread_once(&g_promote_once, promote_self);
  void **libs = realloc(t->libs, (t->nlibs + 1) * sizeof *libs);
  if (!libs) return -ENOMEM;
  t->libs = libs;
  dlerror();
  void *h = dlopen(library, RTLD_NOW | RTLD_LOCAL | DEEPBIND);
  if (!h) {
    const char *e = dlerror();
    whyf(why, why_size, "cannot load library %s: %s", library, e ? e : "unknown error");
    return -ENOENT;
  }
  t->libs[t->nlibs++] = h; /* closed with the table, even if this add fails */
  char entry_name[256];
  if (snprintf(entry_name, sizeof entry_name, "%s" KNIT_NATIVE_ENTRY_SUFFIX, symbol) >= (int)sizeof entry_name) {
    whyf(why, why_size, "symbol name '%s' is too long", symbol);
    return -EINVAL;
  }
  const knit_native_entry *entry = dlsym(h, entry_name);
  dlerror();
  void *fn = dlsym(h, symbol);
  if (!fn && !entry) {
    const char *e = dlerror();
    whyf(why, why_size, "library %s has no symbol '%s'%s%s", library, symbol, e ? ": " : "", e ? e : "");
    return -ENOENT;
  }
  if (entry) {
    if (entry->abi != KNIT_NATIVE_ABI || !entry->arg || !entry->result || !entry->dispatch) {
      whyf(why, why_size, "%s in %s has ABI %u; this runtime reads ABI %u (regenerate it with knitgen --c-stubs)",
           entry_name, library, entry->abi, KNIT_NATIVE_ABI);
      return -EINVAL;
    }
    if ((arg && !same_type(arg, entry->arg)) || (result && !same_type(result, entry->result))) {
      whyf(why, why_size, "'%s' is declared as (%s) => %s but %s was generated for (%s) => %s; "
           "regenerate the stubs or fix the declaration", symbol, arg ? arg : entry->arg,
           result ? result : entry->result, library, entry->arg, entry->result);
      return -EINVAL;
    }
    return knit_native_tasks_add(t, id, fn, entry->dispatch, entry->arg, entry->result, why, why_size);
  }
  if (!arg || !result) {
    whyf(why, why_size, "'%s' in %s has no declared signature: give arg and result, or compile "
         "the knitgen --c-stubs dispatch (%s) into the library", symbol, library, entry_name);
    return -EINVAL;
  }
  return knit_native_tasks_add(t, id, fn, NULL, arg, result, why, why_size);
}

/* ---- one call -------------------------------------------------------------------- */

/* Per-call state of the thread running a task: result memory and a throw. */
typedef struct block {
  struct block *next;
  _Alignas(16) unsigned char data[];
} block;

typedef struct call_ctx {
  block *blocks;
  bool thrown;
  const knit_native_worker *worker; /* NULL under knit_native_invoke */
  uint32_t token;                    /* the call's, for knit_lane_cancelled */
  char message[1024];
} call_ctx;

static _Thread_local call_ctx *tl_call;

static void *ctx_alloc(call_ctx *cx, size_t size) {
  if (size > SIZE_MAX - sizeof(block)) return NULL;
  block *b = malloc(sizeof *b + (size ? size : 1));
  if (!b) return NULL;
  b->next = cx->blocks;
  cx->blocks = b;
  return b->data;
}

static void ctx_clear(call_ctx *cx) {
  for (block *b = cx->blocks, *next; b; b = next) {
    next = b->next;
    free(b);
  }
  cx->blocks = NULL;
}

void *knit_result_alloc(size_t size) { return tl_call ? ctx_alloc(tl_call, size) : NULL; }

knit_str knit_result_str(const char *data, size_t len) {
  char *p = knit_result_alloc(len);
  if (!p) return (knit_str){NULL, 0};
  if (len) memcpy(p, data, len);
  return (knit_str){p, len};
}

knit_bytes knit_result_bytes(const void *data, size_t len) {
  uint8_t *p = knit_result_alloc(len);
  if (!p) return (knit_bytes){NULL, 0};
  if (len) memcpy(p, data, len);
  return (knit_bytes){p, len};
}

int knit_native_throw(const char *message) {
  if (!tl_call) return -EPERM;
  tl_call->thrown = true;
  snprintf(tl_call->message, sizeof tl_call->message, "%s", message ? message : "");
  return 0;
}

/* A decode failure: which JS error class and why. */
typedef struct derr {
  const char *name;
  char msg[200];
} derr;

static int bad(derr *e, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(derr *e, const char *name, const char *fmt, ...) {
  e->name = name;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
  va_end(ap);
  return -1;
}

static const char *tag_name(unsigned tag) {
  switch (tag) {
  case KNIT_T_UNDEFINED: return "undefined";
  case KNIT_T_NULL: return "null";
  case KNIT_T_FALSE: case KNIT_T_TRUE: return "a boolean";
  case KNIT_T_F64: case KNIT_T_I32: return "a number";
  case KNIT_T_BIGINT: return "a bigint";
  case KNIT_T_STR8: case KNIT_T_STR16: return "a string";
  case KNIT_T_ARRAY: return "an array";
  case KNIT_T_OBJECT: return "an object";
  case KNIT_T_ARRAYBUFFER: return "an ArrayBuffer";
  case KNIT_T_BUFFER: return "a Buffer";
  case KNIT_T_UINT8: return "a Uint8Array";
  case KNIT_T_FLOAT64: return "a Float64Array";
  case KNIT_T_INT32: return "an Int32Array";
  default: return "another kind of value";
  }
}

static const char *want_name(const knit__cnode *n) {
  switch (n->c) {
  case KNIT_C_DOUBLE: return "a number";
  case KNIT_C_BOOL: return "a boolean";
  case KNIT_C_INT64: return "a bigint";
  case KNIT_C_STR: return "a string";
  case KNIT_C_BYTES: return "a Uint8Array or ArrayBuffer";
  case KNIT_C_F64S: return "a Float64Array";
  case KNIT_C_I32S: return "an Int32Array";
  case KNIT_C_STRUCT: return "an object";
  default: return "nothing";
  }
}

/* Points @out at @len bytes of @data with alignment @align, copying into
 * call memory only if the payload is not aligned (it is, in a mailbox). */
static const void *aligned(call_ctx *cx, const void *data, size_t len, size_t align) {
  if (((uintptr_t)data & (align - 1)) == 0) return data;
  void *p = ctx_alloc(cx, len);
  if (p && len) memcpy(p, data, len);
  return p;
}

static int decode(knit_reader *r, const knit__cnode *n, void *dst, call_ctx *cx, derr *e,
                  const char *where);

static int decode_struct(knit_reader *r, const knit__cnode *n, uint8_t *dst, call_ctx *cx,
                         derr *e, const char *where, uint32_t count) {
  uint64_t seen = 0;
  bool *seen_big = NULL;
  if (n->n_members > 64 && !(seen_big = ctx_alloc(cx, n->n_members)))
    return bad(e, "RangeError", "out of memory");
  if (seen_big) memset(seen_big, 0, n->n_members);
  for (uint32_t i = 0; i < count; i++) {
    knit_item key;
    if (knit_read(r, &key)) return bad(e, "TypeError", "malformed request payload");
    const char *k = key.data;
    size_t klen = key.len;
    char buf[128];
    if (key.tag == KNIT_T_STR16) { /* only ASCII can match a C identifier */
      const uint8_t *u = key.data;
      klen = key.count < sizeof buf ? key.count : 0;
      for (size_t j = 0; j < klen; j++) {
        uint16_t c;
        memcpy(&c, u + 2 * j, 2);
        buf[j] = c < 0x80 ? (char)c : '\x01';
      }
      k = buf;
    } else if (key.tag != KNIT_T_STR8) {
      return bad(e, "TypeError", "malformed request payload");
    }
    size_t m = 0;
    while (m < n->n_members && !(n->members[m].name_len == klen && !memcmp(n->members[m].name, k, klen)))
      m++;
    if (m == n->n_members) { /* not declared: ignored, as TypeScript would allow */
      if (knit_skip(r)) return bad(e, "TypeError", "malformed request payload");
      continue;
    }
    char sub[96];
    snprintf(sub, sizeof sub, "%s.%.*s", where, (int)klen, k);
    if (decode(r, n->members[m].type, dst + n->members[m].off, cx, e, sub)) return -1;
    if (seen_big) seen_big[m] = true;
    else seen |= 1ull << m;
  }
  for (size_t m = 0; m < n->n_members; m++)
    if (seen_big ? !seen_big[m] : !(seen & (1ull << m)))
      return bad(e, "TypeError", "%s: property '%.*s' is missing", where, (int)n->members[m].name_len,
                 n->members[m].name);
  return 0;
}

static int decode(knit_reader *r, const knit__cnode *n, void *dst, call_ctx *cx, derr *e,
                  const char *where) {
  knit_item it;
  if (knit_read(r, &it)) return bad(e, "TypeError", "malformed request payload");
  switch (n->c) {
  case KNIT_C_DOUBLE:
    if (it.tag != KNIT_T_F64 && it.tag != KNIT_T_I32) break;
    memcpy(dst, &it.num, sizeof(double));
    return 0;
  case KNIT_C_BOOL: {
    if (it.tag != KNIT_T_TRUE && it.tag != KNIT_T_FALSE) break;
    bool b = it.tag == KNIT_T_TRUE;
    memcpy(dst, &b, sizeof b);
    return 0;
  }
  case KNIT_C_INT64: {
    if (it.tag != KNIT_T_BIGINT) break;
    uint64_t mag = 0;
    if (it.count > 1) return bad(e, "RangeError", "%s: the bigint does not fit int64_t", where);
    if (it.count == 1) memcpy(&mag, it.data, 8);
    int64_t v;
    if (!it.sign && mag <= (uint64_t)INT64_MAX) v = (int64_t)mag;
    else if (it.sign && mag <= (uint64_t)INT64_MAX + 1) v = (int64_t)(0 - mag);
    else return bad(e, "RangeError", "%s: the bigint does not fit int64_t", where);
    memcpy(dst, &v, sizeof v);
    return 0;
  }
  case KNIT_C_STR: {
    knit_str s;
    if (it.tag == KNIT_T_STR8) {
      s = (knit_str){it.len ? it.data : "", it.len};
    } else if (it.tag == KNIT_T_STR16) {
      uint16_t *units = ctx_alloc(cx, it.len);
      if (!units) return bad(e, "RangeError", "out of memory");
      memcpy(units, it.data, it.len);
      size_t need = knit_utf16_to_utf8(units, it.count, NULL, 0);
      char *out = ctx_alloc(cx, need);
      if (!out) return bad(e, "RangeError", "out of memory");
      knit_utf16_to_utf8(units, it.count, out, need);
      s = (knit_str){out, need};
    } else {
      break;
    }
    memcpy(dst, &s, sizeof s);
    return 0;
  }
  case KNIT_C_BYTES: {
    if (it.tag != KNIT_T_UINT8 && it.tag != KNIT_T_BUFFER && it.tag != KNIT_T_UINT8C &&
        it.tag != KNIT_T_ARRAYBUFFER)
      break;
    knit_bytes b = {it.len ? it.data : (const uint8_t *)"", it.len};
    memcpy(dst, &b, sizeof b);
    return 0;
  }
  case KNIT_C_F64S: case KNIT_C_I32S: {
    unsigned want = n->c == KNIT_C_F64S ? KNIT_T_FLOAT64 : KNIT_T_INT32;
    size_t esz = n->c == KNIT_C_F64S ? 8 : 4;
    if (it.tag != want) break;
    static const uint64_t empty = 0;
    const void *p = it.len ? aligned(cx, it.data, it.len, esz) : &empty;
    if (!p) return bad(e, "RangeError", "out of memory");
    knit_f64s a = {p, it.len / esz}; /* same layout for knit_i32s */
    memcpy(dst, &a, sizeof a);
    return 0;
  }
  case KNIT_C_STRUCT:
    if (it.tag != KNIT_T_OBJECT) break;
    return decode_struct(r, n, dst, cx, e, where, it.count);
  default:
    break;
  }
  return bad(e, "TypeError", "%s: expected %s, got %s", where, want_name(n), tag_name(it.tag));
}

/* A string result. It is sent as UTF-8, unless it holds a surrogate's
 * WTF-8 sequence (ED A0..BF): the host's UTF-8 decoder would turn that into
 * U+FFFDs, so it goes as UTF-16 and a lone surrogate that came in as an
 * argument comes back out, as from a JS worker. */
static int put_text(knit_writer *w, const char *s, size_t len, derr *e, const char *where) {
  bool wtf8 = false;
  const char *end = len ? s + len : s, *p = s;
  while (!wtf8 && p < end && (p = memchr(p, 0xED, (size_t)(end - p))) && ++p < end)
    wtf8 = (uint8_t)*p >= 0xA0 && (uint8_t)*p <= 0xBF;
  if (!wtf8) {
    knit_put_str8(w, s, len);
    return 0;
  }
  size_t n = knit_wtf8_to_utf16(s, len, NULL, 0);
  uint16_t *units = malloc(n * sizeof *units);
  if (!units) return bad(e, "RangeError", "%s: out of memory", where);
  knit_wtf8_to_utf16(s, len, units, n);
  knit_put_str16(w, units, n);
  free(units);
  return 0;
}

/* Encodes the C value at @src of type @n. Returns 0 or -1 with @e set. */
static int encode(knit_writer *w, const knit__cnode *n, const void *src, derr *e, const char *where) {
  switch (n->c) {
  case KNIT_C_VOID:
    knit_put_tag(w, KNIT_T_UNDEFINED);
    return 0;
  case KNIT_C_DOUBLE: {
    double d;
    memcpy(&d, src, sizeof d);
    knit_put_number(w, d);
    return 0;
  }
  case KNIT_C_BOOL: {
    bool b;
    memcpy(&b, src, sizeof b);
    knit_put_tag(w, b ? KNIT_T_TRUE : KNIT_T_FALSE);
    return 0;
  }
  case KNIT_C_INT64: {
    int64_t v;
    memcpy(&v, src, sizeof v);
    uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    knit_put_bigint(w, v < 0, &mag, 1);
    return 0;
  }
  case KNIT_C_STR: case KNIT_C_BYTES: case KNIT_C_F64S: case KNIT_C_I32S: {
    knit_bytes b; /* the four share one layout */
    memcpy(&b, src, sizeof b);
    size_t esz = n->c == KNIT_C_F64S ? 8 : n->c == KNIT_C_I32S ? 4 : 1;
    if (!b.data && b.len)
      return bad(e, "Error", "%s: the native task returned NULL data with length %zu (out of memory?)",
                 where, b.len);
    if (b.len > SIZE_MAX / esz) return bad(e, "RangeError", "%s: length overflows", where);
    if (n->c == KNIT_C_STR) return put_text(w, (const char *)b.data, b.len, e, where);
    knit_put_binary(w, n->tag, b.data, b.len * esz);
    return 0;
  }
  case KNIT_C_STRUCT:
    knit_put_container(w, KNIT_T_OBJECT, n->n_members);
    for (size_t m = 0; m < n->n_members; m++) {
      knit_put_str8(w, n->members[m].name, n->members[m].name_len);
      char sub[96];
      snprintf(sub, sizeof sub, "%s.%.*s", where, (int)n->members[m].name_len, n->members[m].name);
      if (encode(w, n->members[m].type, (const uint8_t *)src + n->members[m].off, e, sub)) return -1;
    }
    return 0;
  default:
    return bad(e, "Error", "%s: cannot encode", where);
  }
}

static void put_error(knit_writer *w, const char *name, const char *message) {
  knit_writer_reset(w);
  knit_put_error_head(w, 0);
  knit_put_str8(w, name, strlen(name));
  knit_put_str8(w, message, strlen(message));
}

/* Runs one call with @cx as this thread's call context. */
static int invoke(const native_task *nt, const uint8_t *req, size_t len, knit_writer *w, call_ctx *cx) {
  const knit__csig *sig = &nt->sig;
  derr e = {0};
  _Alignas(16) uint8_t small_args[512];
  _Alignas(16) uint8_t small_ret[256];
  void *avalues[KNIT_NATIVE_MAX_PARAMS];
  uint8_t *args = small_args, *ret = small_ret;
  size_t ret_size = sig->result->size < sizeof(ffi_arg) ? sizeof(ffi_arg) : sig->result->size;
  int status = KNIT_OK;
  if (sig->args_size > sizeof small_args && !(args = ctx_alloc(cx, sig->args_size))) goto oom;
  if (ret_size > sizeof small_ret && !(ret = ctx_alloc(cx, ret_size))) goto oom;
  memset(args, 0, sig->args_size);
  memset(ret, 0, ret_size);

  knit_reader r;
  knit_reader_init(&r, req, len);
  int rc = 0;
  if (sig->nparams == 1 && !sig->tuple) {
    rc = decode(&r, sig->params[0], args + sig->param_off[0], cx, &e, "argument");
  } else if (sig->nparams > 0) {
    knit_item it;
    const char *s = sig->nparams == 1 ? "" : "s";
    if (knit_read(&r, &it)) {
      rc = bad(&e, "TypeError", "malformed request payload");
    } else if (it.tag != KNIT_T_ARRAY) {
      rc = bad(&e, "TypeError", "argument: expected a tuple of %u element%s, got %s", sig->nparams,
               s, tag_name(it.tag));
    } else if (it.count != sig->nparams) {
      rc = bad(&e, "TypeError", "argument: expected a tuple of %u element%s, got %u", sig->nparams,
               s, it.count);
    }
    for (unsigned k = 0; k < sig->nparams && !rc; k++) {
      char where[32];
      snprintf(where, sizeof where, "argument[%u]", k);
      rc = decode(&r, sig->params[k], args + sig->param_off[k], cx, &e, where);
    }
  }
  if (rc) {
    put_error(w, e.name, e.msg);
    return KNIT_THROWN;
  }
  for (unsigned k = 0; k < sig->nparams; k++) avalues[k] = args + sig->param_off[k];

  call_ctx *outer = tl_call;
  tl_call = cx;
  cx->thrown = false;
  if (nt->dispatch) nt->dispatch(ret, avalues);
  else ffi_call((ffi_cif *)&sig->cif, FFI_FN(nt->fn), ret, avalues);
  tl_call = outer;

  if (cx->thrown) {
    put_error(w, "Error", cx->message);
    return KNIT_THROWN;
  }
  if (sig->result->c == KNIT_C_BOOL && !nt->dispatch) {
    /* libffi widens integral results narrower than a register to ffi_arg */
    ffi_arg wide;
    memcpy(&wide, ret, sizeof wide);
    bool b = wide & 0xff;
    memset(ret, 0, ret_size);
    memcpy(ret, &b, sizeof b);
  }
  knit_writer_reset(w);
  if (encode(w, sig->result, ret, &e, "result")) {
    put_error(w, e.name, e.msg);
    status = KNIT_THROWN;
  }
  return status;
oom:
  put_error(w, "RangeError", "out of memory decoding the arguments of a native task");
  return KNIT_THROWN;
}

int knit_native_invoke(const knit_native_tasks *t, uint32_t id, const uint8_t *req, size_t len,
                       knit_writer *w) {
  if (!t || id >= t->n || !t->tasks[id]) return -ENOENT;
  call_ctx *cx = calloc(1, sizeof *cx);
  if (!cx) return -ENOMEM;
  int status = invoke(t->tasks[id], req, len, w, cx);
  ctx_clear(cx);
  free(cx);
  int err = knit_writer_error(w);
  return err ? err : status;
}

/* ---- the worker thread ----------------------------------------------------------- */

struct knit_native_worker {
  knit_lane *lane;
  knit_native_tasks *tasks;
  knit_native_opts opts;
  knit_wait_opts wait; /* for requests, and for room to answer */
  uint32_t stop; /* set by knit_native_worker_stop */
  bool detached;
  pthread_t thread;
  call_ctx cx;
  knit_msg msgs[KNIT_SLOTS];
};

static bool stopping(const knit_native_worker *w) {
  /* Pairs with the seq-cst store of the stop word by its owner, which then
   * wakes lane->worker_signal. */
  return knit_load_seq(&w->stop) || (w->opts.stop && knit_load_seq(w->opts.stop));
}

bool knit_native_aborted(void) {
  const call_ctx *cx = tl_call;
  return cx && cx->worker && (stopping(cx->worker) || knit_lane_cancelled(cx->worker->lane, cx->token));
}

static bool work_or_stop(void *arg) {
  knit_native_worker *w = arg;
  return stopping(w) || knit_mailbox_pending(w->lane->requests);
}

typedef struct room_wait {
  const knit_native_worker *w;
  unsigned in_use; /* response slots the host had not acknowledged */
} room_wait;

static bool room_or_stop(void *arg) {
  const room_wait *r = arg;
  return stopping(r->w) || knit_mailbox_in_use(r->w->lane->responses) < r->in_use;
}

/* Stages one response, waiting for the host to free a slot if it must.
 * Returns false if the worker is stopping (the response is dropped). */
static bool respond(knit_native_worker *w, const knit_msg *m, int status, knit_writer *wr) {
  knit_mailbox *mb = w->lane->responses;
  for (;;) {
    uint8_t *buf;
    room_wait room = {w, knit_mailbox_in_use(mb)};
    int slot = knit_mailbox_reserve(mb, wr->len, &buf);
    if (slot >= 0) {
      if (wr->len) memcpy(buf, wr->buf, wr->len);
      knit_mailbox_stage(mb, (unsigned)slot, m->task, m->call, (uint32_t)status, wr->len, knit_now_ns());
      return true;
    }
    if (slot == -EMSGSIZE) {
      put_error(wr, "RangeError", "the native task's result is larger than payload.maxPayloadBytes");
      status = KNIT_THROWN;
      continue;
    }
    /* -EAGAIN: every response slot (or the arena) awaits the host. Let it
     * see what is staged and wait for its ack: spin as for requests (the
     * host is usually busy resolving the last batch for some microseconds),
     * then doze in short parks, as an ack wakes nobody. */
    knit_mailbox_publish(mb);
    knit_wait_opts doze = w->wait;
    doze.park_ns = 20000;
    knit_wait(w->lane->worker_signal, room_or_stop, &room, &doze);
    if (stopping(w)) return false;
  }
}

/* A batch's answers go out together when it ends, unless it has run this
 * long: then what is done goes out before the next call (the JS worker does
 * the same, runtime/js/serve.js LONG_BATCH_MS). */
#define LONG_BATCH_NS 200000u

static void serve_batch(knit_native_worker *w, knit_writer *wr) {
  knit_lane *lane = w->lane;
  unsigned n = knit_lane_take(lane, w->msgs);
  /* The clock is read after the first call and every 8th, then after every
   * call once the batch is known to be slow. */
  uint64_t since = n > 1 ? knit_now_ns() : 0;
  bool slow = false;
  for (unsigned i = 0; i < n; i++) {
    if (i > 0 && (slow || (i & 7) == 1)) {
      uint64_t now = knit_now_ns();
      if (now - since > LONG_BATCH_NS) {
        knit_mailbox_publish(lane->responses);
        since = now;
        slow = true;
      }
    }
    const knit_msg *m = &w->msgs[i];
    int status;
    knit_writer_reset(wr);
    if (m->status == KNIT_CORRUPT) {
      put_error(wr, "Error", "corrupt request slot header in shared memory");
      status = KNIT_THROWN;
    } else if (m->task >= w->tasks->n || !w->tasks->tasks[m->task]) {
      char msg[96];
      snprintf(msg, sizeof msg, "no native task #%u on this thread", m->task);
      put_error(wr, "Error", msg);
      status = KNIT_THROWN;
    } else if (knit_lane_begin_call(lane, m->aux)) {
      /* Given up on while it waited: the host has settled it already. */
      put_error(wr, "Error", "the call was cancelled before it ran");
      status = KNIT_THROWN;
    } else {
      w->cx.token = m->aux;
      status = invoke(w->tasks->tasks[m->task], m->data, m->len, wr, &w->cx);
      ctx_clear(&w->cx);
      int err = knit_writer_error(wr);
      if (err) {
        put_error(wr, "RangeError", err == -EMSGSIZE
                                      ? "the native task's result is larger than payload.maxPayloadBytes"
                                      : "out of memory encoding a native task's result");
        status = KNIT_THROWN;
      }
    }
    if (!respond(w, m, status, wr)) break;
  }
  /* Requests first: their payloads are no longer read, and a host that sees
   * the responses may send again at once. */
  knit_mailbox_ack(lane->requests);
  knit_mailbox_publish(lane->responses);
}

static void *worker_main(void *arg) {
  knit_native_worker *w = arg;
  knit_writer wr;
  knit_limits def;
  knit_limits_default(&def);
  knit_writer_init(&wr, w->opts.payload_max ? w->opts.payload_max : def.payload_max);
  w->wait = (knit_wait_opts){.spin_ns = w->opts.spin_ns ? w->opts.spin_ns : 50000,
                             .park_ns = w->opts.park_ns,
                             .yield_cpu = w->opts.yield_cpu,
                             .awake = &w->lane->consumer};
  knit_awake_set(&w->lane->consumer, true);
  while (!stopping(w)) {
    if (!knit_mailbox_pending(w->lane->requests)) {
      knit_wait(w->lane->worker_signal, work_or_stop, w, &w->wait);
      continue;
    }
    serve_batch(w, &wr);
  }
  knit_awake_leave(&w->lane->consumer);
  knit_writer_clear(&wr);
  knit_native_tasks_unref(w->tasks);
  void (*on_exit)(void *) = w->opts.on_exit;
  void *exit_arg = w->opts.exit_arg;
  bool detached = w->detached;
  if (detached) free(w);
  if (on_exit) on_exit(exit_arg);
  return NULL;
}

int knit_native_worker_start(knit_lane *lane, knit_native_tasks *tasks, const knit_native_opts *opts,
                             knit_native_worker **out) {
  if (!lane || !tasks || (!out && (!opts || !opts->stop))) return -EINVAL;
  knit_native_worker *w = calloc(1, sizeof *w);
  if (!w) return -ENOMEM;
  w->lane = lane;
  w->tasks = tasks;
  if (opts) w->opts = *opts;
  w->cx.worker = w;
  w->detached = out == NULL;
  knit_native_tasks_ref(tasks);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (w->detached) pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int rc = pthread_create(&w->thread, &attr, worker_main, w);
  pthread_attr_destroy(&attr);
  if (rc) {
    knit_native_tasks_unref(tasks);
    free(w);
    return -rc;
  }
  if (out) *out = w;
  return 0;
}

void knit_native_worker_stop(knit_native_worker *w) {
  if (!w) return;
  knit_store_seq(&w->stop, 1); /* pairs with the load in stopping() */
  knit_signal_wake(w->lane->worker_signal);
  pthread_join(w->thread, NULL);
  free(w);
}

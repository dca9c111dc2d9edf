/* project.c: from root modules to the task list.
 *
 * Each module's export table is computed once (memoised, cycle-safe):
 * explicit exports first, in source order, then names from `export *`, which
 * never override an explicit export (ES semantics). A binding remembers the
 * module that defines the task and the name that module exports it under,
 * so the generated worker can import it from there. The roots' tables give
 * the tasks; names must be unique across all roots. Finally every task's
 * types are parsed with knit_type_parse() and checked to be carryable.
 */
#include "kg.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum { ST_NEW = 0, ST_BUSY, ST_DONE };

void kg_project_init(kg_project *p)
{
  memset(p, 0, sizeof *p);
  kg_diags_init(&p->diags);
}

static void task_free(kg_task *t)
{
  free(t->name);
  free(t->arg);
  free(t->result);
  free(t->export_name);
  free(t->href);
  free(t->import_name);
  free(t->symbol);
  free(t->library);
}

void kg_project_clear(kg_project *p)
{
  for (size_t k = 0; k < p->ntasks; k++)
    task_free(&p->tasks[k]);
  free(p->tasks);
  free(p->task_ix);
  for (size_t k = 0; k < p->nmods; k++) {
    kg_file *f = p->mods[k]->file;
    kg_module_free(p->mods[k]);
    kg_file_free(f);
  }
  free(p->mods);
  free(p->roots);
  kg_diags_clear(&p->diags);
  memset(p, 0, sizeof *p);
}

static int push_ptr(void ***v, size_t *n, size_t *cap, void *x)
{
  if (*n == *cap) {
    size_t c = *cap ? *cap * 2 : 8;
    void **nv = realloc(*v, c * sizeof *nv);
    if (!nv)
      return -ENOMEM;
    *v = nv;
    *cap = c;
  }
  (*v)[(*n)++] = x;
  return 0;
}

static kg_module *find_loaded(const kg_project *p, const char *real)
{
  for (size_t k = 0; k < p->nmods; k++)
    if (p->mods[k]->real && strcmp(p->mods[k]->real, real) == 0)
      return p->mods[k];
  return NULL;
}

static kg_module *add_module(kg_project *p, kg_file *f, const char *real)
{
  kg_module *m = kg_parse(f, &p->diags);
  if (!m) {
    kg_file_free(f);
    return NULL;
  }
  m->real = strdup(real);
  if (!m->real || push_ptr((void ***)&p->mods, &p->nmods, &p->capmods, m) < 0) {
    kg_module_free(m);
    kg_file_free(f);
    return NULL;
  }
  return m;
}

static kg_module *load_module(kg_project *p, const char *path, int *err)
{
  char real[PATH_MAX];
  if (!realpath(path, real)) {
    *err = -errno;
    return NULL;
  }
  kg_module *m = find_loaded(p, real);
  if (m)
    return m;
  kg_file *f;
  *err = kg_file_load(path, &f);
  if (*err < 0)
    return NULL;
  m = add_module(p, f, real);
  if (!m)
    *err = -ENOMEM;
  return m;
}

int kg_project_add_file(kg_project *p, const char *path)
{
  int err = 0;
  kg_module *m = load_module(p, path, &err);
  if (!m) {
    kg_diag_path(&p->diags, KG_ERROR, path, "cannot read file: %s", strerror(-err));
    return err;
  }
  for (size_t k = 0; k < p->nroots; k++)
    if (p->roots[k] == m)
      return 0;
  return push_ptr((void ***)&p->roots, &p->nroots, &p->caproots, m);
}

int kg_project_add_memory(kg_project *p, const char *path, const char *data, size_t len)
{
  kg_file *f;
  int rc = kg_file_from_memory(path, data, len, &f);
  if (rc < 0)
    return rc;
  char id[64];
  snprintf(id, sizeof id, "mem:%zu", p->nmods);
  kg_module *m = add_module(p, f, id);
  if (!m)
    return -ENOMEM;
  return push_ptr((void ***)&p->roots, &p->nroots, &p->caproots, m);
}

/* ---- paths ---------------------------------------------------------------------- */

/* Joins dirname(@from) and @rel, then removes `.` and `x/..` segments. */
static char *join_path(const char *from, const char *rel, size_t rel_len)
{
  size_t dl = 0;
  if (rel_len == 0 || rel[0] != '/') {
    const char *slash = strrchr(from, '/');
    dl = slash ? (size_t)(slash - from) + 1 : 0;
  }
  char *buf = malloc(dl + rel_len + 1);
  if (!buf)
    return NULL;
  memcpy(buf, from, dl);
  memcpy(buf + dl, rel, rel_len);
  buf[dl + rel_len] = 0;

  /* normalise in place, segment by segment */
  char *out = malloc(strlen(buf) + 1);
  if (!out) {
    free(buf);
    return NULL;
  }
  size_t o = 0;
  const char *s = buf;
  bool abs = *s == '/';
  if (abs)
    out[o++] = '/';
  size_t base = o; /* segments before this are fixed ("/" or leading "..") */
  while (*s) {
    while (*s == '/')
      s++;
    const char *e = s;
    while (*e && *e != '/')
      e++;
    size_t n = (size_t)(e - s);
    if (n == 0)
      break;
    if (n == 1 && s[0] == '.') {
      /* skip */
    } else if (n == 2 && s[0] == '.' && s[1] == '.') {
      if (o > base) {
        /* drop the last segment */
        while (o > base && out[o - 1] == '/')
          o--;
        while (o > base && out[o - 1] != '/')
          o--;
      } else if (!abs) {
        memcpy(out + o, "../", 3);
        o += 3;
        base = o;
      }
    } else {
      memcpy(out + o, s, n);
      o += n;
      out[o++] = '/';
    }
    s = e;
  }
  while (o > 1 && out[o - 1] == '/')
    o--;
  out[o] = 0;
  free(buf);
  return out;
}

static bool is_file(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool has_suffix(const char *s, const char *suf)
{
  size_t n = strlen(s), m = strlen(suf);
  return n >= m && strcmp(s + n - m, suf) == 0;
}

/* Finds the file a local specifier names: TypeScript's rules in short.
 * Returns a malloc'd display path or NULL. */
static char *resolve_spec(const char *base)
{
  static const char *const exts[] = {".ts", ".tsx", ".mts", ".js", ".mjs", ".jsx"};
  static const char *const idx[] = {"/index.ts", "/index.tsx", "/index.mts", "/index.js"};
  size_t n = strlen(base);
  char *buf = malloc(n + 16);
  if (!buf)
    return NULL;
  /* ./y.js names ./y.ts in TypeScript sources */
  static const struct {
    const char *from, *to[2];
  } swaps[] = {
    {".js", {".ts", ".tsx"}}, {".jsx", {".tsx", NULL}}, {".mjs", {".mts", NULL}}, {".cjs", {".cts", NULL}},
  };
  for (size_t k = 0; k < sizeof swaps / sizeof swaps[0]; k++) {
    if (!has_suffix(base, swaps[k].from))
      continue;
    size_t stem = n - strlen(swaps[k].from);
    for (int j = 0; j < 2 && swaps[k].to[j]; j++) {
      memcpy(buf, base, stem);
      strcpy(buf + stem, swaps[k].to[j]);
      if (is_file(buf))
        return buf;
    }
  }
  if (is_file(base)) {
    strcpy(buf, base);
    return buf;
  }
  for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++) {
    memcpy(buf, base, n);
    strcpy(buf + n, exts[k]);
    if (is_file(buf))
      return buf;
  }
  for (size_t k = 0; k < sizeof idx / sizeof idx[0]; k++) {
    memcpy(buf, base, n);
    strcpy(buf + n, idx[k]);
    if (is_file(buf))
      return buf;
  }
  free(buf);
  return NULL;
}

static bool is_local_spec(const char *s, size_t n)
{
  return (n >= 2 && s[0] == '.' && s[1] == '/') || (n >= 3 && memcmp(s, "../", 3) == 0) ||
         (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.') || (n >= 1 && s[0] == '/');
}

/* The module a specifier token in @m names; NULL for packages (not
 * followed) and on errors (reported). */
static kg_module *module_for(kg_project *p, const kg_module *m, kg_span spec_tok)
{
  const char *s = m->file->data + spec_tok.off + 1;
  size_t n = spec_tok.len >= 2 ? spec_tok.len - 2 : 0;
  if (!is_local_spec(s, n) || p->no_follow)
    return NULL;
  if (memchr(s, '\\', n) || memchr(s, 0, n)) {
    kg_diag(&p->diags, KG_ERROR, m->file, spec_tok.off, "cannot resolve module '%.*s'",
            (int)n, s);
    return NULL;
  }
  char *base = join_path(m->file->path, s, n);
  if (!base)
    return NULL;
  char *path = resolve_spec(base);
  if (!path) {
    kg_diag(&p->diags, KG_ERROR, m->file, spec_tok.off,
            "cannot resolve module '%.*s' (tried %s with .ts, .tsx, .mts, .js and index files)",
            (int)n, s, base);
    free(base);
    return NULL;
  }
  free(base);
  int err = 0;
  kg_module *t = load_module(p, path, &err);
  if (!t)
    kg_diag(&p->diags, KG_ERROR, m->file, spec_tok.off, "cannot read '%s': %s", path,
            strerror(-err));
  free(path);
  return t;
}

/* ---- export tables ----------------------------------------------------------------- */

typedef struct kg_binding binding;

static uint32_t hname(const char *s, size_t n)
{
  uint32_t h = 2166136261u;
  for (size_t k = 0; k < n; k++)
    h = (h ^ (unsigned char)s[k]) * 16777619u;
  return h;
}

/* Type-only bindings are marked with export_len == UINT32_MAX. */
static bool b_is_type(const binding *b)
{
  return b->export_len == UINT32_MAX;
}

/* The non-type binding @name in @m's table, through the index. */
static binding *ix_find(const kg_module *m, const char *name, size_t len)
{
  if (!m->tixcap)
    return NULL;
  size_t mask = m->tixcap - 1;
  for (size_t h = hname(name, len) & mask;; h = (h + 1) & mask) {
    uint32_t v = m->tix[h];
    if (!v)
      return NULL;
    binding *b = &m->table[v - 1];
    if (b->name_len == len && memcmp(b->name, name, len) == 0)
      return b;
  }
}

/* The binding @name in @m's table; type-only ones too if @types. */
static binding *tbl_find(const kg_module *m, const char *name, size_t len, bool types)
{
  binding *b = ix_find(m, name, len);
  if (b || !types)
    return b;
  for (size_t k = 0; k < m->ntable; k++) {
    b = &m->table[k];
    if (b_is_type(b) && b->name_len == len && memcmp(b->name, name, len) == 0)
      return b;
  }
  return NULL;
}

/* (Re)builds the index over the whole table. */
static int ix_rebuild(kg_module *m)
{
  size_t cap = 64;
  while (cap < m->ntable * 2 + 2)
    cap *= 2;
  uint32_t *s = calloc(cap, sizeof *s);
  if (!s)
    return -ENOMEM;
  free(m->tix);
  m->tix = s;
  m->tixcap = cap;
  for (size_t k = 0; k < m->ntable; k++) {
    binding *b = &m->table[k];
    if (b_is_type(b))
      continue;
    for (size_t h = hname(b->name, b->name_len) & (cap - 1);; h = (h + 1) & (cap - 1))
      if (!s[h]) {
        s[h] = (uint32_t)k + 1;
        break;
      }
  }
  return 0;
}

/* Indexes the last binding of the table. */
static int ix_put(kg_module *m)
{
  size_t idx = m->ntable - 1;
  if ((idx + 1) * 2 > m->tixcap)
    return ix_rebuild(m);
  binding *b = &m->table[idx];
  if (b_is_type(b))
    return 0;
  for (size_t h = hname(b->name, b->name_len) & (m->tixcap - 1);; h = (h + 1) & (m->tixcap - 1))
    if (!m->tix[h]) {
      m->tix[h] = (uint32_t)idx + 1;
      return 0;
    }
}

static binding *tbl_add(kg_module *m, const binding *b)
{
  if (m->ntable == m->captable) {
    size_t cap = m->captable ? m->captable * 2 : 32;
    binding *v = realloc(m->table, cap * sizeof *v);
    if (!v)
      return NULL;
    m->table = v;
    m->captable = cap;
  }
  m->table[m->ntable] = *b;
  return &m->table[m->ntable++];
}

static void resolve_module(kg_project *p, kg_module *m);

/* The binding an import declaration in @m stands for. */
static binding import_binding(kg_project *p, kg_module *m, const kg_decl *d)
{
  binding b = {0};
  if (d->import_kind != KG_IMPORT_NAMED || d->type_only)
    return b;
  kg_module *t = module_for(p, m, d->spec);
  if (!t)
    return b;
  resolve_module(p, t);
  const char *nm = m->file->data + d->import_name.off;
  binding *tb = tbl_find(t, nm, d->import_name.len, false);
  if (tb)
    b = *tb;
  else if (t->state == ST_DONE)
    kg_diag(&p->diags, KG_ERROR, m->file, d->import_name.off, "module '%.*s' has no export '%.*s'",
            (int)d->spec.len - 2, m->file->data + d->spec.off + 1, (int)d->import_name.len, nm);
  return b;
}

static int cmp_order(const void *a, const void *b)
{
  const binding *x = a, *y = b;
  if (x->order != y->order)
    return x->order < y->order ? -1 : 1;
  return 0; /* ties (one export *) are broken by sequence in cmp_seq */
}

typedef struct seqb {
  binding b;
  size_t seq;
} seqb;

static int cmp_seq(const void *a, const void *b)
{
  const seqb *x = a, *y = b;
  int c = cmp_order(&x->b, &y->b);
  if (c)
    return c;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void sort_table(kg_module *m)
{
  if (m->ntable < 2)
    return;
  seqb *tmp = malloc(m->ntable * sizeof *tmp);
  if (!tmp)
    return;
  for (size_t k = 0; k < m->ntable; k++) {
    tmp[k].b = m->table[k];
    tmp[k].seq = k;
  }
  qsort(tmp, m->ntable, sizeof *tmp, cmp_seq);
  for (size_t k = 0; k < m->ntable; k++)
    m->table[k] = tmp[k].b;
  free(tmp);
}

static void resolve_module(kg_project *p, kg_module *m)
{
  if (m->state != ST_NEW)
    return; /* done, or on the stack (a cycle): use what is there */
  m->state = ST_BUSY;
  const kg_file *f = m->file;

  /* pass 1: explicit exports (LOCAL, FROM, STAR_AS) in source order */
  for (size_t k = 0; k < m->nexports; k++) {
    const kg_export *e = &m->exports[k];
    if (e->kind == KG_E_STAR)
      continue;
    binding b = {0};
    b.name = f->data + e->name.off;
    b.name_len = e->name.len;
    b.order = e->order;
    b.at_file = f;
    b.at_off = e->name.off;
    if (e->type_only) {
      b.export_len = UINT32_MAX;
      tbl_add(m, &b);
      continue;
    }
    if (e->kind == KG_E_LOCAL) {
      const kg_decl *d = kg_module_find(m, f->data + e->local.off, e->local.len, false);
      if (!d) {
        if (!kg_module_find(m, f->data + e->local.off, e->local.len, true))
          kg_diag(&p->diags, KG_WARNING, f, e->local.off,
                  "'%.*s' is exported but not declared in this module", (int)e->local.len,
                  f->data + e->local.off);
        b.export_len = UINT32_MAX; /* a type (or unknown): never a task */
        tbl_add(m, &b);
        continue;
      }
      if (d->kind == KG_D_IMPORT) {
        binding ib = import_binding(p, m, d);
        b.module = ib.module;
        b.decl = ib.decl;
        b.export_name = ib.export_name;
        b.export_len = ib.export_len;
      } else if (kg_decl_is_task(d)) {
        b.module = m;
        b.decl = d;
        b.export_name = b.name;
        b.export_len = b.name_len;
      }
    } else if (e->kind == KG_E_FROM) {
      kg_module *t = module_for(p, m, e->spec);
      if (t) {
        resolve_module(p, t);
        const char *nm = f->data + e->local.off;
        binding *tb = tbl_find(t, nm, e->local.len, true);
        if (tb) {
          if (b_is_type(tb)) {
            b.export_len = UINT32_MAX;
          } else {
            b.module = tb->module;
            b.decl = tb->decl;
            b.export_name = tb->export_name;
            b.export_len = tb->export_len;
          }
        } else if (t->state == ST_DONE) {
          kg_diag(&p->diags, KG_ERROR, f, e->local.off, "module '%.*s' has no export '%.*s'",
                  (int)e->spec.len - 2, f->data + e->spec.off + 1, (int)e->local.len, nm);
        } else {
          kg_diag(&p->diags, KG_ERROR, f, e->local.off,
                  "cannot resolve '%.*s': circular re-export through '%.*s'", (int)e->local.len,
                  nm, (int)e->spec.len - 2, f->data + e->spec.off + 1);
        }
      }
    }
    if (b_is_type(&b)) {
      tbl_add(m, &b);
      continue;
    }
    binding *old = ix_find(m, b.name, b.name_len);
    if (old) {
      kg_diag(&p->diags, KG_ERROR, f, b.at_off, "duplicate export '%.*s'", (int)b.name_len, b.name);
      kg_diag(&p->diags, KG_NOTE, old->at_file, old->at_off, "'%.*s' was first exported here",
              (int)b.name_len, b.name);
      continue;
    }
    if (!tbl_add(m, &b) || ix_put(m) < 0)
      break;
  }
  size_t explicit_n = m->ntable;

  /* pass 2: export * */
  for (size_t k = 0; k < m->nexports; k++) {
    const kg_export *e = &m->exports[k];
    if (e->kind != KG_E_STAR)
      continue;
    kg_module *t = module_for(p, m, e->spec);
    if (!t)
      continue;
    resolve_module(p, t);
    size_t n = t->ntable; /* t may be m itself */
    for (size_t j = 0; j < n; j++) {
      binding tb = t->table[j];
      if (b_is_type(&tb) || (tb.name_len == 7 && memcmp(tb.name, "default", 7) == 0))
        continue;
      binding *old = ix_find(m, tb.name, tb.name_len);
      if (old) {
        if ((size_t)(old - m->table) < explicit_n)
          continue; /* an explicit export shadows export * */
        if ((old->module == tb.module && old->decl == tb.decl) || old->ambiguous)
          continue; /* the same binding reached twice, or already reported */
        old->ambiguous = true;
        kg_diag(&p->diags, KG_ERROR, f, e->spec.off,
                "duplicate export '%.*s': also exported by an earlier 'export *'",
                (int)tb.name_len, tb.name);
        kg_diag(&p->diags, KG_NOTE, old->at_file, old->at_off, "'%.*s' was first exported here",
                (int)tb.name_len, tb.name);
        continue;
      }
      tb.order = e->order;
      tb.at_file = f;
      tb.at_off = e->spec.off;
      if (!tbl_add(m, &tb) || ix_put(m) < 0)
        break;
    }
  }
  sort_table(m);
  ix_rebuild(m); /* sorting moved the bindings */
  m->state = ST_DONE;
}

/* ---- tasks ------------------------------------------------------------------------ */

/* Normalised type text of @s, or @dflt when absent. */
static char *type_text(const kg_file *f, kg_span s, const char *dflt)
{
  if (!s.len)
    return strdup(dflt);
  int n = knit_type_normalize(f->data + s.off, s.len, NULL, 0);
  if (n < 0)
    return strdup(dflt);
  char *r = malloc((size_t)n + 1);
  if (r)
    knit_type_normalize(f->data + s.off, s.len, r, (size_t)n + 1);
  if (r && !*r) {
    free(r);
    return strdup(dflt);
  }
  return r;
}

/* Does @t admit undefined already (`A | undefined`, `unknown`, `any`)? */
static bool admits_undefined(const knit_type *t)
{
  if (t->kind == KNIT_TYPE_VOID || t->kind == KNIT_TYPE_UNKNOWN)
    return true;
  if (t->kind == KNIT_TYPE_UNION)
    for (size_t k = 0; k < t->n_items; k++)
      if (admits_undefined(t->items[k]))
        return true;
  return false;
}

/* The argument text of an optional or defaulted first parameter: @text
 * (normalised from @s) or'ed with undefined, which the call may then leave
 * out, so the codec must accept it. Takes @text. */
static char *optional_text(const kg_file *f, kg_span s, char *text)
{
  knit_type *t = NULL;
  if (!text || !s.len || knit_type_parse(f->data + s.off, s.len, &t, NULL) < 0)
    return text; /* "unknown" already admits it */
  bool done = admits_undefined(t);
  /* `() => A | undefined` would read as a function type */
  bool paren = t->kind == KNIT_TYPE_FUNCTION || t->kind == KNIT_TYPE_OPAQUE;
  knit_type_destroy(t);
  char *r = NULL;
  if (done || asprintf(&r, paren ? "(%s) | undefined" : "%s | undefined", text) < 0)
    return text;
  free(text);
  return r;
}

/* The value of a numeric literal token (separators, 0x/0o/0b, exponents),
 * or of `-` and one (the parser's span of both may hold blanks); false for a
 * bigint or anything it cannot read. */
static bool number_literal(const kg_file *f, kg_span s, double *out)
{
  char buf[64];
  size_t n = 0;
  bool neg = s.len && f->data[s.off] == '-';
  for (uint32_t k = neg; k < s.len; k++) {
    char c = f->data[s.off + k];
    if (c == '_' || c == ' ' || c == '\t' || c == '\n' || c == '\r')
      continue;
    if (n + 1 >= sizeof buf || c == 'n')
      return false;
    buf[n++] = c;
  }
  buf[n] = 0;
  char *end;
  int base = n > 2 && buf[0] == '0' ? (buf[1] | 32) == 'b' ? 2 : (buf[1] | 32) == 'o' ? 8 : 0 : 0;
  *out = base ? (double)strtoull(buf + 2, &end, base) : strtod(buf, &end);
  if (neg)
    *out = -*out;
  return n && *end == 0;
}

/* A string literal token (with quotes), decoded into UTF-8. */
static char *decode_string(const kg_file *f, kg_span s)
{
  if (s.len < 2)
    return NULL;
  char *out = malloc(s.len);
  if (out)
    kg_unescape(f->data + s.off + 1, s.len - 2, out);
  return out;
}

/* ---- type checks ------------------------------------------------------------------- */

typedef struct rctx {
  const kg_module *m;
  const kg_decl *task;
  struct {
    const kg_decl *d;
    knit_type *t;
  } cache[32];
  int n;
} rctx;

/* Is @name one of the type parameters in span @tp (`T, U extends X = Y`)? */
static bool in_tparams(const kg_file *f, kg_span tp, const char *name, size_t len)
{
  const char *s = f->data + tp.off, *e = s + tp.len;
  int depth = 0;
  bool expect_name = true;
  while (s < e) {
    char c = *s;
    if (c == '<' || c == '(' || c == '[' || c == '{') {
      depth++;
      s++;
    } else if (c == '>' || c == ')' || c == ']' || c == '}') {
      depth--;
      s++;
    } else if (c == ',' && depth == 0) {
      expect_name = true;
      s++;
    } else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' ||
               (unsigned char)c >= 0x80) {
      const char *w = s;
      while (s < e && ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
                       *s == '$' || (*s >= '0' && *s <= '9') || (unsigned char)*s >= 0x80))
        s++;
      if (depth == 0 && expect_name) {
        size_t wl = (size_t)(s - w);
        if (!(wl == 5 && memcmp(w, "const", 5) == 0) && !(wl == 2 && memcmp(w, "in", 2) == 0) &&
            !(wl == 3 && memcmp(w, "out", 3) == 0)) {
          if (wl == len && memcmp(w, name, len) == 0)
            return true;
          expect_name = false;
        }
      }
    } else {
      s++;
    }
  }
  return false;
}

static knit_ref resolve_name(void *ctx, const char *name, size_t len, const knit_type **out)
{
  rctx *r = ctx;
  const kg_file *f = r->m->file;
  const char *dot = memchr(name, '.', len);
  if (r->task && r->task->tparams.len && !dot && in_tparams(f, r->task->tparams, name, len))
    return KNIT_REF_PARAM;
  size_t first = dot ? (size_t)(dot - name) : len;
  const kg_decl *d = kg_module_find(r->m, name, first, true);
  if (!d)
    return KNIT_REF_UNKNOWN;
  if (dot)
    return d->kind == KG_D_IMPORT || d->kind == KG_D_NAMESPACE || d->kind == KG_D_ENUM
             ? KNIT_REF_OPAQUE : KNIT_REF_UNKNOWN;
  switch (d->kind) {
  case KG_D_CLASS:
    return KNIT_REF_CLASS;
  case KG_D_TYPE:
  case KG_D_INTERFACE:
    if (d->generic || !d->body.len)
      return KNIT_REF_OPAQUE;
    for (int k = 0; k < r->n; k++)
      if (r->cache[k].d == d) {
        *out = r->cache[k].t;
        return r->cache[k].t ? KNIT_REF_ALIAS : KNIT_REF_OPAQUE;
      }
    if (r->n == (int)(sizeof r->cache / sizeof r->cache[0]))
      return KNIT_REF_OPAQUE;
    knit_type *t = NULL;
    if (knit_type_parse(f->data + d->body.off, d->body.len, &t, NULL) < 0)
      t = NULL;
    r->cache[r->n].d = d;
    r->cache[r->n].t = t;
    r->n++;
    *out = t;
    return t ? KNIT_REF_ALIAS : KNIT_REF_OPAQUE;
  default:
    return KNIT_REF_OPAQUE; /* imports, enums, namespaces */
  }
}

/* Follows top-level aliases so `type N = number` still gets the f64 codec. */
static knit_codec codec_of(rctx *r, const knit_type *t)
{
  for (int hop = 0; t && t->kind == KNIT_TYPE_NAME && t->n_items == 0 && hop < 8; hop++) {
    const knit_type *to = NULL;
    if (resolve_name(r, t->name, t->name_len, &to) != KNIT_REF_ALIAS || !to)
      break;
    t = to;
  }
  return knit_type_codec(t);
}

static void check_type(kg_project *p, kg_task *task, const kg_decl *d, bool result,
                       rctx *r)
{
  const kg_file *f = task->module->file;
  kg_span s = result ? d->result : d->arg;
  bool in_str = result ? d->result_in_string : d->arg_in_string;
  if (!s.len || (!result && d->arg_void))
    return;
  const char *what = result ? "result" : "argument";
  knit_type *t = NULL;
  knit_type_error te;
  int rc = knit_type_parse(f->data + s.off, s.len, &t, &te);
  if (rc < 0) {
    if (rc == -EINVAL)
      kg_diag(&p->diags, in_str ? KG_ERROR : KG_WARNING, f, s.off + (in_str ? 0 : te.offset),
              "cannot parse the %s type of task '%s': %s%s", what, task->name, te.message,
              in_str ? "" : "; it travels with the generic codec");
    return;
  }
  const knit_type *where = NULL;
  char why[320];
  int ok = knit_type_carryable(t, result ? KNIT_CARRY_RESULT : 0, resolve_name, r, &where, why,
                               sizeof why);
  if (ok == 0) {
    size_t off = s.off;
    if (!in_str && where && (uintptr_t)where->text >= (uintptr_t)t->text &&
        (uintptr_t)where->text <= (uintptr_t)t->text + t->len)
      off = s.off + where->offset;
    kg_diag(&p->diags, KG_ERROR, f, off, "task '%s' cannot carry its %s type: %s", task->name,
            what, why);
  }
  knit_codec c = codec_of(r, t);
  if (result)
    task->result_codec = c;
  else
    task->arg_codec = c;
  knit_type_destroy(t);
}

static const kg_token *token_at(const kg_file *f, uint32_t off)
{
  size_t lo = 0, hi = f->ntoks;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (f->toks[mid].off < off)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < f->ntoks ? &f->toks[lo] : NULL;
}

/* A task receives one argument, and a function's second parameter the
 * task's signal object: more parameters get a warning, a defaulted or
 * optional second one too, since its default never applies. */
static void params_warning(kg_project *p, const kg_task *t, const kg_decl *d)
{
  const kg_file *f = t->module->file;
  if (d->kind != KG_D_FUNCTION)
    return;
  if (d->params > 1)
    kg_diag(&p->diags, KG_WARNING, f, d->name.off,
            "task '%s' declares %u required parameters; a task receives one argument "
            "(pass a tuple or an object)", t->name, d->params);
  else if (d->declared > 1)
    kg_diag(&p->diags, KG_WARNING, f, d->name.off,
            "task '%s' declares %u parameters; a task receives one argument, and the "
            "second parameter gets the task's signal object at run time, never its "
            "default (pass a tuple or an object)", t->name, d->declared);
}

static int add_task(kg_project *p, const kg_module *root, const binding *b)
{
  const kg_decl *d = b->decl;
  const kg_file *f = b->module->file;
  /* unique across roots */
  if ((p->ntasks + 1) * 2 > p->task_ixcap) {
    size_t cap = p->task_ixcap ? p->task_ixcap * 2 : 64;
    uint32_t *ix = calloc(cap, sizeof *ix);
    if (!ix)
      return -ENOMEM;
    for (size_t k = 0; k < p->ntasks; k++)
      for (size_t h = hname(p->tasks[k].name, strlen(p->tasks[k].name)) & (cap - 1);; h = (h + 1) & (cap - 1))
        if (!ix[h]) {
          ix[h] = (uint32_t)k + 1;
          break;
        }
    free(p->task_ix);
    p->task_ix = ix;
    p->task_ixcap = cap;
  }
  size_t slot = hname(b->name, b->name_len) & (p->task_ixcap - 1);
  for (;; slot = (slot + 1) & (p->task_ixcap - 1)) {
    if (!p->task_ix[slot])
      break;
    kg_task *o = &p->tasks[p->task_ix[slot] - 1];
    if (strlen(o->name) == b->name_len && memcmp(o->name, b->name, b->name_len) == 0) {
      if (o->module == b->module && strlen(o->export_name) == b->export_len &&
          memcmp(o->export_name, b->export_name, b->export_len) == 0)
        return 0; /* the same task reached from two roots */
      kg_diag(&p->diags, KG_ERROR, b->at_file, b->at_off,
              "duplicate task name '%.*s' (also exported by %s)", (int)b->name_len, b->name,
              o->root->file->path);
      return 0;
    }
  }
  if (p->ntasks == p->captasks) {
    size_t cap = p->captasks ? p->captasks * 2 : 16;
    kg_task *v = realloc(p->tasks, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    p->tasks = v;
    p->captasks = cap;
  }
  p->task_ix[slot] = (uint32_t)p->ntasks + 1;
  kg_task *t = &p->tasks[p->ntasks++];
  memset(t, 0, sizeof *t);
  t->name = malloc(b->name_len + 1);
  if (t->name) {
    memcpy(t->name, b->name, b->name_len);
    t->name[b->name_len] = 0;
  }
  t->export_name = malloc(b->export_len + 1);
  if (t->export_name) {
    memcpy(t->export_name, b->export_name, b->export_len);
    t->export_name[b->export_len] = 0;
  }
  t->kind = d->kind == KG_D_TASK ? KG_K_TASK
            : d->kind == KG_D_FUNCTION ? KG_K_FUNCTION
            : d->kind == KG_D_IMPORT_TASK ? KG_K_IMPORT
                                          : KG_K_NATIVE;
  t->module = b->module;
  t->root = root;
  t->arg = d->arg_void ? strdup("void") : type_text(f, d->arg, "unknown");
  t->arg_optional = d->arg_optional;
  if (d->arg_optional)
    t->arg = optional_text(f, d->arg, t->arg);
  t->result = type_text(f, d->result, "unknown");
  t->arg_in_string = d->arg_in_string;
  t->result_in_string = d->result_in_string;
  const kg_token *nt = token_at(f, (uint32_t)kg_file_src(f, d->name.off));
  t->line = nt ? nt->line : kg_file_line(f, d->name.off);
  t->col = kg_file_col(f, d->name.off);
  t->options = d->options;
  if (d->href.len)
    t->href = decode_string(f, d->href);
  if (d->import_name.len && d->kind == KG_D_IMPORT_TASK)
    t->import_name = decode_string(f, d->import_name);
  if (d->symbol.len)
    t->symbol = decode_string(f, d->symbol);
  if (d->library.len)
    t->library = decode_string(f, d->library);
  if (!t->name || !t->export_name || !t->arg || !t->result)
    return -ENOMEM;
  t->arg_codec = t->result_codec = KNIT_CODEC_ANY;
  params_warning(p, t, d);
  if ((d->kind == KG_D_FUNCTION || d->kind == KG_D_TASK) && d->generator)
    kg_diag(&p->diags, KG_ERROR, f, d->name.off,
            "task '%s' is %s generator function: a generator object cannot be sent back "
            "(return an array instead)", t->name, d->async ? "an async" : "a");
  if (d->kind == KG_D_NATIVE && (!d->symbol.len || !d->library.len))
    kg_diag(&p->diags, KG_ERROR, f, d->name.off,
            "native task '%s' needs string literals for 'symbol' and 'library'", t->name);
  if (d->kind == KG_D_NATIVE && (d->options & KG_OPT_TIMEOUT)) {
    /* The host of a table never imports the module: only a literal travels. */
    double ms = 0;
    if (!d->timeout.len || !number_literal(f, d->timeout, &ms))
      kg_diag(&p->diags, KG_WARNING, f, d->timeout.len ? d->timeout.off : d->name.off,
              "native task '%s': a knitgen table carries a timeout only as a number literal "
              "of ms; calls through the table get none", t->name);
    else if (!(ms >= 0 && ms < 2147483648.0))
      kg_diag(&p->diags, KG_ERROR, f, d->timeout.off,
              "native task '%s': timeout must be a number of ms from 0 to 2^31", t->name);
    else
      t->has_timeout = true, t->timeout_ms = ms;
  }
  if (d->kind == KG_D_IMPORT_TASK && !d->href.len)
    kg_diag(&p->diags, KG_WARNING, f, d->name.off,
            "import task '%s' has no string literal 'href'; workers cannot import it statically",
            t->name);
  rctx r = {.m = b->module, .task = d};
  check_type(p, t, d, false, &r);
  if (d->arg_optional)
    t->arg_codec = KNIT_CODEC_ANY; /* the argument may be undefined */
  check_type(p, t, d, true, &r);
  for (int k = 0; k < r.n; k++)
    knit_type_destroy(r.cache[k].t);
  return 0;
}

unsigned kg_project_resolve(kg_project *p)
{
  for (size_t k = 0; k < p->nroots; k++) {
    kg_module *root = p->roots[k];
    resolve_module(p, root);
    for (size_t j = 0; j < root->ntable; j++) {
      const binding *b = &root->table[j];
      if (!b->module || !b->decl || !kg_decl_is_task(b->decl))
        continue;
      if (add_task(p, root, b) < 0) {
        kg_diag_path(&p->diags, KG_ERROR, NULL, "out of memory");
        return p->diags.errors;
      }
    }
  }
  return p->diags.errors;
}

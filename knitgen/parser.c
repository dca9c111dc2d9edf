/* parser.c: the top-level scan of one TypeScript module.
 *
 * Not a TypeScript parser: it walks the top-level statements, reads the
 * headers of the declarations and exports it cares about (task(...),
 * functions, importTask, nativeTask, export lists, re-exports, imports,
 * types), and steps over everything else with balanced-bracket skipping.
 * The lexer already put comments, strings, templates, regexes and JSX into
 * single tokens, so nothing inside them can look like an export.
 */
#include "kg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct ps {
  kg_file *f;
  kg_module *m;
  kg_diags *d;
  const kg_token *t;
  size_t n; /* tokens, the last one is EOF */
  size_t i;
  int err;
  unsigned parens; /* nested parse_paren_init calls */
} ps;

/* ---- token helpers ---------------------------------------------------------------- */

static const kg_token *at(const ps *p, size_t k)
{
  size_t j = p->i + k;
  return &p->t[j < p->n ? j : p->n - 1];
}

static const kg_token *cur(const ps *p)
{
  return at(p, 0);
}

static bool eof(const ps *p)
{
  return cur(p)->kind == KG_T_EOF;
}

static bool isp(const kg_token *t, int c)
{
  return t->kind == KG_T_PUNCT && t->punct == c;
}

static bool isw(const ps *p, const kg_token *t, const char *w)
{
  return kg_tok_is(p->f, t, w);
}

static void adv(ps *p)
{
  if (p->i + 1 < p->n)
    p->i++;
}

static bool opener(const kg_token *t)
{
  return (t->kind == KG_T_PUNCT && (t->punct == '(' || t->punct == '[' || t->punct == '{')) ||
         t->kind == KG_T_TPL_HEAD;
}

static bool closer(const kg_token *t)
{
  return (t->kind == KG_T_PUNCT && (t->punct == ')' || t->punct == ']' || t->punct == '}')) ||
         t->kind == KG_T_TPL_TAIL;
}

/* Steps over one token, or a whole bracketed group when at an opener. */
static void skip_one(ps *p)
{
  if (!opener(cur(p))) {
    adv(p);
    return;
  }
  int depth = 0;
  while (!eof(p)) {
    const kg_token *t = cur(p);
    if (opener(t))
      depth++;
    else if (closer(t))
      depth--;
    adv(p);
    if (depth <= 0)
      return;
  }
}

static kg_span span(const ps *p, size_t from, size_t to /* exclusive token index */)
{
  kg_span s = {0, 0};
  if (to <= from || from >= p->n)
    return s;
  const kg_token *a = &p->t[from], *b = &p->t[to - 1];
  s.off = a->off;
  s.len = b->off + b->len - a->off;
  return s;
}

static kg_span tok_span(const kg_token *t)
{
  kg_span s = {t->off, t->len};
  return s;
}

static bool span_is(const ps *p, kg_span s, const char *w)
{
  size_t n = strlen(w);
  return s.len == n && memcmp(p->f->data + s.off, w, n) == 0;
}

/* Keywords that start a statement: ASI ends an expression before them when
 * they begin a new line. */
static bool stmt_keyword(const ps *p, const kg_token *t)
{
  static const char *const kw[] = {"export", "import", "const", "let", "var", "function",
                                   "class", "interface", "type", "enum", "declare",
                                   "namespace", "abstract", "async"};
  if (t->kind != KG_T_IDENT)
    return false;
  for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
    if (isw(p, t, kw[k]))
      return true;
  return false;
}

/* Can token @t end an expression (so a line break after it may end it)? */
static bool ends_expr(const kg_token *t)
{
  switch (t->kind) {
  case KG_T_IDENT:
  case KG_T_PRIVATE:
  case KG_T_STRING:
  case KG_T_NUMBER:
  case KG_T_BIGINT:
  case KG_T_TEMPLATE:
  case KG_T_TPL_TAIL:
  case KG_T_REGEX:
  case KG_T_JSX:
    return true;
  case KG_T_PUNCT:
    return t->punct == ')' || t->punct == ']' || t->punct == '}' || t->punct == KG_P_INCDEC;
  default:
    return false;
  }
}

/* Skips an expression up to (not including) a ',' or ';' at depth 0, an
 * unmatched closer, or a statement keyword that starts a new line after a
 * token that ends an expression (which may precede the start: the
 * initializer `(f)` ends before `\nexport`). */
static void skip_expr(ps *p)
{
  while (!eof(p)) {
    const kg_token *t = cur(p);
    if (isp(t, ',') || isp(t, ';') || closer(t))
      return;
    if (p->i > 0 && (t->flags & KG_TF_NL) && stmt_keyword(p, t) && ends_expr(&p->t[p->i - 1]))
      return;
    skip_one(p);
  }
}

/* Scans a type from the current token. Stops at depth 0 before any of the
 * single-character punctuators in @stops, or before `=>` if @stop_arrow,
 * or at a statement boundary. `<`/`>` count as brackets (types have no
 * comparisons). A `{` where a type cannot start ends the type when
 * @brace_ends (the body of a function). Returns the span. */
static kg_span scan_type(ps *p, const char *stops, bool stop_arrow, bool brace_ends)
{
  size_t start = p->i;
  int depth = 0;
  while (!eof(p)) {
    const kg_token *t = cur(p);
    if (depth == 0) {
      if (t->kind == KG_T_PUNCT && t->punct < 128 && strchr(stops, t->punct))
        break;
      if (stop_arrow && isp(t, KG_P_ARROW))
        break;
      if (closer(t) || (isp(t, '>') && depth == 0))
        break;
      if (p->i > start && (t->flags & KG_TF_NL) && stmt_keyword(p, t) &&
          ends_expr(&p->t[p->i - 1]) && !isw(p, &p->t[p->i - 1], "extends"))
        break;
      if (brace_ends && isp(t, '{') && p->i > start) {
        const kg_token *pv = &p->t[p->i - 1];
        bool type_pos = (pv->kind == KG_T_PUNCT &&
                         (pv->punct == '|' || pv->punct == '&' || pv->punct == KG_P_ARROW ||
                          pv->punct == '?' || pv->punct == ':' || pv->punct == ',')) ||
                        isw(p, pv, "keyof") || isw(p, pv, "readonly") || isw(p, pv, "is") ||
                        isw(p, pv, "extends");
        if (!type_pos)
          break;
      }
    }
    if (opener(t) || isp(t, '<'))
      depth++;
    else if (closer(t) || isp(t, '>'))
      depth--;
    adv(p);
    if (depth < 0)
      break;
  }
  return span(p, start, p->i);
}

/* A generic function's type parameters, `<T, U extends V>`, if present. */
static kg_span scan_tparams(ps *p)
{
  if (!isp(cur(p), '<'))
    return (kg_span){0};
  adv(p);
  kg_span tp = scan_type(p, "", false, false);
  if (isp(cur(p), '>'))
    adv(p);
  return tp;
}

/* ---- declarations ---------------------------------------------------------------- */

static uint32_t hash_name(const char *s, size_t n)
{
  uint32_t h = 2166136261u;
  for (size_t k = 0; k < n; k++)
    h = (h ^ (unsigned char)s[k]) * 16777619u;
  return h;
}

static int rehash(kg_module *m, size_t nhash)
{
  uint32_t *hb = calloc(nhash, sizeof *hb);
  if (!hb)
    return -ENOMEM;
  free(m->hash);
  m->hash = hb;
  m->nhash = nhash;
  for (size_t k = 0; k < m->ndecls; k++) {
    kg_decl *d = &m->decls[k];
    uint32_t b = hash_name(m->file->data + d->name.off, d->name.len) & (uint32_t)(nhash - 1);
    d->next = hb[b];
    hb[b] = (uint32_t)k + 1;
  }
  return 0;
}

static kg_decl *add_decl(ps *p, kg_decl_kind kind, kg_span name)
{
  kg_module *m = p->m;
  if (m->ndecls == m->capdecls) {
    size_t cap = m->capdecls ? m->capdecls * 2 : 64;
    kg_decl *v = realloc(m->decls, cap * sizeof *v);
    if (!v) {
      p->err = -ENOMEM;
      return NULL;
    }
    m->decls = v;
    m->capdecls = cap;
  }
  if (m->ndecls + 1 > m->nhash / 2 && rehash(m, m->nhash ? m->nhash * 2 : 128) < 0) {
    p->err = -ENOMEM;
    return NULL;
  }
  kg_decl *d = &m->decls[m->ndecls];
  memset(d, 0, sizeof *d);
  d->kind = kind;
  d->name = name;
  uint32_t b = hash_name(p->f->data + name.off, name.len) & (uint32_t)(m->nhash - 1);
  d->next = m->hash[b];
  m->hash[b] = (uint32_t)m->ndecls + 1;
  m->ndecls++;
  return d;
}

static bool is_value_kind(kg_decl_kind k)
{
  return k != KG_D_TYPE && k != KG_D_INTERFACE;
}

static bool is_type_kind(kg_decl_kind k)
{
  return k == KG_D_TYPE || k == KG_D_INTERFACE || k == KG_D_CLASS || k == KG_D_ENUM ||
         k == KG_D_IMPORT || k == KG_D_NAMESPACE;
}

const kg_decl *kg_module_find(const kg_module *m, const char *name, size_t len, bool types)
{
  if (!m->nhash)
    return NULL;
  uint32_t b = hash_name(name, len) & (uint32_t)(m->nhash - 1);
  for (uint32_t k = m->hash[b]; k; k = m->decls[k - 1].next) {
    const kg_decl *d = &m->decls[k - 1];
    if (d->name.len == len && memcmp(m->file->data + d->name.off, name, len) == 0 &&
        (types ? is_type_kind(d->kind) : is_value_kind(d->kind)))
      return d;
  }
  return NULL;
}

bool kg_decl_is_task(const kg_decl *d)
{
  return d && (d->kind == KG_D_TASK || d->kind == KG_D_FUNCTION || d->kind == KG_D_IMPORT_TASK ||
                d->kind == KG_D_NATIVE);
}

static void add_export(ps *p, kg_export_kind kind, kg_span name, kg_span local, kg_span spec,
                       bool type_only, uint32_t order)
{
  kg_module *m = p->m;
  if (m->nexports == m->capexports) {
    size_t cap = m->capexports ? m->capexports * 2 : 32;
    kg_export *v = realloc(m->exports, cap * sizeof *v);
    if (!v) {
      p->err = -ENOMEM;
      return;
    }
    m->exports = v;
    m->capexports = cap;
  }
  kg_export *e = &m->exports[m->nexports++];
  e->kind = kind;
  e->name = name;
  e->local = local;
  e->spec = spec;
  e->type_only = type_only;
  e->order = order;
}

static void export_decl(ps *p, const kg_decl *d, bool exported, uint32_t order)
{
  if (d && exported) {
    kg_span none = {0, 0};
    add_export(p, KG_E_LOCAL, d->name, d->name, none,
               d->kind == KG_D_TYPE || d->kind == KG_D_INTERFACE, order);
  }
}

/* ---- functions ------------------------------------------------------------------- */

typedef struct fn_info {
  kg_span arg, result, tparams;
  bool arg_void, async, generator, ok;
  bool optional; /* the first parameter is optional or has a default */
  unsigned params, required;
} fn_info;

/* Unwraps `Promise<T>` / `PromiseLike<T>` to T when the span is exactly that. */
static kg_span unwrap_promise(const ps *p, kg_span s)
{
  const char *txt = p->f->data + s.off;
  for (int k = 0; k < 2; k++) {
    const char *w = k ? "PromiseLike" : "Promise";
    size_t n = strlen(w);
    if (s.len > n + 2 && memcmp(txt, w, n) == 0) {
      /* find the token that starts the span, check the `<...>` closes at its end */
      size_t lo = 0, hi = p->n;
      while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->t[mid].off < s.off)
          lo = mid + 1;
        else
          hi = mid;
      }
      size_t j = lo;
      if (j + 1 >= p->n || !isp(&p->t[j + 1], '<') || p->t[j].len != n)
        return s;
      int depth = 0;
      size_t end = s.off + s.len;
      for (size_t q = j + 1; q < p->n && p->t[q].off < end; q++) {
        if (isp(&p->t[q], '<') || opener(&p->t[q]))
          depth++;
        else if (isp(&p->t[q], '>') || closer(&p->t[q]))
          depth--;
        if (depth == 0) {
          if (p->t[q].off + p->t[q].len != end || q == j + 2)
            return s;
          kg_span in = span(p, j + 2, q);
          return in;
        }
      }
    }
  }
  return s;
}

/* Parameter list at '(' . */
static void parse_params(ps *p, fn_info *fi)
{
  adv(p); /* ( */
  while (!eof(p) && !isp(cur(p), ')')) {
    while (isp(cur(p), '@')) { /* decorators */
      adv(p);
      skip_one(p);
      while (isp(cur(p), '.')) {
        adv(p);
        skip_one(p);
      }
      if (isp(cur(p), '('))
        skip_one(p);
    }
    while (cur(p)->kind == KG_T_IDENT && (at(p, 1)->kind == KG_T_IDENT || isp(at(p, 1), '{') || isp(at(p, 1), '[')) &&
           (isw(p, cur(p), "public") || isw(p, cur(p), "private") || isw(p, cur(p), "protected") ||
            isw(p, cur(p), "readonly") || isw(p, cur(p), "override")))
      adv(p);
    bool is_this = isw(p, cur(p), "this") && (isp(at(p, 1), ':') || isp(at(p, 1), ',') || isp(at(p, 1), ')'));
    bool rest = false, optional = false, dflt = false;
    if (isp(cur(p), KG_P_ELLIPSIS)) {
      rest = true;
      adv(p);
    }
    if (cur(p)->kind == KG_T_IDENT || isp(cur(p), '{') || isp(cur(p), '['))
      skip_one(p);
    else
      break; /* not a parameter list we understand */
    if (isp(cur(p), '?')) {
      optional = true;
      adv(p);
    }
    kg_span type = {0, 0};
    if (isp(cur(p), ':')) {
      adv(p);
      type = scan_type(p, ",=)", false, false);
    }
    if (isp(cur(p), '=')) {
      dflt = true;
      adv(p);
      skip_expr(p);
    }
    if (!is_this) {
      if (fi->params == 0) {
        fi->arg = rest ? (kg_span){0, 0} : type;
        fi->optional = optional || dflt;
      }
      fi->params++;
      if (!optional && !dflt && !rest)
        fi->required++;
    }
    if (isp(cur(p), ','))
      adv(p);
    else
      break;
  }
  while (!eof(p) && !isp(cur(p), ')'))
    skip_one(p);
  if (isp(cur(p), ')'))
    adv(p);
  fi->arg_void = fi->params == 0;
}

/* At a function value: `async`? then `function*? name? <T>(...): R {`,
 * `<T>(...): R =>`, or `x =>`. Fills @fi (ok = recognised). Leaves the
 * cursor after the head (`=>` or before the body `{`). */
static void parse_fn_value(ps *p, fn_info *fi)
{
  memset(fi, 0, sizeof *fi);
  size_t save = p->i;
  if (isw(p, cur(p), "async") && !(at(p, 1)->flags & KG_TF_NL) &&
      (isw(p, at(p, 1), "function") || isp(at(p, 1), '(') || isp(at(p, 1), '<') ||
       (at(p, 1)->kind == KG_T_IDENT && isp(at(p, 2), KG_P_ARROW)))) {
    fi->async = true;
    adv(p);
  }
  if (isw(p, cur(p), "function")) {
    adv(p);
    bool generator = isp(cur(p), '*');
    if (generator)
      adv(p);
    if (cur(p)->kind == KG_T_IDENT)
      adv(p);
    kg_span tp = {0, 0};
    if (isp(cur(p), '<')) {
      adv(p);
      tp = scan_type(p, "", false, false);
      if (isp(cur(p), '>'))
        adv(p);
    }
    if (!isp(cur(p), '('))
      goto fail;
    parse_params(p, fi);
    fi->tparams = tp;
    fi->generator = generator;
    if (isp(cur(p), ':')) {
      adv(p);
      fi->result = scan_type(p, ";", false, true);
    }
    fi->ok = true;
    return;
  }
  if (cur(p)->kind == KG_T_IDENT && isp(at(p, 1), KG_P_ARROW)) {
    /* x => ... : one untyped parameter */
    fi->params = fi->required = 1;
    adv(p);
    adv(p);
    fi->ok = true;
    return;
  }
  kg_span tp = {0, 0};
  if (isp(cur(p), '<')) {
    adv(p);
    tp = scan_type(p, "", false, false);
    if (!isp(cur(p), '>'))
      goto fail;
    adv(p);
  }
  if (isp(cur(p), '(')) {
    /* an arrow only if `=>` follows the list (and the return type) */
    size_t s = p->i;
    skip_one(p);
    kg_span ret = {0, 0};
    if (isp(cur(p), ':')) {
      adv(p);
      ret = scan_type(p, ";,", true, false);
    }
    if (!isp(cur(p), KG_P_ARROW))
      goto fail;
    size_t after = p->i + 1;
    p->i = s;
    parse_params(p, fi);
    fi->tparams = tp;
    fi->result = ret;
    p->i = after;
    fi->ok = true;
    return;
  }
fail:
  p->i = save;
  memset(fi, 0, sizeof *fi);
}

static void apply_fn(ps *p, kg_decl *d, const fn_info *fi)
{
  d->arg = fi->arg;
  d->arg_void = fi->arg_void;
  d->result = fi->result.len ? unwrap_promise(p, fi->result) : fi->result;
  d->async = fi->async;
  d->generator = fi->generator;
  d->arg_optional = fi->optional;
  d->params = fi->required;
  d->declared = fi->params;
  d->tparams = fi->tparams;
}

/* ---- task(...), importTask(...), nativeTask(...) ---------------------------------- */

/* Type arguments at '<': fills up to two spans. */
static void parse_type_args(ps *p, kg_span out[2], unsigned *count)
{
  *count = 0;
  adv(p); /* < */
  while (!eof(p)) {
    kg_span s = scan_type(p, ",", false, false);
    if (*count < 2)
      out[*count] = s;
    (*count)++;
    if (isp(cur(p), ','))
      adv(p);
    else
      break;
  }
  if (isp(cur(p), '>'))
    adv(p);
}

/* The string content span of a string token (without the quotes). */
static kg_span str_inner(const kg_token *t)
{
  kg_span s = {t->off + 1, t->len >= 2 ? t->len - 2 : 0};
  return s;
}

/* The name identifier or string token @t spells. Escapes (`\u0062cd`,
 * `"q\"uote"`) are decoded into the file's name pool: the worker imports
 * the real name. */
static kg_span name_span(ps *p, const kg_token *t)
{
  kg_span raw = t->kind == KG_T_STRING ? str_inner(t) : tok_span(t);
  if (!raw.len || !memchr(p->f->data + raw.off, '\\', raw.len))
    return raw;
  uint32_t len = 0;
  int64_t off = kg_file_add_name(p->f, raw.off, p->f->data + raw.off, raw.len, &len);
  if (off < 0) {
    p->err = -ENOMEM;
    return raw;
  }
  return (kg_span){(uint32_t)off, len};
}

/* The options object of task/importTask/nativeTask, at '{'. */
static void parse_options(ps *p, kg_decl *d)
{
  adv(p); /* { */
  while (!eof(p) && !isp(cur(p), '}')) {
    if (isp(cur(p), KG_P_ELLIPSIS)) {
      adv(p);
      skip_expr(p);
    } else {
      bool async = false;
      if ((isw(p, cur(p), "async") || isw(p, cur(p), "get") || isw(p, cur(p), "set")) &&
          (at(p, 1)->kind == KG_T_IDENT || at(p, 1)->kind == KG_T_STRING || isp(at(p, 1), '[') ||
           isp(at(p, 1), '*'))) {
        async = isw(p, cur(p), "async");
        adv(p);
      }
      bool generator = isp(cur(p), '*');
      if (generator)
        adv(p);
      const kg_token *key = cur(p);
      if (key->kind == KG_T_IDENT || key->kind == KG_T_STRING || key->kind == KG_T_NUMBER) {
        adv(p);
      } else if (isp(key, '[')) {
        skip_one(p);
      } else {
        skip_expr(p);
        if (isp(cur(p), ','))
          adv(p);
        else if (!isp(cur(p), '}'))
          skip_one(p);
        continue;
      }
      kg_span k = key->kind == KG_T_STRING ? str_inner(key) : tok_span(key);
      if (isp(cur(p), '(') || isp(cur(p), '<')) {
        /* method shorthand: f(x: A): R { ... } */
        fn_info fi = {.tparams = scan_tparams(p)};
        kg_span tp = fi.tparams;
        if (isp(cur(p), '(')) {
          parse_params(p, &fi);
          fi.tparams = tp;
          if (isp(cur(p), ':')) {
            adv(p);
            fi.result = scan_type(p, ";", false, true);
          }
          fi.async = async;
          fi.generator = generator;
          if (span_is(p, k, "f") && d->kind == KG_D_TASK && !d->has_generics) {
            apply_fn(p, d, &fi);
          }
        }
        if (isp(cur(p), '{'))
          skip_one(p);
      } else if (isp(cur(p), ':')) {
        adv(p);
        const kg_token *v = cur(p);
        if (span_is(p, k, "f") && d->kind == KG_D_TASK) {
          fn_info fi;
          parse_fn_value(p, &fi);
          if (fi.ok && !d->has_generics)
            apply_fn(p, d, &fi);
          else if (!fi.ok && v->kind == KG_T_IDENT &&
                   (isp(at(p, 1), ',') || isp(at(p, 1), '}')))
            d->ref = name_span(p, v);
        } else if (span_is(p, k, "timeout") && !isw(p, v, "undefined")) {
          d->options |= KG_OPT_TIMEOUT;
          if (v->kind == KG_T_NUMBER && (isp(at(p, 1), ',') || isp(at(p, 1), '}')))
            d->timeout = tok_span(v);
          else if (isp(v, '-') && at(p, 1)->kind == KG_T_NUMBER &&
                   (isp(at(p, 2), ',') || isp(at(p, 2), '}')))
            d->timeout = span(p, p->i, p->i + 2); /* -1: an error, not a warning */
        } else if (span_is(p, k, "abortSignal") && !isw(p, v, "false") &&
                   !isw(p, v, "undefined")) {
          d->options |= KG_OPT_ABORT;
        } else if (v->kind == KG_T_STRING || v->kind == KG_T_TEMPLATE) {
          bool single = isp(at(p, 1), ',') || isp(at(p, 1), '}');
          kg_span sv = single ? tok_span(v) : (kg_span){0, 0};
          kg_span in = str_inner(v);
          if (span_is(p, k, "href"))
            d->href = sv;
          else if (span_is(p, k, "name") && d->kind == KG_D_IMPORT_TASK)
            d->import_name = sv;
          else if (span_is(p, k, "symbol"))
            d->symbol = sv;
          else if (span_is(p, k, "library"))
            d->library = sv;
          else if (span_is(p, k, "arg") && d->kind == KG_D_NATIVE && !d->has_generics && single) {
            d->arg = in;
            d->arg_in_string = true;
          } else if (span_is(p, k, "result") && d->kind == KG_D_NATIVE && !d->has_generics &&
                     single) {
            d->result = in;
            d->result_in_string = true;
          }
        }
        skip_expr(p);
      } else if (isp(cur(p), ',') || isp(cur(p), '}')) {
        /* shorthand property */
        if (span_is(p, k, "f") && d->kind == KG_D_TASK)
          d->ref = k;
        else if (span_is(p, k, "timeout"))
          d->options |= KG_OPT_TIMEOUT;
        else if (span_is(p, k, "abortSignal"))
          d->options |= KG_OPT_ABORT;
      } else {
        skip_expr(p);
      }
    }
    if (isp(cur(p), ','))
      adv(p);
    else if (!isp(cur(p), '}'))
      skip_one(p); /* unexpected: make progress */
  }
  if (isp(cur(p), '}'))
    adv(p);
}

static void parse_init(ps *p, kg_decl *d);

/* At '(' of an initializer that is one parenthesised expression, possibly
 * followed by `as T` or `satisfies T`: `((x: A): R => x)`, `(task({...}))`.
 * Classifies what the parentheses hold into @d; false (cursor unchanged)
 * when the group is not the whole initializer (`(f)(x)`, `(a, b)`). */
static bool parse_paren_init(ps *p, kg_decl *d)
{
  size_t open = p->i;
  skip_one(p);
  size_t close = p->i - 1;
  const kg_token *nx = cur(p);
  bool whole = isp(nx, ';') || isp(nx, ',') || isp(nx, ')') || isp(nx, '}') ||
               nx->kind == KG_T_EOF || isw(p, nx, "as") || isw(p, nx, "satisfies") ||
               ((nx->flags & KG_TF_NL) && stmt_keyword(p, nx));
  if (!whole || close <= open + 1 || !isp(&p->t[close], ')') || p->parens >= 16) {
    p->i = open;
    return false;
  }
  p->i = open + 1;
  p->parens++;
  parse_init(p, d);
  p->parens--;
  skip_expr(p);
  if (p->i != close)
    memset(d, 0, sizeof *d); /* `(a, b)`: a sequence, not what it starts with */
  p->i = close + 1;
  return true;
}

/* At the initializer of `const X = ...`: classifies it into @d. */
static void parse_init(ps *p, kg_decl *d)
{
  const kg_token *t = cur(p);
  /* task / importTask / nativeTask, possibly qualified: knit.task(...) */
  size_t callee = p->i;
  if (t->kind == KG_T_IDENT && isp(at(p, 1), '.') && at(p, 2)->kind == KG_T_IDENT &&
      (isp(at(p, 3), '(') || isp(at(p, 3), '<')))
    callee = p->i + 2;
  const kg_token *c = &p->t[callee];
  kg_decl_kind kind = KG_D_VALUE;
  if (isw(p, c, "task"))
    kind = KG_D_TASK;
  else if (isw(p, c, "importTask"))
    kind = KG_D_IMPORT_TASK;
  else if (isw(p, c, "nativeTask"))
    kind = KG_D_NATIVE;
  if (kind != KG_D_VALUE && (isp(&p->t[callee + 1], '(') || isp(&p->t[callee + 1], '<'))) {
    size_t save = p->i;
    p->i = callee + 1;
    kg_span targs[2] = {{0, 0}, {0, 0}};
    unsigned nt = 0;
    if (isp(cur(p), '<'))
      parse_type_args(p, targs, &nt);
    if (!isp(cur(p), '(')) {
      p->i = save;
      d->kind = KG_D_VALUE;
      return;
    }
    d->kind = kind;
    if (nt) {
      d->has_generics = true;
      d->arg = targs[0];
      /* a native task is synchronous: its Promise<R> stays, to be refused */
      if (nt > 1)
        d->result = kind == KG_D_NATIVE ? targs[1] : unwrap_promise(p, targs[1]);
    }
    adv(p); /* ( */
    if (isp(cur(p), '{'))
      parse_options(p, d);
    while (!eof(p) && !isp(cur(p), ')'))
      skip_one(p);
    if (isp(cur(p), ')'))
      adv(p);
    /* task(...).createPool(...) still exports the task; other chains do not */
    if (isp(cur(p), '.') || isp(cur(p), KG_P_OPTCHAIN)) {
      if (!(kind == KG_D_TASK && isw(p, at(p, 1), "createPool")))
        d->kind = KG_D_VALUE;
    } else if (isp(cur(p), '(') || isp(cur(p), '[')) {
      d->kind = KG_D_VALUE;
    }
    if (d->kind == KG_D_VALUE)
      d->ref.len = 0; /* task({ f }).other(): f is not what this names */
    return;
  }
  fn_info fi;
  parse_fn_value(p, &fi);
  if (fi.ok) {
    d->kind = KG_D_FUNCTION;
    apply_fn(p, d, &fi);
    return;
  }
  if (isp(t, '(') && parse_paren_init(p, d))
    return;
  /* const b = a; : a reference, resolved at the end of the module */
  if (t->kind == KG_T_IDENT && (isp(at(p, 1), ';') || isp(at(p, 1), ',') ||
                                at(p, 1)->kind == KG_T_EOF || (at(p, 1)->flags & KG_TF_NL))) {
    d->ref = name_span(p, t);
  }
  d->kind = KG_D_VALUE;
}

/* ---- statements ------------------------------------------------------------------- */

/* Names bound by a destructuring pattern at '{' or '[': each becomes a
 * non-task value. */
static void parse_pattern(ps *p, bool exported, uint32_t order)
{
  size_t start = p->i;
  skip_one(p);
  size_t end = p->i;
  for (size_t k = start + 1; k + 1 < end; k++) {
    const kg_token *t = &p->t[k];
    const kg_token *nx = &p->t[k + 1];
    const kg_token *pv = &p->t[k - 1];
    if (t->kind != KG_T_IDENT)
      continue;
    bool binding = (isp(nx, ',') || isp(nx, '}') || isp(nx, ']') || isp(nx, '=')) &&
                   (isp(pv, '{') || isp(pv, '[') || isp(pv, ',') || isp(pv, ':') ||
                    isp(pv, KG_P_ELLIPSIS));
    if (binding)
      export_decl(p, add_decl(p, KG_D_VALUE, name_span(p, t)), exported, order);
  }
}

static void parse_var(ps *p, bool exported, uint32_t order)
{
  adv(p); /* const / let / var */
  for (;;) {
    if (isp(cur(p), '{') || isp(cur(p), '[')) {
      parse_pattern(p, exported, order);
      if (isp(cur(p), ':')) {
        adv(p);
        scan_type(p, "=,;", false, false);
      }
      if (isp(cur(p), '=')) {
        adv(p);
        skip_expr(p);
      }
    } else if (cur(p)->kind == KG_T_IDENT) {
      kg_span name = name_span(p, cur(p));
      adv(p);
      if (isp(cur(p), '!'))
        adv(p);
      if (isp(cur(p), ':')) {
        adv(p);
        scan_type(p, "=,;", false, false);
      }
      kg_decl dd = {0};
      if (isp(cur(p), '=')) {
        adv(p);
        parse_init(p, &dd);
        skip_expr(p);
      }
      kg_decl *d = add_decl(p, dd.kind, name);
      if (!d)
        return;
      uint32_t next = d->next;
      kg_span nm = d->name;
      *d = dd;
      d->next = next;
      d->name = nm;
      export_decl(p, d, exported, order);
    } else {
      return;
    }
    if (isp(cur(p), ','))
      adv(p);
    else
      return;
  }
}

static void parse_function_decl(ps *p, bool exported, uint32_t order, bool ambient)
{
  bool async = false;
  if (isw(p, cur(p), "async")) {
    async = true;
    adv(p);
  }
  adv(p); /* function */
  bool generator = isp(cur(p), '*');
  if (generator)
    adv(p);
  if (cur(p)->kind != KG_T_IDENT)
    return;
  kg_span name = name_span(p, cur(p));
  adv(p);
  fn_info fi = {.tparams = scan_tparams(p)};
  kg_span tp = fi.tparams;
  if (!isp(cur(p), '('))
    return;
  parse_params(p, &fi);
  fi.tparams = tp;
  fi.async = async;
  fi.generator = generator;
  if (isp(cur(p), ':')) {
    adv(p);
    fi.result = scan_type(p, ";", false, true);
  }
  bool body = isp(cur(p), '{');
  if (body)
    skip_one(p);

  /* overloads: signatures without a body, then the implementation */
  const kg_decl *prev = kg_module_find(p->m, p->f->data + name.off, name.len, false);
  if (prev && prev->kind == KG_D_FUNCTION && prev->overload) {
    if (body)
      ((kg_decl *)prev)->overload = false;
    return;
  }
  kg_decl *d = add_decl(p, ambient ? KG_D_VALUE : KG_D_FUNCTION, name);
  if (!d)
    return;
  if (!ambient) {
    apply_fn(p, d, &fi);
    d->overload = !body;
  }
  export_decl(p, d, exported, order);
}

static void parse_named_decl(ps *p, kg_decl_kind kind, bool exported, uint32_t order)
{
  /* at the name */
  if (cur(p)->kind != KG_T_IDENT)
    return;
  kg_span name = name_span(p, cur(p));
  adv(p);
  kg_decl *d = add_decl(p, kind, name);
  if (!d)
    return;
  if (kind == KG_D_TYPE || kind == KG_D_INTERFACE) {
    if (isp(cur(p), '<')) {
      d->generic = true;
      adv(p);
      scan_type(p, "", false, false);
      if (isp(cur(p), '>'))
        adv(p);
    }
    if (kind == KG_D_TYPE && isp(cur(p), '=')) {
      adv(p);
      d->body = scan_type(p, ";", false, false);
    } else if (kind == KG_D_INTERFACE) {
      if (isw(p, cur(p), "extends")) {
        d->generic = true; /* bases unchecked: treat structurally */
        d->extends = true;
        while (!eof(p) && !isp(cur(p), '{'))
          skip_one(p);
      }
      if (isp(cur(p), '{')) {
        size_t s = p->i;
        skip_one(p);
        d->body = span(p, s, p->i);
      }
    }
  }
  export_decl(p, d, exported, order);
}

/* A declaration after `export` or at the top level. Returns false if the
 * current token does not start one. */
static bool parse_decl(ps *p, bool exported, uint32_t order, bool ambient)
{
  const kg_token *t = cur(p), *nx = at(p, 1);
  if (isw(p, t, "const") && isw(p, nx, "enum")) {
    adv(p);
    adv(p);
    parse_named_decl(p, KG_D_ENUM, exported, order);
    return true;
  }
  if (isw(p, t, "const") || isw(p, t, "let") || isw(p, t, "var")) {
    if (nx->kind != KG_T_IDENT && !isp(nx, '{') && !isp(nx, '['))
      return false;
    if (ambient) {
      adv(p);
      while (cur(p)->kind == KG_T_IDENT) {
        export_decl(p, add_decl(p, KG_D_VALUE, name_span(p, cur(p))), exported, order);
        adv(p);
        if (isp(cur(p), ':')) {
          adv(p);
          scan_type(p, ",;", false, false);
        }
        if (!isp(cur(p), ','))
          break;
        adv(p);
      }
      return true;
    }
    parse_var(p, exported, order);
    return true;
  }
  if (isw(p, t, "function") || (isw(p, t, "async") && isw(p, nx, "function") && !(nx->flags & KG_TF_NL))) {
    parse_function_decl(p, exported, order, ambient);
    return true;
  }
  if (isw(p, t, "abstract") && isw(p, nx, "class")) {
    adv(p);
    t = cur(p);
  }
  if (isw(p, t, "class")) {
    adv(p);
    parse_named_decl(p, KG_D_CLASS, exported, order);
    return true;
  }
  if (isw(p, t, "interface") && nx->kind == KG_T_IDENT) {
    adv(p);
    parse_named_decl(p, KG_D_INTERFACE, exported, order);
    return true;
  }
  if (isw(p, t, "type") && nx->kind == KG_T_IDENT && (isp(at(p, 2), '=') || isp(at(p, 2), '<'))) {
    adv(p);
    parse_named_decl(p, KG_D_TYPE, exported, order);
    return true;
  }
  if (isw(p, t, "enum") && nx->kind == KG_T_IDENT) {
    adv(p);
    parse_named_decl(p, KG_D_ENUM, exported, order);
    return true;
  }
  if ((isw(p, t, "namespace") || isw(p, t, "module")) && nx->kind == KG_T_IDENT &&
      !(nx->flags & KG_TF_NL)) {
    adv(p);
    parse_named_decl(p, KG_D_NAMESPACE, exported, order);
    return true;
  }
  if (isw(p, t, "declare") && !(nx->flags & KG_TF_NL) &&
      (nx->kind == KG_T_IDENT)) {
    adv(p);
    if (isw(p, cur(p), "global") || (isw(p, cur(p), "module") && at(p, 1)->kind == KG_T_STRING))
      return true; /* the main loop skips the block */
    if (!parse_decl(p, exported, order, true))
      return true;
    return true;
  }
  return false;
}

/* `{ a, b as c, type d, default as e }` at '{'. Calls back per entry. */
static void parse_export_list(ps *p, uint32_t order, bool type_only)
{
  size_t open = p->i;
  skip_one(p);
  size_t close = p->i;
  kg_span spec = {0, 0};
  bool from = isw(p, cur(p), "from") && at(p, 1)->kind == KG_T_STRING;
  if (from) {
    adv(p);
    spec = tok_span(cur(p));
    adv(p);
  }
  size_t k = open + 1;
  while (k + 1 < close) {
    bool tonly = type_only;
    const kg_token *a = &p->t[k];
    if (kg_tok_is(p->f, a, "type") && (p->t[k + 1].kind == KG_T_IDENT || p->t[k + 1].kind == KG_T_STRING) &&
        !kg_tok_is(p->f, &p->t[k + 1], "as")) {
      tonly = true;
      a = &p->t[++k];
    } else if (kg_tok_is(p->f, a, "type") && kg_tok_is(p->f, &p->t[k + 1], "as") &&
               (p->t[k + 2].kind == KG_T_IDENT) && kg_tok_is(p->f, &p->t[k + 3], "as")) {
      tonly = true; /* type as as x */
      a = &p->t[++k];
    }
    if (a->kind != KG_T_IDENT && a->kind != KG_T_STRING) {
      k++;
      continue;
    }
    kg_span local = name_span(p, a);
    kg_span name = local;
    k++;
    if (k + 1 < close && kg_tok_is(p->f, &p->t[k], "as") &&
        (p->t[k + 1].kind == KG_T_IDENT || p->t[k + 1].kind == KG_T_STRING)) {
      const kg_token *b = &p->t[k + 1];
      name = name_span(p, b);
      k += 2;
    }
    add_export(p, from ? KG_E_FROM : KG_E_LOCAL, name, local, spec, tonly, order);
    /* remember the position of the exported name for diagnostics */
    if (k < close && isp(&p->t[k], ','))
      k++;
  }
}

static void parse_export(ps *p)
{
  uint32_t order = (uint32_t)p->i;
  adv(p); /* export */
  const kg_token *t = cur(p);
  kg_span none = {0, 0};
  if (isw(p, t, "default")) {
    /* a value named "default": never a task (pool.call.default makes no
     * sense), but re-exports of it must resolve */
    export_decl(p, add_decl(p, KG_D_VALUE, tok_span(t)), true, order);
    adv(p);
    return;
  }
  if (isp(t, '=')) {
    adv(p);
    return; /* export = x (CommonJS style) */
  }
  if (isp(t, '*')) {
    adv(p);
    kg_span name = none;
    if (isw(p, cur(p), "as")) {
      adv(p);
      if (cur(p)->kind == KG_T_IDENT || cur(p)->kind == KG_T_STRING)
        name = name_span(p, cur(p));
      adv(p);
    }
    if (isw(p, cur(p), "from") && at(p, 1)->kind == KG_T_STRING) {
      adv(p);
      add_export(p, name.len ? KG_E_STAR_AS : KG_E_STAR, name, none, tok_span(cur(p)), false, order);
      adv(p);
    }
    return;
  }
  if (isw(p, t, "type") && isp(at(p, 1), '{')) {
    adv(p);
    parse_export_list(p, order, true);
    return;
  }
  if (isw(p, t, "type") && isp(at(p, 1), '*')) {
    adv(p);
    adv(p);
    while (!eof(p) && cur(p)->kind != KG_T_STRING && !isp(cur(p), ';'))
      adv(p);
    return; /* export type * from: types only */
  }
  if (isp(t, '{')) {
    parse_export_list(p, order, false);
    return;
  }
  if (isw(p, t, "import") && at(p, 1)->kind == KG_T_IDENT && isp(at(p, 2), '=')) {
    adv(p);
    export_decl(p, add_decl(p, KG_D_VALUE, name_span(p, cur(p))), true, order);
    adv(p);
    return;
  }
  if (isw(p, t, "as") && isw(p, at(p, 1), "namespace")) {
    adv(p);
    return;
  }
  parse_decl(p, true, order, false);
}

static void parse_import(ps *p)
{
  adv(p); /* import */
  bool type_only = false;
  if (isw(p, cur(p), "type") && (at(p, 1)->kind == KG_T_IDENT || isp(at(p, 1), '{') || isp(at(p, 1), '*')) &&
      !isw(p, at(p, 1), "from")) {
    type_only = true;
    adv(p);
  }
  if (cur(p)->kind == KG_T_STRING)
    return; /* side-effect import */
  if (cur(p)->kind == KG_T_IDENT && isp(at(p, 1), '=')) {
    add_decl(p, KG_D_VALUE, name_span(p, cur(p))); /* import x = require(...) / A.B */
    adv(p);
    return;
  }
  /* collect the bindings first, the specifier comes last */
  size_t start = p->i;
  while (!eof(p) && !isw(p, cur(p), "from") && !isp(cur(p), ';') && !(cur(p)->kind == KG_T_STRING))
    skip_one(p);
  if (!isw(p, cur(p), "from") || at(p, 1)->kind != KG_T_STRING)
    return;
  size_t end = p->i;
  adv(p);
  kg_span spec = tok_span(cur(p));
  adv(p);
  for (size_t k = start; k < end; k++) {
    const kg_token *a = &p->t[k];
    if (a->kind == KG_T_IDENT && (k == start) && !isw(p, a, "type")) {
      kg_decl *d = add_decl(p, KG_D_IMPORT, name_span(p, a));
      if (d) {
        d->spec = spec;
        d->import_kind = KG_IMPORT_DEFAULT;
        d->type_only = type_only;
      }
    } else if (isp(a, '*') && k + 2 < end && kg_tok_is(p->f, &p->t[k + 1], "as")) {
      kg_decl *d = add_decl(p, KG_D_IMPORT, name_span(p, &p->t[k + 2]));
      if (d) {
        d->spec = spec;
        d->import_kind = KG_IMPORT_NAMESPACE;
        d->type_only = type_only;
      }
      k += 2;
    } else if (isp(a, '{')) {
      size_t j = k + 1;
      while (j < end && !isp(&p->t[j], '}')) {
        bool tonly = type_only;
        const kg_token *x = &p->t[j];
        if (kg_tok_is(p->f, x, "type") && j + 1 < end &&
            (p->t[j + 1].kind == KG_T_IDENT || p->t[j + 1].kind == KG_T_STRING) &&
            !(kg_tok_is(p->f, &p->t[j + 1], "as") && !(j + 2 < end && kg_tok_is(p->f, &p->t[j + 2], "as")))) {
          tonly = true;
          x = &p->t[++j];
        }
        if (x->kind == KG_T_IDENT || x->kind == KG_T_STRING) {
          kg_span imported = name_span(p, x);
          kg_span local = imported;
          j++;
          if (j + 1 < end && kg_tok_is(p->f, &p->t[j], "as") && p->t[j + 1].kind == KG_T_IDENT) {
            local = name_span(p, &p->t[j + 1]);
            j += 2;
          }
          kg_decl *d = add_decl(p, KG_D_IMPORT, local);
          if (d) {
            d->spec = spec;
            d->import_name = imported;
            d->import_kind = span_is(p, imported, "default") ? KG_IMPORT_DEFAULT : KG_IMPORT_NAMED;
            d->type_only = tonly;
          }
        } else {
          j++;
        }
        if (j < end && isp(&p->t[j], ','))
          j++;
      }
      k = j;
    }
  }
}

/* A function signature that no implementation followed (an ambient one, as
 * in a .d.ts file) has nothing for a worker to run: it is not a task. */
static void drop_signatures(kg_module *m)
{
  for (size_t k = 0; k < m->ndecls; k++)
    if (m->decls[k].kind == KG_D_FUNCTION && m->decls[k].overload)
      m->decls[k].kind = KG_D_VALUE;
}

/* task({ f }) and const b = a: copy what the referenced declaration knows. */
static void resolve_refs(ps *p)
{
  kg_module *m = p->m;
  for (size_t k = 0; k < m->ndecls; k++) {
    kg_decl *d = &m->decls[k];
    if (!d->ref.len)
      continue;
    const kg_decl *r = d;
    for (int hop = 0; hop < 8 && r && r->ref.len; hop++) {
      const kg_decl *nx = kg_module_find(m, p->f->data + r->ref.off, r->ref.len, false);
      if (!nx || nx == r)
        break;
      if (d->kind == KG_D_TASK) {
        r = nx;
        break;
      }
      r = nx;
    }
    if (!r || r == d)
      continue;
    if (d->kind == KG_D_TASK) {
      if (r->kind == KG_D_FUNCTION && !d->has_generics) {
        d->arg = r->arg;
        d->arg_void = r->arg_void;
        d->result = r->result;
        d->async = r->async;
        d->generator = r->generator;
        d->arg_optional = r->arg_optional;
        d->params = r->params;
        d->declared = r->declared;
        d->tparams = r->tparams;
      }
    } else if (d->kind == KG_D_VALUE && kg_decl_is_task(r)) {
      kg_span name = d->name;
      uint32_t next = d->next;
      *d = *r;
      d->name = name;
      d->next = next;
      d->ref.len = 0;
    }
  }
}

kg_module *kg_parse(kg_file *f, kg_diags *d)
{
  if (!f->lexed && kg_lex(f, d) < 0)
    return NULL;
  kg_module *m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  m->file = f;
  ps p = {.f = f, .m = m, .d = d, .t = f->toks, .n = f->ntoks};
  if (rehash(m, 128) < 0) {
    kg_module_free(m);
    return NULL;
  }
  while (!eof(&p) && !p.err) {
    const kg_token *t = cur(&p);
    size_t before = p.i;
    if (isw(&p, t, "export")) {
      parse_export(&p);
    } else if (isw(&p, t, "import") && !isp(at(&p, 1), '(') && !isp(at(&p, 1), '.')) {
      parse_import(&p);
    } else if (t->kind == KG_T_IDENT && parse_decl(&p, false, (uint32_t)p.i, false)) {
      /* recorded */
    }
    if (p.i == before)
      skip_one(&p);
  }
  if (p.err) {
    kg_module_free(m);
    return NULL;
  }
  drop_signatures(m);
  resolve_refs(&p);
  return m;
}

void kg_module_free(kg_module *m)
{
  if (!m)
    return;
  free(m->decls);
  free(m->hash);
  free(m->exports);
  free(m->table);
  free(m->tix);
  free(m->real);
  free(m);
}

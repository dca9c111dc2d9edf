/* types.c: TypeScript type texts -> knit_type trees (see knit/types.h).
 *
 * Two stages: a tokenizer for the type-level token set (identifiers,
 * strings, template literals, numbers, punctuators; comments and whitespace
 * skipped, newlines remembered), then recursive descent with a depth bound.
 * Every node lives in one arena owned by the root, next to a copy of the
 * parsed text, so one free releases a whole tree.
 */
#include "knit/types.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- tokens ---------------------------------------------------------------- */

enum {
  TK_EOF = 0,
  TK_IDENT,
  TK_STR,
  TK_TEMPLATE,
  TK_NUM,
  TK_PUNCT,
};

/* punctuator codes beyond single ASCII characters */
enum { P_ARROW = 256, P_ELLIPSIS };

typedef struct tok {
  int kind;
  int punct;   /* TK_PUNCT: the character, P_ARROW or P_ELLIPSIS */
  size_t off;
  size_t len;
  bool nl;     /* a newline precedes this token */
  bool gap;    /* whitespace or a comment precedes this token */
} tok;

typedef struct toks {
  tok *v;
  size_t n, cap;
  size_t err_off; /* first tokenizer error */
  const char *err_msg;
} toks;

static bool is_id_start(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}

static bool is_id_part(unsigned char c)
{
  return is_id_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(unsigned char c)
{
  return c >= '0' && c <= '9';
}

static bool is_hex(unsigned char c)
{
  return is_digit(c) || ((c | 32) >= 'a' && (c | 32) <= 'f');
}

/* Length of a well-formed \uXXXX or \u{X...} escape at s[i], else 0. */
static size_t uesc_len(const char *s, size_t n, size_t i)
{
  if (i + 2 >= n || s[i] != '\\' || s[i + 1] != 'u')
    return 0;
  size_t j = i + 2;
  if (s[j] == '{') {
    size_t k = j + 1;
    while (k < n && is_hex((unsigned char)s[k]) && k - j <= 8)
      k++;
    return k < n && s[k] == '}' && k > j + 1 ? k + 1 - i : 0;
  }
  for (int q = 0; q < 4; q++)
    if (j + (size_t)q >= n || !is_hex((unsigned char)s[j + q]))
      return 0;
  return 6;
}

static int toks_push(toks *ts, tok t)
{
  if (ts->n == ts->cap) {
    size_t cap = ts->cap ? ts->cap * 2 : 32;
    tok *v = realloc(ts->v, cap * sizeof *v);
    if (!v)
      return -ENOMEM;
    ts->v = v;
    ts->cap = cap;
  }
  ts->v[ts->n++] = t;
  return 0;
}

static void toks_error(toks *ts, size_t off, const char *msg)
{
  if (!ts->err_msg) {
    ts->err_off = off;
    ts->err_msg = msg;
  }
}

/* Skips a template literal starting at s[i] == '`'. Substitutions nest, with
 * their own strings and templates; an explicit stack keeps it iterative. */
static size_t skip_template(const char *s, size_t n, size_t i, bool *ok)
{
  /* stack entries: 'T' inside template text, '{' inside a substitution */
  char stack[KNIT_TYPE_MAX_DEPTH];
  int sp = 0;
  stack[sp++] = 'T';
  i++;
  while (i < n) {
    char c = s[i];
    if (stack[sp - 1] == 'T') {
      if (c == '\\') {
        i += 2;
      } else if (c == '`') {
        i++;
        if (--sp == 0) {
          *ok = true;
          return i;
        }
      } else if (c == '$' && i + 1 < n && s[i + 1] == '{') {
        if (sp == KNIT_TYPE_MAX_DEPTH)
          break;
        stack[sp++] = '{';
        i += 2;
      } else {
        i++;
      }
    } else {
      if (c == '}') {
        sp--;
        i++;
      } else if (c == '{') {
        if (sp == KNIT_TYPE_MAX_DEPTH)
          break;
        stack[sp++] = '{';
        i++;
      } else if (c == '`') {
        if (sp == KNIT_TYPE_MAX_DEPTH)
          break;
        stack[sp++] = 'T';
        i++;
      } else if (c == '"' || c == '\'') {
        i++;
        while (i < n && s[i] != c && s[i] != '\n') {
          if (s[i] == '\\')
            i++;
          i++;
        }
        i++;
      } else {
        i++;
      }
    }
  }
  *ok = false;
  return n;
}

/* Tokenizes s[0..n). Lenient: on an error it records the first one and goes
 * on, so the normaliser can still work on broken text. */
static int tokenize(const char *s, size_t n, toks *ts)
{
  size_t i = 0;
  bool nl = false, gap = false;
  while (i < n) {
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v') {
      gap = true;
      i++;
      continue;
    }
    if (c == '\n') {
      gap = nl = true;
      i++;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '/') {
      while (i < n && s[i] != '\n')
        i++;
      gap = true;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      size_t start = i;
      i += 2;
      while (i + 1 < n && !(s[i] == '*' && s[i + 1] == '/')) {
        if (s[i] == '\n')
          nl = true;
        i++;
      }
      if (i + 1 >= n) {
        toks_error(ts, start, "unterminated comment");
        i = n;
      } else {
        i += 2;
      }
      gap = true;
      continue;
    }
    tok t = {.kind = TK_PUNCT, .punct = c, .off = i, .len = 1, .nl = nl, .gap = gap};
    nl = gap = false;
    if (is_id_start(c) || uesc_len(s, n, i)) {
      size_t j = i;
      while (j < n) {
        size_t e = uesc_len(s, n, j);
        if (e) {
          j += e;
          continue;
        }
        if (!is_id_part((unsigned char)s[j]))
          break;
        j++;
      }
      t.kind = TK_IDENT;
      t.len = j - i;
    } else if (is_digit(c) || (c == '.' && i + 1 < n && is_digit((unsigned char)s[i + 1]))) {
      size_t j = i + 1;
      bool hex = c == '0' && j < n && (s[j] == 'x' || s[j] == 'X');
      while (j < n) {
        unsigned char d = (unsigned char)s[j];
        if (is_id_part(d) || d == '.') {
          j++;
        } else if ((d == '+' || d == '-') && !hex && (s[j - 1] == 'e' || s[j - 1] == 'E')) {
          j++;
        } else {
          break;
        }
      }
      t.kind = TK_NUM;
      t.len = j - i;
    } else if (c == '"' || c == '\'') {
      size_t j = i + 1;
      while (j < n && s[j] != (char)c && s[j] != '\n') {
        if (s[j] == '\\' && j + 1 < n)
          j++;
        j++;
      }
      if (j >= n || s[j] != (char)c) {
        toks_error(ts, i, "unterminated string");
        t.len = j - i;
      } else {
        t.len = j + 1 - i;
      }
      t.kind = TK_STR;
    } else if (c == '`') {
      bool ok;
      size_t j = skip_template(s, n, i, &ok);
      if (!ok)
        toks_error(ts, i, "unterminated template literal");
      t.kind = TK_TEMPLATE;
      t.len = j - i;
    } else if (c == '=' && i + 1 < n && s[i + 1] == '>') {
      t.punct = P_ARROW;
      t.len = 2;
    } else if (c == '.' && i + 2 < n && s[i + 1] == '.' && s[i + 2] == '.') {
      t.punct = P_ELLIPSIS;
      t.len = 3;
    }
    if (toks_push(ts, t) < 0)
      return -ENOMEM;
    i += t.len;
  }
  tok eof = {.kind = TK_EOF, .off = n, .len = 0, .nl = nl, .gap = gap};
  return toks_push(ts, eof);
}

/* ---- arena ---------------------------------------------------------------- */

typedef struct chunk {
  struct chunk *next;
  size_t used, cap;
  max_align_t data[];
} chunk;

typedef struct tree {
  knit_type root; /* first: knit_type_destroy() casts back */
  chunk *chunks;
  char *text;     /* the tree's copy of the parsed text */
} tree;

static void *arena_alloc(tree *tr, size_t size)
{
  size = (size + 15) & ~(size_t)15;
  chunk *c = tr->chunks;
  if (!c || c->cap - c->used < size) {
    size_t cap = size > 16384 ? size : 16384;
    c = malloc(sizeof *c + cap);
    if (!c)
      return NULL;
    c->used = 0;
    c->cap = cap;
    c->next = tr->chunks;
    tr->chunks = c;
  }
  void *p = (char *)c->data + c->used;
  c->used += size;
  memset(p, 0, size);
  return p;
}

/* ---- parser ------------------------------------------------------------------ */

typedef struct parser {
  tree *tr;
  const char *s; /* the tree's copy */
  size_t n;
  tok *t;
  size_t nt, i;
  int depth;
  int err;            /* 0, -EINVAL or -ENOMEM */
  knit_type_error *e;
} parser;

static knit_type *parse_type(parser *p);

static void fail(parser *p, size_t off, const char *fmt, ...)
{
  if (p->err)
    return;
  p->err = -EINVAL;
  if (p->e) {
    va_list ap;
    va_start(ap, fmt);
    p->e->offset = off;
    vsnprintf(p->e->message, sizeof p->e->message, fmt, ap);
    va_end(ap);
  }
}

static void oom(parser *p)
{
  if (!p->err)
    p->err = -ENOMEM;
  if (p->e) {
    p->e->offset = 0;
    snprintf(p->e->message, sizeof p->e->message, "out of memory");
  }
}

static const tok *peek(const parser *p)
{
  return &p->t[p->i < p->nt ? p->i : p->nt - 1];
}

static const tok *peek_at(const parser *p, size_t k)
{
  size_t j = p->i + k;
  return &p->t[j < p->nt ? j : p->nt - 1];
}

static bool is_punct(const tok *t, int c)
{
  return t->kind == TK_PUNCT && t->punct == c;
}

static bool tok_is(const parser *p, const tok *t, const char *word)
{
  size_t l = strlen(word);
  return t->kind == TK_IDENT && t->len == l && memcmp(p->s + t->off, word, l) == 0;
}

static bool accept(parser *p, int c)
{
  if (is_punct(peek(p), c)) {
    p->i++;
    return true;
  }
  return false;
}

static const char *punct_name(int c, char buf[4])
{
  if (c == P_ARROW)
    return "=>";
  if (c == P_ELLIPSIS)
    return "...";
  buf[0] = (char)c;
  buf[1] = 0;
  return buf;
}

static bool expect(parser *p, int c)
{
  if (accept(p, c))
    return true;
  char b[4];
  const tok *t = peek(p);
  if (t->kind == TK_EOF)
    fail(p, t->off, "expected '%s' before the end of the type", punct_name(c, b));
  else
    fail(p, t->off, "expected '%s'", punct_name(c, b));
  return false;
}

static knit_type *node(parser *p, knit_type_kind kind, size_t start_tok)
{
  knit_type *t = arena_alloc(p->tr, sizeof *t);
  if (!t) {
    oom(p);
    return NULL;
  }
  t->kind = kind;
  const tok *s = &p->t[start_tok < p->nt ? start_tok : p->nt - 1];
  t->offset = s->off;
  t->text = p->s + s->off;
  return t;
}

/* Sets the end of @t's text to the end of the last consumed token. */
static knit_type *finish(parser *p, knit_type *t)
{
  if (!t)
    return NULL;
  if (p->i > 0) {
    const tok *last = &p->t[p->i - 1];
    size_t end = last->off + last->len;
    t->len = end > t->offset ? end - t->offset : 0;
  }
  return t;
}

/* A growable list of child pointers, copied into the arena when done. */
typedef struct list {
  knit_type **v;
  size_t n, cap;
} list;

static bool list_push(parser *p, list *l, knit_type *t)
{
  if (!t)
    return false;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    knit_type **v = realloc(l->v, cap * sizeof *v);
    if (!v) {
      oom(p);
      return false;
    }
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = t;
  return true;
}

static bool list_move(parser *p, list *l, knit_type *t)
{
  bool ok = true;
  if (t && l->n) {
    t->items = arena_alloc(p->tr, l->n * sizeof *t->items);
    if (t->items) {
      memcpy(t->items, l->v, l->n * sizeof *t->items);
      t->n_items = l->n;
    } else {
      oom(p);
      ok = false;
    }
  }
  free(l->v);
  l->v = NULL;
  l->n = l->cap = 0;
  return ok && t;
}

/* Index of the token that closes the bracket opened at token @open, or
 * p->nt - 1 (EOF) if unbalanced. Counts ( [ { < as one family: enough to
 * step over parameter lists and type arguments. */
static size_t match_close(const parser *p, size_t open)
{
  int depth = 0;
  for (size_t j = open; j < p->nt; j++) {
    const tok *t = &p->t[j];
    if (t->kind != TK_PUNCT)
      continue;
    if (t->punct == '(' || t->punct == '[' || t->punct == '{' || t->punct == '<')
      depth++;
    else if (t->punct == ')' || t->punct == ']' || t->punct == '}' || t->punct == '>')
      if (--depth == 0)
        return j;
  }
  return p->nt - 1;
}

/* Skips a balanced group starting at the current token, which must be an
 * opener. Fails on imbalance. */
static bool skip_group(parser *p)
{
  size_t open = p->i;
  size_t close = match_close(p, open);
  if (p->t[close].kind == TK_EOF) {
    fail(p, p->t[open].off, "unbalanced '%c'", p->t[open].punct);
    return false;
  }
  p->i = close + 1;
  return true;
}

static const struct {
  const char *name;
  unsigned tag;
} binary_names[] = {
  {"ArrayBuffer", KNIT_T_ARRAYBUFFER},
  {"DataView", KNIT_T_DATAVIEW},
  {"Buffer", KNIT_T_BUFFER},
  {"Int8Array", KNIT_T_INT8},
  {"Uint8Array", KNIT_T_UINT8},
  {"Uint8ClampedArray", KNIT_T_UINT8C},
  {"Int16Array", KNIT_T_INT16},
  {"Uint16Array", KNIT_T_UINT16},
  {"Int32Array", KNIT_T_INT32},
  {"Uint32Array", KNIT_T_UINT32},
  {"Float32Array", KNIT_T_FLOAT32},
  {"Float64Array", KNIT_T_FLOAT64},
  {"BigInt64Array", KNIT_T_BIGINT64},
  {"BigUint64Array", KNIT_T_BIGUINT64},
};

static const char *const error_names[] = {
  "Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError",
  "EvalError", "URIError", "AggregateError",
};

static bool name_eq(const char *s, size_t n, const char *w)
{
  return strlen(w) == n && memcmp(s, w, n) == 0;
}

/* Parameter list of a function type or method, current token '('.
 * Appends one node per parameter to @l. */
static bool parse_params(parser *p, list *l)
{
  if (!expect(p, '('))
    return false;
  while (!p->err && !is_punct(peek(p), ')')) {
    if (peek(p)->kind == TK_EOF) {
      expect(p, ')');
      return false;
    }
    size_t start = p->i;
    unsigned flags = 0;
    /* modifiers of constructor parameter properties */
    while (peek(p)->kind == TK_IDENT && peek_at(p, 1)->kind == TK_IDENT &&
           (tok_is(p, peek(p), "public") || tok_is(p, peek(p), "private") ||
            tok_is(p, peek(p), "protected") || tok_is(p, peek(p), "readonly")))
      p->i++;
    if (accept(p, P_ELLIPSIS))
      flags |= KNIT_TYPE_REST;
    const tok *nm = peek(p);
    const char *label = NULL;
    size_t label_len = 0;
    if (nm->kind == TK_IDENT) {
      label = p->s + nm->off;
      label_len = nm->len;
      p->i++;
    } else if (is_punct(nm, '{') || is_punct(nm, '[')) {
      if (!skip_group(p))
        return false;
      label = p->s + nm->off;
      label_len = p->t[p->i - 1].off + 1 - nm->off;
    } else {
      fail(p, nm->off, "expected a parameter name");
      return false;
    }
    if (accept(p, '?'))
      flags |= KNIT_TYPE_OPTIONAL;
    knit_type *ty;
    if (accept(p, ':')) {
      ty = parse_type(p);
    } else {
      ty = node(p, KNIT_TYPE_UNKNOWN, start) /* not written: empty text */;
    }
    if (!ty)
      return false;
    ty->flags |= flags;
    ty->label = label;
    ty->label_len = label_len;
    if (!list_push(p, l, ty))
      return false;
    if (!accept(p, ','))
      break;
  }
  return expect(p, ')');
}

/* Function type from the current token: `<T>(a: A) => R`, `(a) => R`,
 * `new (...) => R`, `abstract new ...`. */
static knit_type *parse_function(parser *p, size_t start)
{
  knit_type *f = node(p, KNIT_TYPE_FUNCTION, start);
  if (!f)
    return NULL;
  if (tok_is(p, peek(p), "abstract"))
    p->i++;
  if (tok_is(p, peek(p), "new"))
    p->i++;
  if (is_punct(peek(p), '<') && !skip_group(p))
    return NULL;
  list l = {0};
  if (!parse_params(p, &l) || !expect(p, P_ARROW)) {
    list_move(p, &l, NULL);
    return NULL;
  }
  list_push(p, &l, parse_type(p));
  if (!list_move(p, &l, f))
    return NULL;
  return finish(p, f);
}

/* An entity name with dots and optional type arguments, mapped to the
 * built-in kinds where it names one. */
static knit_type *parse_reference(parser *p)
{
  size_t start = p->i;
  const tok *first = peek(p);
  size_t name_end = first->off + first->len;
  p->i++;
  while (is_punct(peek(p), '.') && peek_at(p, 1)->kind == TK_IDENT) {
    p->i += 2;
    name_end = p->t[p->i - 1].off + p->t[p->i - 1].len;
  }
  knit_type *t = node(p, KNIT_TYPE_NAME, start);
  if (!t)
    return NULL;
  t->name = p->s + first->off;
  t->name_len = name_end - first->off;
  list args = {0};
  if (is_punct(peek(p), '<')) {
    p->i++;
    while (!p->err) {
      if (!list_push(p, &args, parse_type(p)))
        break;
      if (!accept(p, ','))
        break;
      if (is_punct(peek(p), '>'))
        break;
    }
    if (!p->err)
      expect(p, '>');
  }
  if (p->err || !list_move(p, &args, t)) {
    list_move(p, &args, NULL);
    return NULL;
  }
  finish(p, t);

  const char *nm = t->name;
  size_t nl = t->name_len;
  size_t na = t->n_items;
  if (na == 0) {
    for (size_t k = 0; k < sizeof binary_names / sizeof binary_names[0]; k++)
      if (name_eq(nm, nl, binary_names[k].name)) {
        t->kind = KNIT_TYPE_BINARY;
        t->tag = binary_names[k].tag;
        return t;
      }
    for (size_t k = 0; k < sizeof error_names / sizeof error_names[0]; k++)
      if (name_eq(nm, nl, error_names[k])) {
        t->kind = KNIT_TYPE_ERROR;
        return t;
      }
    if (name_eq(nm, nl, "Date"))
      t->kind = KNIT_TYPE_DATE;
    else if (name_eq(nm, nl, "Symbol"))
      t->kind = KNIT_TYPE_SYMBOL;
    else if (name_eq(nm, nl, "Object"))
      t->kind = KNIT_TYPE_OBJECT_KW;
  } else if (na == 1) {
    if (name_eq(nm, nl, "Array")) {
      t->kind = KNIT_TYPE_ARRAY;
    } else if (name_eq(nm, nl, "ReadonlyArray")) {
      t->kind = KNIT_TYPE_ARRAY;
      t->flags |= KNIT_TYPE_READONLY;
    } else if (name_eq(nm, nl, "Set") || name_eq(nm, nl, "ReadonlySet")) {
      t->kind = KNIT_TYPE_SET;
    } else if (name_eq(nm, nl, "Promise") || name_eq(nm, nl, "PromiseLike")) {
      t->kind = KNIT_TYPE_PROMISE;
    }
  } else if (na == 2) {
    if (name_eq(nm, nl, "Map") || name_eq(nm, nl, "ReadonlyMap"))
      t->kind = KNIT_TYPE_MAP;
    else if (name_eq(nm, nl, "Record"))
      t->kind = KNIT_TYPE_RECORD;
  }
  if (t->kind != KNIT_TYPE_NAME) {
    t->name = NULL;
    t->name_len = 0;
  }
  return t;
}

static knit_type *parse_tuple(parser *p)
{
  size_t start = p->i;
  knit_type *t = node(p, KNIT_TYPE_TUPLE, start);
  if (!t)
    return NULL;
  p->i++; /* [ */
  list l = {0};
  while (!p->err && !is_punct(peek(p), ']')) {
    if (peek(p)->kind == TK_EOF)
      break;
    unsigned flags = 0;
    const char *label = NULL;
    size_t label_len = 0;
    if (accept(p, P_ELLIPSIS))
      flags |= KNIT_TYPE_REST;
    const tok *a = peek(p), *b = peek_at(p, 1), *c = peek_at(p, 2);
    if (a->kind == TK_IDENT && (is_punct(b, ':') || (is_punct(b, '?') && is_punct(c, ':')))) {
      label = p->s + a->off;
      label_len = a->len;
      p->i++;
      if (accept(p, '?'))
        flags |= KNIT_TYPE_OPTIONAL;
      p->i++; /* : */
    }
    knit_type *e = parse_type(p);
    if (!e)
      break;
    if (accept(p, '?'))
      flags |= KNIT_TYPE_OPTIONAL;
    e->flags |= flags;
    e->label = label;
    e->label_len = label_len;
    if (!list_push(p, &l, e) || !accept(p, ','))
      break;
  }
  if (p->err || !expect(p, ']')) {
    list_move(p, &l, NULL);
    return NULL;
  }
  if (!list_move(p, &l, t))
    return NULL;
  return finish(p, t);
}

/* True if the token can start an object type member key. */
static bool is_key(const tok *t)
{
  return t->kind == TK_IDENT || t->kind == TK_STR || t->kind == TK_NUM;
}

static knit_type *parse_object(parser *p)
{
  size_t start = p->i;
  /* mapped type: { [K in X]: V }, possibly with (+|-)readonly and ?-modifiers */
  size_t k = 1;
  if (is_punct(peek_at(p, k), '+') || is_punct(peek_at(p, k), '-'))
    k++;
  if (tok_is(p, peek_at(p, k), "readonly"))
    k++;
  if (is_punct(peek_at(p, k), '[') && peek_at(p, k + 1)->kind == TK_IDENT &&
      tok_is(p, peek_at(p, k + 2), "in")) {
    if (!skip_group(p))
      return NULL;
    return finish(p, node(p, KNIT_TYPE_OPAQUE, start));
  }

  knit_type *o = node(p, KNIT_TYPE_OBJECT, start);
  if (!o)
    return NULL;
  p->i++; /* { */
  list l = {0};
  while (!p->err) {
    while (accept(p, ';') || accept(p, ','))
      ;
    const tok *t = peek(p);
    if (is_punct(t, '}') || t->kind == TK_EOF)
      break;
    size_t mstart = p->i;
    unsigned flags = 0;
    if (tok_is(p, t, "readonly") && (is_key(peek_at(p, 1)) || is_punct(peek_at(p, 1), '['))) {
      flags |= KNIT_TYPE_READONLY;
      p->i++;
    }
    bool getter = false;
    if ((tok_is(p, peek(p), "get") || tok_is(p, peek(p), "set")) && is_key(peek_at(p, 1))) {
      getter = tok_is(p, peek(p), "get");
      if (!getter)
        flags |= KNIT_TYPE_METHOD; /* a setter only adds a function-ish member */
      p->i++;
    }
    const char *label = NULL;
    size_t label_len = 0;
    knit_type *m = NULL;
    t = peek(p);
    if (is_punct(t, '(') || is_punct(t, '<') || tok_is(p, t, "new")) {
      /* call or construct signature */
      knit_type *f = node(p, KNIT_TYPE_FUNCTION, mstart);
      if (!f)
        break;
      if (tok_is(p, peek(p), "new"))
        p->i++;
      if (is_punct(peek(p), '<') && !skip_group(p))
        break;
      list pl = {0};
      if (!parse_params(p, &pl)) {
        list_move(p, &pl, NULL);
        break;
      }
      if (accept(p, ':'))
        list_push(p, &pl, parse_type(p));
      else
        list_push(p, &pl, node(p, KNIT_TYPE_UNKNOWN, p->i) /* not written */);
      if (!list_move(p, &pl, f) || p->err)
        break;
      m = finish(p, f);
      m->flags |= KNIT_TYPE_METHOD;
    } else if (is_punct(t, '[')) {
      /* index signature [k: K]: V, or computed key [expr] */
      const tok *a = peek_at(p, 1), *b = peek_at(p, 2);
      if (a->kind == TK_IDENT && is_punct(b, ':')) {
        label = p->s + a->off;
        label_len = a->len;
        p->i += 3;
        if (!parse_type(p) || !expect(p, ']'))
          break;
        flags |= KNIT_TYPE_INDEX;
      } else {
        size_t open = p->i;
        if (!skip_group(p))
          break;
        label = p->s + p->t[open].off;
        label_len = p->t[p->i - 1].off + 1 - p->t[open].off;
      }
    } else if (is_key(t)) {
      label = p->s + t->off;
      label_len = t->len;
      p->i++;
    } else {
      fail(p, t->off, "expected a member of the object type");
      break;
    }
    if (!m) {
      if (accept(p, '?'))
        flags |= KNIT_TYPE_OPTIONAL;
      t = peek(p);
      if (is_punct(t, '(') || is_punct(t, '<')) {
        /* method signature */
        knit_type *f = node(p, KNIT_TYPE_FUNCTION, mstart);
        if (!f)
          break;
        if (is_punct(peek(p), '<') && !skip_group(p))
          break;
        list pl = {0};
        if (!parse_params(p, &pl)) {
          list_move(p, &pl, NULL);
          break;
        }
        if (accept(p, ':'))
          list_push(p, &pl, parse_type(p));
        else
          list_push(p, &pl, node(p, KNIT_TYPE_UNKNOWN, p->i) /* not written */);
        if (!list_move(p, &pl, f) || p->err || f->n_items == 0)
          break;
        if (getter) {
          m = f->items[f->n_items - 1]; /* a getter declares a property */
        } else {
          m = finish(p, f);
          flags |= KNIT_TYPE_METHOD;
        }
      } else if (accept(p, ':')) {
        m = parse_type(p);
      } else {
        m = node(p, KNIT_TYPE_UNKNOWN, p->i) /* not written */;
      }
    }
    if (!m)
      break;
    m->flags |= flags;
    m->label = label;
    m->label_len = label_len;
    if (!list_push(p, &l, m))
      break;
    t = peek(p);
    if (is_punct(t, ';') || is_punct(t, ',') || is_punct(t, '}'))
      continue;
    if (!t->nl) {
      fail(p, t->off, "expected ';' or '}' in the object type");
      break;
    }
  }
  if (p->err || !expect(p, '}')) {
    list_move(p, &l, NULL);
    return NULL;
  }
  if (!list_move(p, &l, o))
    return NULL;
  return finish(p, o);
}

static knit_type *parse_primary(parser *p)
{
  const tok *t = peek(p);
  size_t start = p->i;
  switch (t->kind) {
  case TK_EOF:
    fail(p, t->off, "expected a type");
    return NULL;
  case TK_STR:
  case TK_NUM: {
    knit_type *l = node(p, KNIT_TYPE_LITERAL, start);
    if (!l)
      return NULL;
    p->i++;
    l->name = l->text;
    l->name_len = t->len;
    return finish(p, l);
  }
  case TK_TEMPLATE:
    p->i++;
    return finish(p, node(p, KNIT_TYPE_OPAQUE, start));
  case TK_PUNCT:
    break;
  case TK_IDENT: {
    static const struct {
      const char *w;
      knit_type_kind k;
    } kw[] = {
      {"number", KNIT_TYPE_NUMBER}, {"boolean", KNIT_TYPE_BOOLEAN},
      {"bigint", KNIT_TYPE_BIGINT}, {"string", KNIT_TYPE_STRING},
      {"void", KNIT_TYPE_VOID},     {"undefined", KNIT_TYPE_VOID},
      {"null", KNIT_TYPE_NULL},     {"unknown", KNIT_TYPE_UNKNOWN},
      {"any", KNIT_TYPE_UNKNOWN},   {"never", KNIT_TYPE_NEVER},
      {"object", KNIT_TYPE_OBJECT_KW}, {"symbol", KNIT_TYPE_SYMBOL},
      {"true", KNIT_TYPE_LITERAL},  {"false", KNIT_TYPE_LITERAL},
    };
    const tok *nx = peek_at(p, 1);
    if (!is_punct(nx, '.')) {
      for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++) {
        if (tok_is(p, t, kw[k].w)) {
          knit_type *n = node(p, kw[k].k, start);
          if (!n)
            return NULL;
          p->i++;
          if (kw[k].k == KNIT_TYPE_LITERAL) {
            n->name = n->text;
            n->name_len = t->len;
          }
          return finish(p, n);
        }
      }
    }
    if (tok_is(p, t, "typeof")) {
      p->i++;
      if (tok_is(p, peek(p), "import"))
        goto import_type;
      if (peek(p)->kind != TK_IDENT) {
        fail(p, peek(p)->off, "expected a name after 'typeof'");
        return NULL;
      }
      knit_type *r = parse_reference(p);
      if (!r)
        return NULL;
      r->kind = KNIT_TYPE_OPAQUE;
      r->name = NULL;
      r->name_len = 0;
      r->items = NULL;
      r->n_items = 0;
      r->offset = t->off;
      r->text = p->s + t->off;
      return finish(p, r);
    }
    if (tok_is(p, t, "import") && is_punct(nx, '(')) {
    import_type:
      p->i++;
      if (!is_punct(peek(p), '(') || !skip_group(p)) {
        fail(p, peek(p)->off, "expected '(' after 'import'");
        return NULL;
      }
      while (is_punct(peek(p), '.') && peek_at(p, 1)->kind == TK_IDENT)
        p->i += 2;
      if (is_punct(peek(p), '<') && !skip_group(p))
        return NULL;
      return finish(p, node(p, KNIT_TYPE_OPAQUE, start));
    }
    if ((tok_is(p, t, "new") || tok_is(p, t, "abstract")) &&
        (is_punct(nx, '(') || is_punct(nx, '<') || tok_is(p, nx, "new")))
      return parse_function(p, start);
    if (tok_is(p, t, "asserts") && nx->kind == TK_IDENT && !nx->nl) {
      /* asserts x [is T] */
      p->i += 2;
      if (tok_is(p, peek(p), "is")) {
        p->i++;
        if (!parse_type(p))
          return NULL;
      }
      return finish(p, node(p, KNIT_TYPE_VOID, start));
    }
    if (tok_is(p, nx, "is") && !nx->nl) {
      /* type predicate x is T: a boolean */
      p->i += 2;
      if (!parse_type(p))
        return NULL;
      return finish(p, node(p, KNIT_TYPE_BOOLEAN, start));
    }
    if (tok_is(p, t, "this")) {
      p->i++;
      return finish(p, node(p, KNIT_TYPE_OPAQUE, start));
    }
    return parse_reference(p);
  }
  }

  switch (t->punct) {
  case '(': {
    size_t close = match_close(p, p->i);
    if (p->t[close].kind != TK_EOF && close + 1 < p->nt && is_punct(&p->t[close + 1], P_ARROW))
      return parse_function(p, start);
    p->i++;
    knit_type *inner = parse_type(p);
    if (!inner || !expect(p, ')'))
      return NULL;
    return inner;
  }
  case '<':
    return parse_function(p, start);
  case '[':
    return parse_tuple(p);
  case '{':
    return parse_object(p);
  case '-':
    if (peek_at(p, 1)->kind == TK_NUM) {
      knit_type *l = node(p, KNIT_TYPE_LITERAL, start);
      if (!l)
        return NULL;
      p->i += 2;
      finish(p, l);
      l->name = l->text;
      l->name_len = l->len;
      return l;
    }
    break;
  }
  fail(p, t->off, "expected a type");
  return NULL;
}

static knit_type *parse_postfix(parser *p)
{
  size_t start = p->i;
  knit_type *t = parse_primary(p);
  while (t && !p->err && is_punct(peek(p), '[') && !peek(p)->nl) {
    if (is_punct(peek_at(p, 1), ']')) {
      p->i += 2;
      knit_type *a = node(p, KNIT_TYPE_ARRAY, start);
      if (!a)
        return NULL;
      a->items = arena_alloc(p->tr, sizeof *a->items);
      if (!a->items) {
        oom(p);
        return NULL;
      }
      a->items[0] = t;
      a->n_items = 1;
      t = finish(p, a);
    } else {
      /* indexed access T[K] */
      p->i++;
      if (!parse_type(p) || !expect(p, ']'))
        return NULL;
      t = finish(p, node(p, KNIT_TYPE_OPAQUE, start));
    }
  }
  return t;
}

static knit_type *parse_operator(parser *p)
{
  const tok *t = peek(p);
  size_t start = p->i;
  if (t->kind == TK_IDENT) {
    const tok *nx = peek_at(p, 1);
    bool starts_type = nx->kind != TK_EOF && !is_punct(nx, ')') && !is_punct(nx, ']') &&
                       !is_punct(nx, ',') && !is_punct(nx, '>') && !is_punct(nx, '|') &&
                       !is_punct(nx, '&') && !is_punct(nx, ';') && !is_punct(nx, '}') &&
                       !is_punct(nx, '=') && !is_punct(nx, '?') && !is_punct(nx, ':') &&
                       !is_punct(nx, '.') && !is_punct(nx, '[') && !is_punct(nx, P_ARROW);
    if (tok_is(p, t, "readonly") && (starts_type || is_punct(nx, '['))) {
      p->i++;
      knit_type *inner = parse_operator(p);
      if (inner)
        inner->flags |= KNIT_TYPE_READONLY;
      return inner;
    }
    if (tok_is(p, t, "unique") && tok_is(p, nx, "symbol")) {
      p->i += 2;
      return finish(p, node(p, KNIT_TYPE_SYMBOL, start));
    }
    if (tok_is(p, t, "keyof") && starts_type) {
      p->i++;
      if (!parse_operator(p))
        return NULL;
      return finish(p, node(p, KNIT_TYPE_OPAQUE, start));
    }
    if (tok_is(p, t, "infer") && nx->kind == TK_IDENT) {
      p->i += 2;
      if (tok_is(p, peek(p), "extends")) {
        p->i++;
        if (!parse_operator(p))
          return NULL;
      }
      return finish(p, node(p, KNIT_TYPE_OPAQUE, start));
    }
  }
  return parse_postfix(p);
}

static knit_type *parse_list(parser *p, int sep, knit_type_kind kind,
                             knit_type *(*sub)(parser *))
{
  size_t start = p->i;
  accept(p, sep); /* leading | or & */
  knit_type *first = sub(p);
  if (!first || !is_punct(peek(p), sep))
    return first;
  knit_type *u = node(p, kind, start);
  list l = {0};
  list_push(p, &l, first);
  while (!p->err && accept(p, sep))
    if (!list_push(p, &l, sub(p)))
      break;
  if (p->err) {
    list_move(p, &l, NULL);
    return NULL;
  }
  if (!list_move(p, &l, u))
    return NULL;
  return finish(p, u);
}

static knit_type *parse_intersection(parser *p)
{
  return parse_list(p, '&', KNIT_TYPE_INTERSECTION, parse_operator);
}

static knit_type *parse_union(parser *p)
{
  return parse_list(p, '|', KNIT_TYPE_UNION, parse_intersection);
}

static knit_type *parse_type(parser *p)
{
  if (p->err)
    return NULL;
  if (++p->depth > KNIT_TYPE_MAX_DEPTH) {
    fail(p, peek(p)->off, "type nested too deeply");
    p->depth--;
    return NULL;
  }
  size_t start = p->i;
  knit_type *t = parse_union(p);
  if (t && !p->err && tok_is(p, peek(p), "extends")) {
    /* conditional type A extends B ? C : D */
    p->i++;
    if (parse_union(p) && expect(p, '?') && parse_type(p) && expect(p, ':') && parse_type(p))
      t = finish(p, node(p, KNIT_TYPE_OPAQUE, start));
    else
      t = NULL;
  }
  p->depth--;
  return p->err ? NULL : t;
}

KNIT_EXPORT int knit_type_parse(const char *text, size_t len, knit_type **out,
                                knit_type_error *err)
{
  if (out)
    *out = NULL;
  if (err) {
    err->offset = 0;
    err->message[0] = 0;
  }
  if (!out || (!text && len))
    return -EINVAL;
  tree *tr = calloc(1, sizeof *tr);
  if (!tr)
    return -ENOMEM;
  tr->text = malloc(len + 1);
  if (!tr->text) {
    free(tr);
    return -ENOMEM;
  }
  if (len)
    memcpy(tr->text, text, len);
  tr->text[len] = 0;

  toks ts = {0};
  int rc = tokenize(tr->text, len, &ts);
  parser p = {.tr = tr, .s = tr->text, .n = len, .t = ts.v, .nt = ts.n, .e = err};
  if (rc < 0) {
    oom(&p);
  } else if (ts.err_msg) {
    fail(&p, ts.err_off, "%s", ts.err_msg);
  } else {
    knit_type *t = parse_type(&p);
    if (t && !p.err && peek(&p)->kind != TK_EOF)
      fail(&p, peek(&p)->off, "unexpected text after the type");
    if (t && !p.err) {
      tr->root = *t;
      /* a parenthesised root keeps the inner span; widen to the whole text */
    }
  }
  free(ts.v);
  if (p.err) {
    knit_type_destroy(&tr->root);
    return p.err;
  }
  *out = &tr->root;
  return 0;
}

KNIT_EXPORT void knit_type_destroy(knit_type *root)
{
  if (!root)
    return;
  tree *tr = (tree *)root;
  chunk *c = tr->chunks;
  while (c) {
    chunk *next = c->next;
    free(c);
    c = next;
  }
  free(tr->text);
  free(tr);
}

/* ---- printing ----------------------------------------------------------------- */

typedef struct sbuf {
  char *buf;
  size_t size;
  size_t len; /* full length, may exceed size */
} sbuf;

static void put(sbuf *b, const char *s, size_t n)
{
  if (b->len < b->size) {
    size_t room = b->size - b->len;
    memcpy(b->buf + b->len, s, n < room ? n : room);
  }
  b->len += n;
}

static void puts_(sbuf *b, const char *s)
{
  put(b, s, strlen(s));
}

static void print_norm(sbuf *b, const char *s, size_t n);

static bool needs_parens(const knit_type *t)
{
  return t->kind == KNIT_TYPE_UNION || t->kind == KNIT_TYPE_INTERSECTION ||
         t->kind == KNIT_TYPE_FUNCTION ||
         (t->kind == KNIT_TYPE_OPAQUE && t->len > 0 && memchr(t->text, '?', t->len));
}

static void print_type(sbuf *b, const knit_type *t, int depth);

static void print_label(sbuf *b, const knit_type *t)
{
  if (t->label) {
    put(b, t->label, t->label_len);
    if (t->flags & KNIT_TYPE_OPTIONAL)
      puts_(b, "?");
    puts_(b, ": ");
  }
}

static void print_params(sbuf *b, const knit_type *f, int depth)
{
  puts_(b, "(");
  for (size_t k = 0; k + 1 < f->n_items; k++) {
    const knit_type *a = f->items[k];
    if (k)
      puts_(b, ", ");
    if (a->flags & KNIT_TYPE_REST)
      puts_(b, "...");
    if (a->label) {
      put(b, a->label, a->label_len);
      if (a->flags & KNIT_TYPE_OPTIONAL)
        puts_(b, "?");
      puts_(b, ": ");
    } else {
      puts_(b, "arg: ");
    }
    print_type(b, a, depth + 1);
  }
  puts_(b, ")");
}

static void print_type(sbuf *b, const knit_type *t, int depth)
{
  if (depth > KNIT_TYPE_MAX_DEPTH + 2) {
    puts_(b, "...");
    return;
  }
  switch (t->kind) {
  case KNIT_TYPE_ARRAY: {
    const knit_type *e = t->items[0];
    if (t->flags & KNIT_TYPE_READONLY)
      puts_(b, "readonly ");
    bool par = needs_parens(e) || (e->flags & KNIT_TYPE_READONLY);
    if (par)
      puts_(b, "(");
    print_type(b, e, depth + 1);
    if (par)
      puts_(b, ")");
    puts_(b, "[]");
    return;
  }
  case KNIT_TYPE_TUPLE:
    if (t->flags & KNIT_TYPE_READONLY)
      puts_(b, "readonly ");
    puts_(b, "[");
    for (size_t k = 0; k < t->n_items; k++) {
      const knit_type *e = t->items[k];
      if (k)
        puts_(b, ", ");
      if (e->flags & KNIT_TYPE_REST)
        puts_(b, "...");
      if (e->label) {
        print_label(b, e);
        print_type(b, e, depth + 1);
      } else {
        bool par = (e->flags & KNIT_TYPE_OPTIONAL) && needs_parens(e);
        if (par)
          puts_(b, "(");
        print_type(b, e, depth + 1);
        if (par)
          puts_(b, ")");
        if (e->flags & KNIT_TYPE_OPTIONAL)
          puts_(b, "?");
      }
    }
    puts_(b, "]");
    return;
  case KNIT_TYPE_OBJECT:
    if (t->n_items == 0) {
      puts_(b, "{}");
      return;
    }
    puts_(b, "{ ");
    for (size_t k = 0; k < t->n_items; k++) {
      const knit_type *m = t->items[k];
      if (k)
        puts_(b, "; ");
      if (m->flags & KNIT_TYPE_READONLY && m->kind != KNIT_TYPE_ARRAY && m->kind != KNIT_TYPE_TUPLE)
        puts_(b, "readonly ");
      if (m->flags & KNIT_TYPE_INDEX) {
        puts_(b, "[");
        put(b, m->label, m->label_len);
        puts_(b, ": string]: ");
      } else if (m->label) {
        put(b, m->label, m->label_len);
        if (m->flags & KNIT_TYPE_OPTIONAL)
          puts_(b, "?");
        puts_(b, ": ");
      } else if (m->kind == KNIT_TYPE_FUNCTION) {
        if (m->len >= 4 && memcmp(m->text, "new", 3) == 0 && !is_id_part((unsigned char)m->text[3]))
          puts_(b, "new ");
        print_params(b, m, depth);
        puts_(b, ": ");
        print_type(b, m->items[m->n_items - 1], depth + 1);
        continue;
      }
      print_type(b, m, depth + 1);
    }
    puts_(b, " }");
    return;
  case KNIT_TYPE_MAP:
  case KNIT_TYPE_SET:
  case KNIT_TYPE_RECORD:
  case KNIT_TYPE_PROMISE:
  case KNIT_TYPE_NAME:
    if (t->kind == KNIT_TYPE_MAP)
      puts_(b, "Map");
    else if (t->kind == KNIT_TYPE_SET)
      puts_(b, "Set");
    else if (t->kind == KNIT_TYPE_RECORD)
      puts_(b, "Record");
    else if (t->kind == KNIT_TYPE_PROMISE)
      puts_(b, "Promise");
    else
      put(b, t->name, t->name_len);
    if (t->n_items) {
      puts_(b, "<");
      for (size_t k = 0; k < t->n_items; k++) {
        if (k)
          puts_(b, ", ");
        print_type(b, t->items[k], depth + 1);
      }
      puts_(b, ">");
    }
    return;
  case KNIT_TYPE_UNION:
  case KNIT_TYPE_INTERSECTION:
    for (size_t k = 0; k < t->n_items; k++) {
      const knit_type *m = t->items[k];
      if (k)
        puts_(b, t->kind == KNIT_TYPE_UNION ? " | " : " & ");
      bool par = m->kind == KNIT_TYPE_FUNCTION || m->kind == KNIT_TYPE_UNION ||
                 m->kind == KNIT_TYPE_INTERSECTION;
      if (par)
        puts_(b, "(");
      print_type(b, m, depth + 1);
      if (par)
        puts_(b, ")");
    }
    return;
  case KNIT_TYPE_FUNCTION:
    if (t->n_items == 0) {
      print_norm(b, t->text, t->len);
      return;
    }
    print_params(b, t, depth);
    puts_(b, " => ");
    print_type(b, t->items[t->n_items - 1], depth + 1);
    return;
  case KNIT_TYPE_LITERAL:
    put(b, t->name, t->name_len);
    return;
  case KNIT_TYPE_SYMBOL:
    if (t->len >= 6 && memcmp(t->text, "unique", 6) == 0) {
      puts_(b, "unique symbol");
      return;
    }
    /* fall through */
  default:
    /* keywords, Date, Error, binary types, opaque parts: as written */
    if (t->len == 0) {
      puts_(b, "unknown"); /* a type that was not written */
      return;
    }
    print_norm(b, t->text, t->len);
    return;
  }
}

KNIT_EXPORT int knit_type_print(const knit_type *t, char *buf, size_t size)
{
  if (!t || (!buf && size))
    return -EINVAL;
  sbuf b = {buf, size, 0};
  print_type(&b, t, 0);
  if (size)
    buf[b.len < size ? b.len : size - 1] = 0;
  return b.len > INT32_MAX ? -E2BIG : (int)b.len;
}

/* ---- whitespace normalisation ----------------------------------------------------- */

static bool is_type_keyword(const char *s, size_t n)
{
  static const char *const kw[] = {"readonly", "keyof", "typeof", "unique", "infer", "extends",
                                   "in", "is", "asserts", "new", "abstract", "as"};
  for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
    if (name_eq(s, n, kw[k]))
      return true;
  return false;
}

static void print_norm(sbuf *b, const char *s, size_t n)
{
  toks ts = {0};
  if (tokenize(s, n, &ts) < 0) {
    free(ts.v);
    put(b, s, n); /* out of memory: as written */
    return;
  }
  /* bracket stack: the opener, and the count of conditional '?' pending */
  enum { STACK = 64 };
  char open[STACK];
  int condq[STACK];
  int sp = 0;
  open[0] = 0;
  condq[0] = 0;
  const tok *a = NULL;
  for (size_t k = 0; k + 1 < ts.n; k++) {
    const tok *t = &ts.v[k];
    int bp = t->kind == TK_PUNCT ? t->punct : 0;
    int ap = a && a->kind == TK_PUNCT ? a->punct : 0;
    const char *sep = "";
    int top = sp < STACK ? open[sp] : '{';
    if (!a) {
      sep = "";
    } else if (t->nl && top == '{' && !(ap == '{' || ap == ';' || ap == ',' || ap == '|' ||
                                        ap == '&' || ap == ':' || ap == P_ARROW || ap == '(' ||
                                        ap == '[' || ap == '<' || ap == '?' || ap == '=' ||
                                        ap == '.' || ap == P_ELLIPSIS || ap == '-' || ap == '+') &&
               !(bp == '}' || bp == '|' || bp == '&' || bp == ';' || bp == ',' || bp == ')' ||
                 bp == ']' || bp == '>' || bp == P_ARROW || bp == '.' || bp == '?' || bp == ':' ||
                 bp == '=' || bp == '<') &&
               !(a->kind == TK_IDENT && is_type_keyword(s + a->off, a->len))) {
      sep = "; ";
    } else if (ap == '(' || ap == '[' || ap == '<' || ap == P_ELLIPSIS || ap == '.') {
      sep = "";
    } else if (bp == ')' || bp == ']' || bp == '>' || bp == ',' || bp == ';' || bp == '.') {
      sep = "";
    } else if ((bp == '[' || bp == '<') &&
               ((a->kind == TK_IDENT && !is_type_keyword(s + a->off, a->len)) || ap == ']' ||
                ap == ')' || ap == '>')) {
      sep = "";
    } else if (bp == ':' && !(sp < STACK && condq[sp] > 0)) {
      sep = "";
    } else if (bp == ':') {
      condq[sp]--;
      sep = " ";
    } else if (bp == '?') {
      if (t->gap) {
        if (sp < STACK)
          condq[sp]++;
        sep = " ";
      }
    } else if (ap == '{') {
      sep = bp == '}' ? "" : " "; /* empty braces print "{}" */
    } else if (bp == '}' && ap != '{') {
      sep = " ";
    } else if (ap == ',' || ap == ';' || ap == ':' || ap == '|' || ap == '&' || ap == P_ARROW ||
               bp == '|' || bp == '&' || bp == P_ARROW) {
      sep = " ";
      if ((ap == '|' || ap == '&') && !t->gap && bp == P_ELLIPSIS)
        sep = "";
    } else {
      sep = t->gap ? " " : "";
    }
    /* a leading | or & right after an opener or at the start stays tight */
    if (a && (bp == '|' || bp == '&') && (ap == '(' || ap == '[' || ap == '<'))
      sep = "";
    puts_(b, sep);
    put(b, s + t->off, t->len);
    if (bp == '(' || bp == '[' || bp == '{' || bp == '<') {
      sp++;
      if (sp < STACK) {
        open[sp] = (char)bp;
        condq[sp] = 0;
      }
    } else if ((bp == ')' || bp == ']' || bp == '}' || bp == '>') && sp > 0) {
      sp--;
    }
    a = t;
  }
  free(ts.v);
}

KNIT_EXPORT int knit_type_normalize(const char *text, size_t len, char *buf, size_t size)
{
  if ((!text && len) || (!buf && size))
    return -EINVAL;
  sbuf b = {buf, size, 0};
  print_norm(&b, text ? text : "", len);
  if (size)
    buf[b.len < size ? b.len : size - 1] = 0;
  return b.len > INT32_MAX ? -E2BIG : (int)b.len;
}

/* ---- carryability ------------------------------------------------------------------ */

typedef struct carry {
  knit_type_resolver resolve;
  void *ctx;
  const knit_type *stack[KNIT_TYPE_MAX_DEPTH]; /* aliases being checked */
  int sp;
  const knit_type **where;
  char *why;
  size_t why_size;
} carry;

static int not_carryable(carry *c, const knit_type *t, const char *fmt, ...)
{
  if (c->where)
    *c->where = t;
  if (c->why && c->why_size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, c->why_size, fmt, ap);
    va_end(ap);
  }
  return 0;
}

static const char *const opaque_builtins[] = {
  "Partial", "Required", "Readonly", "Pick", "Omit", "NonNullable", "Exclude",
  "Extract", "Uppercase", "Lowercase", "Capitalize", "Uncapitalize",
};

/* Utility types whose type arguments are not what travels (ReturnType<typeof
 * f> names a function, but the value is its result): the generic codec
 * carries them unchecked. */
static const char *const unchecked_builtins[] = {
  "ReturnType", "Parameters", "InstanceType", "ConstructorParameters", "ThisParameterType",
  "OmitThisParameter",
};

static const char *const refused_builtins[] = {
  "Function", "CallableFunction", "NewableFunction", "WeakMap", "WeakSet", "WeakRef",
  "FinalizationRegistry", "RegExp", "Generator", "AsyncGenerator", "Iterator",
  "IterableIterator", "AsyncIterator", "AsyncIterableIterator", "Iterable", "AsyncIterable",
  "SharedArrayBuffer", "Proxy", "Worker", "MessagePort", "ReadableStream", "WritableStream",
};

/* Prefixes the reason with the member path as the recursion unwinds. */
static int in_member(carry *c, const knit_type *m, const char *what)
{
  if (c->why && c->why_size) {
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", c->why);
    if (m->label)
      snprintf(c->why, c->why_size, "%s '%.*s': %s", what, (int)(m->label_len > 60 ? 60 : m->label_len),
               m->label, tmp);
  }
  return 0;
}

static int check_alias(carry *c, const knit_type *ref, const knit_type *target, unsigned flags,
                       int depth);

static int check(carry *c, const knit_type *t, unsigned flags, int depth)
{
  if (depth > KNIT_TYPE_MAX_DEPTH * 4)
    return 1; /* deep but finite: assume fine rather than recurse on */
  switch (t->kind) {
  case KNIT_TYPE_NUMBER:
  case KNIT_TYPE_BOOLEAN:
  case KNIT_TYPE_BIGINT:
  case KNIT_TYPE_STRING:
  case KNIT_TYPE_VOID:
  case KNIT_TYPE_NULL:
  case KNIT_TYPE_UNKNOWN:
  case KNIT_TYPE_NEVER:
  case KNIT_TYPE_OBJECT_KW:
  case KNIT_TYPE_DATE:
  case KNIT_TYPE_ERROR:
  case KNIT_TYPE_BINARY:
  case KNIT_TYPE_LITERAL:
  case KNIT_TYPE_OPAQUE:
    return 1;
  case KNIT_TYPE_SYMBOL:
    return not_carryable(c, t, "'symbol' cannot be carried (only registered symbols travel, "
                               "and a type cannot say which)");
  case KNIT_TYPE_FUNCTION:
    return not_carryable(c, t, "a function cannot be carried to another thread");
  case KNIT_TYPE_PROMISE:
    if (flags & KNIT_CARRY_RESULT)
      return check(c, t->items[0], 0, depth + 1);
    return not_carryable(c, t, "a Promise can only be a task's result");
  case KNIT_TYPE_OBJECT:
    for (size_t k = 0; k < t->n_items; k++) {
      const knit_type *m = t->items[k];
      if (m->flags & KNIT_TYPE_METHOD) {
        not_carryable(c, m, "a function cannot be carried to another thread");
        return in_member(c, m, "method");
      }
      if (!check(c, m, 0, depth + 1))
        return in_member(c, m, "property");
    }
    return 1;
  case KNIT_TYPE_TUPLE:
    for (size_t k = 0; k < t->n_items; k++)
      if (!check(c, t->items[k], 0, depth + 1))
        return t->items[k]->label ? in_member(c, t->items[k], "element") : 0;
    return 1;
  case KNIT_TYPE_ARRAY:
  case KNIT_TYPE_MAP:
  case KNIT_TYPE_SET:
  case KNIT_TYPE_RECORD:
  case KNIT_TYPE_UNION:
  case KNIT_TYPE_INTERSECTION:
    for (size_t k = 0; k < t->n_items; k++)
      if (!check(c, t->items[k], 0, depth + 1))
        return 0;
    return 1;
  case KNIT_TYPE_NAME:
    break;
  }

  /* a named reference */
  const knit_type *target = NULL;
  knit_ref r = c->resolve ? c->resolve(c->ctx, t->name, t->name_len, &target) : KNIT_REF_UNKNOWN;
  int nl = (int)(t->name_len > 80 ? 80 : t->name_len);
  switch (r) {
  case KNIT_REF_ALIAS:
    if (target && !check_alias(c, t, target, flags, depth))
      return 0;
    break;
  case KNIT_REF_OPAQUE:
  case KNIT_REF_PARAM:
    break;
  case KNIT_REF_CLASS:
    return not_carryable(c, t, "'%.*s' is a class: its instances lose their prototype and "
                               "methods on the way; use a plain object type", nl, t->name);
  case KNIT_REF_UNKNOWN: {
    for (size_t k = 0; k < sizeof refused_builtins / sizeof refused_builtins[0]; k++)
      if (name_eq(t->name, t->name_len, refused_builtins[k]))
        return not_carryable(c, t, "'%.*s' cannot be carried to another thread", nl, t->name);
    for (size_t k = 0; k < sizeof unchecked_builtins / sizeof unchecked_builtins[0]; k++)
      if (name_eq(t->name, t->name_len, unchecked_builtins[k]))
        return 1;
    if (name_eq(t->name, t->name_len, "Awaited")) /* unwraps a Promise, as a result does */
      return t->n_items ? check(c, t->items[0], KNIT_CARRY_RESULT, depth + 1) : 1;
    if (name_eq(t->name, t->name_len, "Float16Array"))
      return not_carryable(c, t, "'Float16Array' cannot be carried: the codec has no float16 "
                                 "arrays (use Float32Array)");
    if (name_eq(t->name, t->name_len, "Blob") || name_eq(t->name, t->name_len, "File"))
      return not_carryable(c, t, "'%.*s' cannot be carried to another thread (send its bytes "
                                 "as an ArrayBuffer or Uint8Array)", nl, t->name);
    bool known = false;
    for (size_t k = 0; k < sizeof opaque_builtins / sizeof opaque_builtins[0]; k++)
      if (name_eq(t->name, t->name_len, opaque_builtins[k]))
        known = true;
    if (!known)
      return not_carryable(c, t, "unknown type '%.*s' (declare it in the module, or import it)",
                           nl, t->name);
    break;
  }
  }
  for (size_t k = 0; k < t->n_items; k++)
    if (!check(c, t->items[k], 0, depth + 1))
      return 0;
  return 1;
}

/* Checks the target of alias reference @ref; on failure the reason names the
 * alias and *where becomes @ref, which lies in the tree the caller passed. */
static int check_alias(carry *c, const knit_type *ref, const knit_type *target, unsigned flags,
                       int depth)
{
  for (int k = 0; k < c->sp; k++)
    if (c->stack[k] == target)
      return 1; /* recursive alias: already being checked */
  if (c->sp == KNIT_TYPE_MAX_DEPTH)
    return 1;
  c->stack[c->sp++] = target;
  int ok = check(c, target, flags, depth + 1);
  c->sp--;
  if (!ok) {
    if (c->why && c->why_size) {
      char tmp[256];
      snprintf(tmp, sizeof tmp, "%s", c->why);
      snprintf(c->why, c->why_size, "in '%.*s': %s", (int)(ref->name_len > 80 ? 80 : ref->name_len),
               ref->name, tmp);
    }
    if (c->where)
      *c->where = ref;
  }
  return ok;
}

KNIT_EXPORT int knit_type_carryable(const knit_type *t, unsigned flags,
                                    knit_type_resolver resolve, void *ctx,
                                    const knit_type **where, char *why, size_t why_size)
{
  if (where)
    *where = NULL;
  if (why && why_size)
    why[0] = 0;
  if (!t)
    return -EINVAL;
  carry c = {.resolve = resolve, .ctx = ctx, .where = where, .why = why, .why_size = why_size};
  return check(&c, t, flags, 0);
}

/* ---- codecs and C types -------------------------------------------------------------- */

KNIT_EXPORT knit_codec knit_type_codec(const knit_type *t)
{
  if (!t)
    return KNIT_CODEC_ANY;
  switch (t->kind) {
  case KNIT_TYPE_NUMBER:
    return KNIT_CODEC_F64;
  case KNIT_TYPE_STRING:
    return KNIT_CODEC_STR;
  case KNIT_TYPE_BOOLEAN:
    return KNIT_CODEC_BOOL;
  case KNIT_TYPE_BIGINT:
    return KNIT_CODEC_BIGINT;
  case KNIT_TYPE_BINARY:
    return t->tag == KNIT_T_UINT8 ? KNIT_CODEC_BYTES
           : t->tag == KNIT_T_FLOAT64 ? KNIT_CODEC_F64S
                                      : KNIT_CODEC_ANY;
  case KNIT_TYPE_PROMISE:
    return knit_type_codec(t->items[0]);
  default:
    return KNIT_CODEC_ANY;
  }
}

KNIT_EXPORT const char *knit_codec_name(knit_codec codec)
{
  switch (codec) {
  case KNIT_CODEC_F64:
    return "f64";
  case KNIT_CODEC_STR:
    return "str";
  case KNIT_CODEC_BOOL:
    return "bool";
  case KNIT_CODEC_BIGINT:
    return "bigint";
  case KNIT_CODEC_BYTES:
    return "bytes";
  case KNIT_CODEC_F64S:
    return "f64s";
  default:
    return "any";
  }
}

KNIT_EXPORT knit_ctype knit_type_ctype(const knit_type *t)
{
  if (!t)
    return KNIT_C_NONE;
  switch (t->kind) {
  case KNIT_TYPE_NUMBER:
    return KNIT_C_DOUBLE;
  case KNIT_TYPE_BOOLEAN:
    return KNIT_C_BOOL;
  case KNIT_TYPE_BIGINT:
    return KNIT_C_INT64;
  case KNIT_TYPE_STRING:
    return KNIT_C_STR;
  case KNIT_TYPE_VOID:
    return KNIT_C_VOID;
  case KNIT_TYPE_BINARY:
    switch (t->tag) {
    case KNIT_T_UINT8:
    case KNIT_T_ARRAYBUFFER:
      return KNIT_C_BYTES;
    case KNIT_T_FLOAT64:
      return KNIT_C_F64S;
    case KNIT_T_INT32:
      return KNIT_C_I32S;
    default:
      return KNIT_C_NONE;
    }
  case KNIT_TYPE_OBJECT:
    for (size_t k = 0; k < t->n_items; k++) {
      const knit_type *m = t->items[k];
      knit_ctype mc = knit_type_ctype(m);
      if ((m->flags & (KNIT_TYPE_METHOD | KNIT_TYPE_INDEX | KNIT_TYPE_OPTIONAL)) || !m->label ||
          mc == KNIT_C_NONE || mc == KNIT_C_VOID || mc == KNIT_C_TUPLE)
        return KNIT_C_NONE;
    }
    return t->n_items ? KNIT_C_STRUCT : KNIT_C_NONE;
  case KNIT_TYPE_TUPLE:
    return KNIT_C_TUPLE;
  case KNIT_TYPE_PROMISE:
    return knit_type_ctype(t->items[0]);
  default:
    return KNIT_C_NONE;
  }
}

KNIT_EXPORT const char *knit_ctype_name(knit_ctype c)
{
  switch (c) {
  case KNIT_C_VOID:
    return "void";
  case KNIT_C_DOUBLE:
    return "double";
  case KNIT_C_BOOL:
    return "bool";
  case KNIT_C_INT64:
    return "int64_t";
  case KNIT_C_STR:
    return "knit_str";
  case KNIT_C_BYTES:
    return "knit_bytes";
  case KNIT_C_F64S:
    return "knit_f64s";
  case KNIT_C_I32S:
    return "knit_i32s";
  default:
    return NULL;
  }
}

KNIT_EXPORT int knit_type_c_params(const knit_type *arg, knit_ctype *out,
                                   const knit_type **types, size_t max)
{
  if (!arg || (!out && max))
    return -EINVAL;
  knit_ctype c = knit_type_ctype(arg);
  if (c == KNIT_C_VOID)
    return 0;
  if (c != KNIT_C_TUPLE) {
    if (c == KNIT_C_NONE)
      return -ENOTSUP;
    if (max < 1)
      return -E2BIG;
    out[0] = c;
    if (types)
      types[0] = arg;
    return 1;
  }
  if (arg->n_items > max)
    return -E2BIG;
  for (size_t k = 0; k < arg->n_items; k++) {
    const knit_type *e = arg->items[k];
    knit_ctype ec = knit_type_ctype(e);
    if (ec == KNIT_C_NONE || ec == KNIT_C_VOID || ec == KNIT_C_TUPLE ||
        (e->flags & (KNIT_TYPE_OPTIONAL | KNIT_TYPE_REST)))
      return -ENOTSUP;
    out[k] = ec;
    if (types)
      types[k] = e;
  }
  return (int)arg->n_items;
}

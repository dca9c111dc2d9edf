/* lexer.re: the TypeScript lexer of knitgen, turned into C by re2c at build
 * time (knitgen/meson.build). Input: a NUL-terminated buffer; the NUL at
 * data[size] is the sentinel, and re2c's bounds checks (re2c:eof) let NUL
 * bytes inside the text through as ordinary characters.
 *
 * TypeScript cannot be tokenized by a context-free DFA alone, so the DFA is
 * driven by a little state:
 *   - a frame stack: `{` in code, `${` of a template (the matching `}`
 *     resumes the template text), and the JSX states (tsx only);
 *   - the previous significant token, which decides whether `/` starts a
 *     regular expression or divides, and whether `<` starts JSX;
 *   - the open parentheses, marked when they hold the head of `if`, `while`,
 *     `for` or `with`: after such a `)` a statement, so a regex, starts.
 * Template text, regex bodies and JSX text are scanned by small C loops; the
 * code tokens by the re2c DFA below.
 */
/*!include:re2c "kg.h" */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum frame_kind {
  F_BRACE,      /* `{` in code */
  F_SUBST,      /* `${` in a template; off = the template's backtick */
  F_JSX_ATTR,   /* `{` inside a JSX tag; `}` returns to the tag */
  F_JSX_CHILD,  /* `{` among JSX children; `}` returns to the children */
  F_JSX_TAG,    /* inside `<name attrs...`; off = the element's `<` */
  F_JSX_KIDS,   /* between `<name ...>` and `</name>` */
};

typedef struct frame {
  uint8_t kind;
  uint32_t off;
} frame;

/* What an open `(` holds: a statement head, so `)` is followed by a
 * statement (`if (x) /re/.test(s)`), or, for `for`, also `of`. */
enum paren_kind { P_EXPR, P_HEAD, P_FOR };

/* Parentheses nested deeper than this are all taken as P_EXPR. */
#define MAX_PARENS 256

typedef struct lexer {
  kg_file *f;
  kg_diags *d;
  const char *base, *cur, *lim, *tok, *mar, *ctx;
  uint32_t line;
  const char *line_start;
  bool nl;             /* a line break since the last token */
  frame *stack;
  size_t sp, cap;
  int err;             /* -ENOMEM */
  /* previous significant token, for `/` and `<` */
  uint16_t prev_kind, prev_punct;
  bool prev_regex_kw;  /* a keyword after which an expression starts */
  bool prev_after_dot; /* the previous token followed `.`: a property name */
  bool prev_operand;   /* the previous token ends an operand: `x! / 2` divides */
  uint8_t prev_head;   /* P_HEAD/P_FOR: `if`/`while`/`with` or `for` (+ `await`);
                        * for a `)`, what its `(` held */
  uint8_t parens[MAX_PARENS];
  uint32_t nparens;
} lexer;

/* Counts the line breaks inside a token (they do not set l->nl: that flag
 * says whether a break precedes the token). */
static void count_inner(lexer *l, const char *from, const char *to)
{
  const char *p = from;
  while (p < to && (p = memchr(p, '\n', (size_t)(to - p))) != NULL) {
    l->line++;
    l->line_start = ++p;
  }
}

/* Counts the line breaks in skipped text (comments): they separate tokens. */
static void count_lines(lexer *l, const char *from, const char *to)
{
  const char *p = from;
  while (p < to && (p = memchr(p, '\n', (size_t)(to - p))) != NULL) {
    l->line++;
    l->line_start = ++p;
    l->nl = true;
  }
}

static bool push_frame(lexer *l, int kind, const char *at)
{
  if (l->sp == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 32;
    frame *s = realloc(l->stack, cap * sizeof *s);
    if (!s) {
      l->err = -ENOMEM;
      return false;
    }
    l->stack = s;
    l->cap = cap;
  }
  l->stack[l->sp].kind = (uint8_t)kind;
  l->stack[l->sp].off = (uint32_t)(at - l->base);
  l->sp++;
  return true;
}

static int top_kind(const lexer *l)
{
  return l->sp ? l->stack[l->sp - 1].kind : -1;
}

static bool word_is(const char *s, size_t n, const char *w)
{
  return strlen(w) == n && memcmp(w, s, n) == 0;
}

/* `of` is not here: it is a keyword only in a `for (` head (see emit_at),
 * elsewhere an identifier (`of / 2`). */
static bool is_regex_keyword(const char *s, size_t n)
{
  static const char *const kw[] = {"return", "typeof", "instanceof", "in", "new", "delete",
                                   "void", "throw", "case", "do", "else", "yield", "await",
                                   "extends", "default"};
  for (size_t k = 0; k < sizeof kw / sizeof kw[0]; k++)
    if (word_is(s, n, kw[k]))
      return true;
  return false;
}

/* The statement-head keyword that identifier [s, s+n) is, if any. */
static uint8_t head_keyword(const lexer *l, const char *s, size_t n)
{
  if (word_is(s, n, "for"))
    return P_FOR;
  if (word_is(s, n, "if") || word_is(s, n, "while") || word_is(s, n, "with"))
    return P_HEAD;
  if (word_is(s, n, "await") && l->prev_kind == KG_T_IDENT)
    return l->prev_head; /* for await ( */
  return P_EXPR;
}

/* Does a token of @kind/@punct end an operand, so that a `!` right after it
 * (no line break between) is the non-null assertion, not a negation? */
static bool ends_operand(const lexer *l)
{
  switch (l->prev_kind) {
  case KG_T_IDENT:
    return !l->prev_regex_kw;
  case KG_T_PRIVATE:
  case KG_T_STRING:
  case KG_T_NUMBER:
  case KG_T_BIGINT:
  case KG_T_TEMPLATE:
  case KG_T_TPL_TAIL:
  case KG_T_REGEX:
    return true;
  case KG_T_PUNCT:
    return l->prev_punct == ')' || l->prev_punct == ']' || l->prev_operand;
  default:
    return false;
  }
}

/* Tracks the open parentheses; returns what a `)` closes. */
static uint8_t track_paren(lexer *l, int punct)
{
  if (punct == '(') {
    if (l->nparens < MAX_PARENS)
      l->parens[l->nparens] = l->prev_kind == KG_T_IDENT ? l->prev_head : P_EXPR;
    l->nparens++;
    return P_EXPR;
  }
  if (punct == ')' && l->nparens) {
    l->nparens--;
    return l->nparens < MAX_PARENS ? l->parens[l->nparens] : P_EXPR;
  }
  return P_EXPR;
}

/* Appends the token [tok, cur) that started on line @line at @line_start. */
static void emit_at(lexer *l, int kind, int punct, uint32_t line, const char *line_start)
{
  kg_file *f = l->f;
  if (l->err)
    return;
  if (f->ntoks == f->cap) {
    size_t cap = f->cap ? f->cap * 2 : 1024;
    kg_token *v = realloc(f->toks, cap * sizeof *v);
    if (!v) {
      l->err = -ENOMEM;
      return;
    }
    f->toks = v;
    f->cap = cap;
  }
  kg_token *t = &f->toks[f->ntoks++];
  t->kind = (uint16_t)kind;
  t->punct = (uint16_t)punct;
  t->flags = l->nl ? KG_TF_NL : 0;
  t->off = (uint32_t)(l->tok - l->base);
  t->len = (uint32_t)(l->cur - l->tok);
  t->line = line;
  t->col = (uint32_t)(l->tok - line_start) + 1;
  l->nl = false;

  bool after_dot = l->prev_kind == KG_T_PUNCT && (l->prev_punct == '.' || l->prev_punct == KG_P_OPTCHAIN);
  /* a postfix `!` (TypeScript's non-null assertion) keeps the operand open */
  bool operand = kind == KG_T_PUNCT && punct == '!' && !(t->flags & KG_TF_NL) && ends_operand(l);
  uint8_t head = P_EXPR;
  if (kind == KG_T_PUNCT)
    head = track_paren(l, punct);
  else if (kind == KG_T_IDENT && !after_dot)
    head = head_keyword(l, l->tok, t->len);
  bool regex_kw = kind == KG_T_IDENT && !after_dot &&
                  (is_regex_keyword(l->tok, t->len) ||
                   (word_is(l->tok, t->len, "of") && l->nparens &&
                    l->nparens <= MAX_PARENS && l->parens[l->nparens - 1] == P_FOR));
  l->prev_kind = (uint16_t)kind;
  l->prev_punct = (uint16_t)punct;
  l->prev_after_dot = after_dot;
  l->prev_regex_kw = regex_kw;
  l->prev_operand = operand;
  l->prev_head = head;
}

static void emit(lexer *l, int kind, int punct)
{
  emit_at(l, kind, punct, l->line, l->line_start);
}

/* After the previous token, does an expression (and so a regex or JSX) start? */
static bool expr_expected(const lexer *l)
{
  switch (l->prev_kind) {
  case KG_T_EOF: /* nothing yet */
  case KG_T_TPL_HEAD:
  case KG_T_TPL_MIDDLE:
    return true;
  case KG_T_IDENT:
    return l->prev_regex_kw;
  case KG_T_PUNCT:
    if (l->prev_punct == ')')
      return l->prev_head != P_EXPR; /* if (x) /re/ */
    if (l->prev_punct == '!')
      return !l->prev_operand;
    return !(l->prev_punct == ']' || l->prev_punct == KG_P_INCDEC);
  default:
    return false;
  }
}

static void error_at(lexer *l, uint32_t off, const char *msg)
{
  kg_diag(l->d, KG_ERROR, l->f, off, "%s", msg);
}

/* The length of the Unicode space (U+FEFF, U+00A0, U+2028, U+2029) at @s,
 * or 0. The DFA skips these alone, but its `ident` rule is longer when an
 * identifier follows one, so the identifier's rule strips them. */
static size_t unicode_space(const char *s, const char *end)
{
  static const char *const sp[] = {"\xef\xbb\xbf", "\xc2\xa0", "\xe2\x80\xa8", "\xe2\x80\xa9"};
  for (size_t k = 0; k < sizeof sp / sizeof sp[0]; k++) {
    size_t n = strlen(sp[k]);
    if ((size_t)(end - s) > n && memcmp(s, sp[k], n) == 0)
      return n;
  }
  return 0;
}

static bool id_start(unsigned char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$' || c >= 0x80;
}

static bool id_part(unsigned char c)
{
  return id_start(c) || (c >= '0' && c <= '9');
}

/* Template text from l->cur (just after ` or the } closing a substitution)
 * to the closing ` or the next ${. @head: started at a backtick. */
static void lex_template(lexer *l, bool head, uint32_t open_off)
{
  uint32_t line = l->line;
  const char *ls = l->line_start;
  const char *p = l->cur;
  while (p < l->lim) {
    char c = *p;
    if (c == '`') {
      l->cur = p + 1;
      count_inner(l, l->tok, l->cur);
      emit_at(l, head ? KG_T_TEMPLATE : KG_T_TPL_TAIL, 0, line, ls);
      return;
    }
    if (c == '$' && p + 1 < l->lim && p[1] == '{') {
      l->cur = p + 2;
      count_inner(l, l->tok, l->cur);
      emit_at(l, head ? KG_T_TPL_HEAD : KG_T_TPL_MIDDLE, 0, line, ls);
      if (!push_frame(l, F_SUBST, l->base + open_off))
        return;
      return;
    }
    p += c == '\\' && p + 1 < l->lim ? 2 : 1;
  }
  error_at(l, open_off, "unterminated template literal");
  l->cur = l->lim;
  count_inner(l, l->tok, l->cur);
  emit_at(l, head ? KG_T_TEMPLATE : KG_T_TPL_TAIL, 0, line, ls);
}

/* A regex literal: l->tok points at the opening '/'. */
static void lex_regex(lexer *l)
{
  const char *p = l->tok + 1;
  bool cls = false;
  while (p < l->lim && *p != '\n' && *p != '\r') {
    char c = *p;
    if (c == '\\') {
      if (p + 1 < l->lim && p[1] != '\n')
        p++;
    } else if (c == '[') {
      cls = true;
    } else if (c == ']') {
      cls = false;
    } else if (c == '/' && !cls) {
      p++;
      while (p < l->lim && id_part((unsigned char)*p))
        p++;
      l->cur = p;
      emit(l, KG_T_REGEX, 0);
      return;
    }
    p++;
  }
  error_at(l, (uint32_t)(l->tok - l->base), "unterminated regular expression literal");
  l->cur = p;
  emit(l, KG_T_REGEX, 0);
}

/* In a .tsx file at an expression position, does `<` open a JSX element
 * rather than a generic parameter list (`<T,>`, `<T extends U>`, `<T>(`)? */
static bool jsx_starts(const lexer *l)
{
  const char *p = l->tok + 1;
  if (p < l->lim && *p == '>')
    return true; /* fragment */
  if (p >= l->lim || !id_start((unsigned char)*p))
    return false;
  while (p < l->lim && (id_part((unsigned char)*p) || *p == '-' || *p == '.' || *p == ':'))
    p++;
  const char *q = p;
  while (q < l->lim && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
    q++;
  if (q < l->lim && (*q == ',' || *q == '='))
    return false;
  if (q > p && (size_t)(l->lim - q) > 8 && memcmp(q, "extends", 7) == 0 &&
      !id_part((unsigned char)q[7]))
    return false;
  if (q < l->lim && *q == '>') {
    const char *r = q + 1;
    while (r < l->lim && (*r == ' ' || *r == '\t'))
      r++;
    if (r < l->lim && *r == '(')
      return false;
  }
  return true;
}

/* Skips blanks and comments inside a JSX tag. Returns false at the end. */
static bool jsx_skip_blank(lexer *l)
{
  for (;;) {
    const char *p = l->cur;
    if (p >= l->lim)
      return false;
    if (*p == '\n') {
      l->line++;
      l->line_start = p + 1;
      l->nl = true;
      l->cur = p + 1;
    } else if (*p == ' ' || *p == '\t' || *p == '\r') {
      l->cur = p + 1;
    } else if (*p == '/' && p + 1 < l->lim && p[1] == '/') {
      while (l->cur < l->lim && *l->cur != '\n')
        l->cur++;
    } else if (*p == '/' && p + 1 < l->lim && p[1] == '*') {
      const char *e = p + 2;
      while (e + 1 < l->lim && !(e[0] == '*' && e[1] == '/'))
        e++;
      if (e + 1 >= l->lim) {
        error_at(l, (uint32_t)(p - l->base), "unterminated comment");
        count_lines(l, p, l->lim);
        l->cur = l->lim;
        return false;
      }
      count_lines(l, p, e + 2);
      l->cur = e + 2;
    } else {
      return true;
    }
  }
}

/* One step inside a JSX tag (top frame F_JSX_TAG). */
static void lex_jsx_tag(lexer *l)
{
  frame *fr = &l->stack[l->sp - 1];
  if (!jsx_skip_blank(l)) {
    error_at(l, fr->off, "unterminated JSX element");
    l->sp--;
    return;
  }
  l->tok = l->cur;
  char c = *l->cur;
  if (c == '/' && l->cur + 1 < l->lim && l->cur[1] == '>') {
    l->cur += 2;
    emit(l, KG_T_JSX, 0);
    l->sp--; /* self-closing: the element is complete */
    return;
  }
  if (c == '>') {
    l->cur++;
    emit(l, KG_T_JSX, 0);
    fr->kind = F_JSX_KIDS;
    return;
  }
  if (c == '{') {
    l->cur++;
    emit(l, KG_T_PUNCT, '{');
    push_frame(l, F_JSX_ATTR, l->tok);
    return;
  }
  if (c == '"' || c == '\'') {
    const char *p = l->cur + 1;
    while (p < l->lim && *p != c)
      p++;
    if (p >= l->lim) {
      error_at(l, (uint32_t)(l->cur - l->base), "unterminated string");
      l->cur = l->lim;
    } else {
      l->cur = p + 1;
    }
    uint32_t line = l->line;
    const char *ls = l->line_start;
    count_inner(l, l->tok, l->cur);
    emit_at(l, KG_T_JSX, 0, line, ls);
    return;
  }
  if (c == '<') {
    /* `<` inside a tag, e.g. type arguments <Foo<T> ...>: skip it */
    l->cur++;
    emit(l, KG_T_JSX, 0);
    return;
  }
  /* names, '=', and anything else, one run at a time */
  const char *p = l->cur;
  while (p < l->lim && (id_part((unsigned char)*p) || *p == '-' || *p == ':' || *p == '.'))
    p++;
  l->cur = p > l->cur ? p : l->cur + 1;
  emit(l, KG_T_JSX, 0);
}

/* One step among JSX children (top frame F_JSX_KIDS). */
static void lex_jsx_kids(lexer *l)
{
  frame *fr = &l->stack[l->sp - 1];
  const char *p = l->cur;
  l->tok = p;
  uint32_t line = l->line;
  const char *ls = l->line_start;
  while (p < l->lim && *p != '{' && *p != '<')
    p++;
  if (p > l->cur) {
    l->cur = p;
    count_inner(l, l->tok, p);
    emit_at(l, KG_T_JSX, 0, line, ls);
    return;
  }
  if (p >= l->lim) {
    error_at(l, fr->off, "unterminated JSX element");
    l->sp--;
    return;
  }
  if (*p == '{') {
    l->cur = p + 1;
    emit(l, KG_T_PUNCT, '{');
    push_frame(l, F_JSX_CHILD, p);
    return;
  }
  /* '<': a closing tag or a nested element */
  const char *q = p + 1;
  while (q < l->lim && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
    q++;
  if (q < l->lim && *q == '/') {
    q++;
    while (q < l->lim && *q != '>' && *q != '<' && *q != '{')
      q++;
    if (q >= l->lim || *q != '>') {
      error_at(l, (uint32_t)(p - l->base), "unterminated JSX closing tag");
      l->cur = q;
    } else {
      l->cur = q + 1;
    }
    count_inner(l, p, l->cur);
    emit_at(l, KG_T_JSX, 0, line, ls);
    l->sp--; /* the element is complete */
    return;
  }
  l->cur = p + 1;
  emit(l, KG_T_JSX, 0);
  push_frame(l, F_JSX_TAG, p);
}

/* Handles `}` in code: closes a brace, resumes a template or JSX. */
static void close_brace(lexer *l)
{
  int k = top_kind(l);
  if (k == F_SUBST) {
    uint32_t open = l->stack[l->sp - 1].off;
    l->sp--;
    lex_template(l, false, open);
    return;
  }
  if (k == F_BRACE || k == F_JSX_ATTR || k == F_JSX_CHILD)
    l->sp--;
  emit(l, KG_T_PUNCT, '}');
}

/* One token in code. Returns false at the end of input. */
static bool lex_code(lexer *l)
{
  for (;;) {
    l->tok = l->cur;
    /*!re2c
      re2c:define:YYCTYPE = "unsigned char";
      re2c:define:YYCURSOR = "l->cur";
      re2c:define:YYMARKER = "l->mar";
      re2c:define:YYCTXMARKER = "l->ctx";
      re2c:define:YYLIMIT = "l->lim";
      re2c:yyfill:enable = 0;
      re2c:eof = 0;

      hex = [0-9a-fA-F];
      uesc = "\\u" (hex{4} | "{" hex+ "}");
      id_start = [a-zA-Z_$\x80-\xff] | uesc;
      id_part = id_start | [0-9];
      ident = id_start id_part*;
      dec = [0-9] [0-9_]*;
      exp = [eE] [+-]? [0-9] [0-9_]*;
      number = (dec ("." [0-9_]*)? | "." [0-9] [0-9_]*) exp?;
      radix = "0" ([xX] [0-9a-fA-F_]+ | [oO] [0-7_]+ | [bB] [01_]+);
      dq = ["] ([^"\\\n] | "\\" [^])*;
      sq = ['] ([^'\\\n] | "\\" [^])*;

      $ { return false; }

      "\n" { l->line++; l->line_start = l->cur; l->nl = true; continue; }
      [ \t\v\f\r]+ | "\xef\xbb\xbf" | "\xc2\xa0" | "\xe2\x80\xa8" | "\xe2\x80\xa9" { continue; }

      "//" [^\n]* { continue; }
      "/*" ([^*] | "*"+ [^*/])* "*"+ "/" { count_lines(l, l->tok, l->cur); continue; }
      "/*" {
        error_at(l, (uint32_t)(l->tok - l->base), "unterminated comment");
        l->cur = l->lim;
        count_lines(l, l->tok, l->cur);
        continue;
      }

      dq ["] | sq ['] {
        uint32_t line = l->line;
        const char *ls = l->line_start;
        count_inner(l, l->tok, l->cur); /* line continuations */
        emit_at(l, KG_T_STRING, 0, line, ls);
        return true;
      }
      dq | sq {
        error_at(l, (uint32_t)(l->tok - l->base), "unterminated string literal");
        uint32_t line = l->line;
        const char *ls = l->line_start;
        count_inner(l, l->tok, l->cur);
        emit_at(l, KG_T_STRING, 0, line, ls);
        return true;
      }

      "`" { lex_template(l, true, (uint32_t)(l->tok - l->base)); return true; }

      (dec | radix) "n" { emit(l, KG_T_BIGINT, 0); return true; }
      number | radix { emit(l, KG_T_NUMBER, 0); return true; }

      ident {
        size_t sp = unicode_space(l->tok, l->cur);
        if (sp) {
          l->cur = l->tok + sp; /* `id_start` has every byte >= 0x80 */
          continue;
        }
        emit(l, KG_T_IDENT, 0);
        return true;
      }
      "#" ident { emit(l, KG_T_PRIVATE, 0); return true; }
      "#!" [^\n]* {
        if (l->tok == l->base + kg_file_bom(l->f))
          continue; /* hashbang line */
        l->cur = l->tok + 1;
        emit(l, KG_T_PUNCT, '#');
        return true;
      }

      "/" | "/=" {
        if (expr_expected(l)) {
          lex_regex(l);
        } else {
          emit(l, KG_T_PUNCT, l->cur - l->tok == 1 ? '/' : KG_P_OTHER);
        }
        return true;
      }

      "{" {
        emit(l, KG_T_PUNCT, '{');
        push_frame(l, F_BRACE, l->tok);
        return true;
      }
      "}" { close_brace(l); return true; }

      "<" {
        if (l->f->tsx && expr_expected(l) && jsx_starts(l)) {
          emit(l, KG_T_JSX, 0);
          push_frame(l, F_JSX_TAG, l->tok);
        } else {
          emit(l, KG_T_PUNCT, '<');
        }
        return true;
      }

      "=>" { emit(l, KG_T_PUNCT, KG_P_ARROW); return true; }
      "..." { emit(l, KG_T_PUNCT, KG_P_ELLIPSIS); return true; }
      "?." / [^0-9] { emit(l, KG_T_PUNCT, KG_P_OPTCHAIN); return true; }
      "++" | "--" { emit(l, KG_T_PUNCT, KG_P_INCDEC); return true; }
      "==" | "!=" | "===" | "!==" | "&&" | "||" | "??" | "**" | "+=" | "-=" | "*="
        | "%=" | "&=" | "|=" | "^=" | "&&=" | "||=" | "??=" | "**=" {
        emit(l, KG_T_PUNCT, KG_P_OTHER);
        return true;
      }
      [()[\];,>+\-*%&|^!~?:=@.\\#] {
        emit(l, KG_T_PUNCT, (unsigned char)*l->tok);
        return true;
      }
      * { emit(l, KG_T_PUNCT, (unsigned char)*l->tok); return true; }
    */
  }
}

int kg_lex(kg_file *f, kg_diags *d)
{
  lexer l = {0};
  l.f = f;
  l.d = d;
  l.base = f->data;
  /* A leading byte order mark is not text: columns on line 1 start after it. */
  l.cur = f->data + kg_file_bom(f);
  l.lim = f->data + f->size;
  l.line = 1;
  l.line_start = l.cur;
  l.prev_kind = KG_T_EOF;
  f->ntoks = 0;

  for (;;) {
    if (l.err)
      break;
    int k = top_kind(&l);
    if (k == F_JSX_TAG) {
      lex_jsx_tag(&l);
    } else if (k == F_JSX_KIDS) {
      lex_jsx_kids(&l);
    } else if (!lex_code(&l)) {
      break;
    }
  }
  /* open templates and JSX elements at the end: report the outermost */
  for (size_t k = 0; k < l.sp && !l.err; k++) {
    if (l.stack[k].kind == F_SUBST) {
      error_at(&l, l.stack[k].off, "unterminated template literal");
      break;
    }
    if (l.stack[k].kind == F_JSX_TAG || l.stack[k].kind == F_JSX_KIDS) {
      error_at(&l, l.stack[k].off, "unterminated JSX element");
      break;
    }
  }
  free(l.stack);
  l.tok = l.cur = l.lim;
  emit(&l, KG_T_EOF, 0);
  f->lexed = true;
  return l.err;
}

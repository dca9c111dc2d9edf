/* package_deps.c: the npm packages a --package package depends on besides
 * knitting: every package the compiled modules (DIR/lib) import, with the
 * version range the project's own package.json gives it. Both are read with
 * knitgen's lexer (JSON is JavaScript as far as tokens go). */
#include "kg.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct dep {
  char *name;
  char *range; /* from package.json; NULL until found */
  int rank;    /* which field gave it: lower wins */
} dep;

typedef struct deps {
  dep *v;
  size_t n, cap;
  int err;
} deps;

/* Node's built-in modules, which resolve without the node: prefix too. */
static const char *const builtins[] = {
  "assert", "async_hooks", "buffer", "child_process", "cluster", "console", "constants",
  "crypto", "dgram", "diagnostics_channel", "dns", "domain", "events", "fs", "http", "http2",
  "https", "inspector", "module", "net", "os", "path", "perf_hooks", "process", "punycode",
  "querystring", "readline", "repl", "stream", "string_decoder", "sys", "timers", "tls",
  "trace_events", "tty", "url", "util", "v8", "vm", "wasi", "worker_threads", "zlib",
};

static dep *find(deps *ds, const char *name, size_t n)
{
  for (size_t k = 0; k < ds->n; k++)
    if (strlen(ds->v[k].name) == n && !memcmp(ds->v[k].name, name, n))
      return &ds->v[k];
  return NULL;
}

/* Records the package a bare specifier names (`pkg/sub` -> pkg,
 * `@scope/pkg/sub` -> @scope/pkg); relative paths, URLs and schemes
 * (node:, bun:, npm:, jsr:, file:) are not packages of the tarball. */
static void add_specifier(deps *ds, const char *s)
{
  if (!*s || *s == '.' || *s == '/')
    return;
  const char *slash = strchr(s, '/'), *colon = strchr(s, ':');
  if (colon && (!slash || colon < slash))
    return;
  size_t n = slash ? (size_t)(slash - s) : strlen(s);
  if (*s == '@') {
    if (!slash)
      return;
    const char *second = strchr(slash + 1, '/');
    n = second ? (size_t)(second - s) : strlen(s);
  }
  if (n == 8 && !memcmp(s, "knitting", 8))
    return;
  for (size_t k = 0; k < sizeof builtins / sizeof builtins[0]; k++)
    if (strlen(builtins[k]) == n && !memcmp(builtins[k], s, n))
      return;
  if (find(ds, s, n))
    return;
  if (ds->n == ds->cap) {
    size_t cap = ds->cap ? ds->cap * 2 : 8;
    dep *v = realloc(ds->v, cap * sizeof *v);
    if (!v) {
      ds->err = -ENOMEM;
      return;
    }
    ds->v = v;
    ds->cap = cap;
  }
  char *name = strndup(s, n);
  if (!name) {
    ds->err = -ENOMEM;
    return;
  }
  ds->v[ds->n++] = (dep){.name = name, .range = NULL, .rank = 0};
}

static bool is_punct(const kg_token *t, int c)
{
  return t->kind == KG_T_PUNCT && t->punct == c;
}

/* The decoded text of string token @t (quotes dropped; an unterminated one
 * in a broken package.json may be shorter); NULL without memory. */
static char *string_of(const kg_file *f, const kg_token *t)
{
  size_t n = t->len >= 2 ? t->len - 2 : 0;
  char *out = malloc(n + 1);
  if (out)
    kg_unescape(kg_tok_text(f, t) + (t->len ? 1 : 0), n, out);
  return out;
}

/* `import "x"`, `from "x"`, `import("x")`, `require("x")` in one file. */
static void scan_module(deps *ds, const char *path)
{
  kg_file *f = NULL;
  if (kg_file_load(path, &f) < 0)
    return;
  kg_diags quiet;
  kg_diags_init(&quiet);
  if (kg_lex(f, &quiet) == 0) {
    for (size_t k = 0; k + 1 < f->ntoks && !ds->err; k++) {
      const kg_token *t = &f->toks[k];
      if (t->kind != KG_T_IDENT)
        continue;
      const kg_token *spec = NULL;
      if (kg_tok_is(f, t, "from") || kg_tok_is(f, t, "import"))
        spec = &t[1];
      if ((kg_tok_is(f, t, "import") || kg_tok_is(f, t, "require")) && is_punct(&t[1], '(') &&
          k + 2 < f->ntoks)
        spec = &t[2];
      if (spec && spec->kind == KG_T_STRING) {
        char *s = string_of(f, spec);
        if (s)
          add_specifier(ds, s);
        else
          ds->err = -ENOMEM;
        free(s);
      }
    }
  }
  kg_diags_clear(&quiet);
  kg_file_free(f);
}

static deps *walk_deps; /* nftw has no context argument */

static int visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  size_t n = strlen(path);
  bool js = (n > 3 && !strcmp(path + n - 3, ".js")) || (n > 4 && !strcmp(path + n - 4, ".mjs")) ||
            (n > 4 && !strcmp(path + n - 4, ".cjs"));
  if (flag == FTW_F && js)
    scan_module(walk_deps, path);
  return walk_deps->err;
}

static const char *const dep_fields[] = {"dependencies", "peerDependencies",
                                         "optionalDependencies", "devDependencies"};

/* Fills in the ranges package.json @f gives, from its top-level dependency
 * fields (dependencies first). */
static void read_ranges(deps *ds, const kg_file *f)
{
  int depth = 0, field = -1;
  for (size_t k = 0; k + 2 < f->ntoks && !ds->err; k++) {
    const kg_token *t = &f->toks[k];
    if (is_punct(t, '{') || is_punct(t, '[')) {
      depth++;
      continue;
    }
    if (is_punct(t, '}') || is_punct(t, ']')) {
      if (--depth < 2)
        field = -1;
      continue;
    }
    if (t->kind != KG_T_STRING || !is_punct(&t[1], ':'))
      continue;
    char *key = string_of(f, t);
    if (!key) {
      ds->err = -ENOMEM;
      return;
    }
    if (depth == 1 && is_punct(&t[2], '{'))
      for (int i = 0; i < (int)(sizeof dep_fields / sizeof dep_fields[0]); i++)
        if (!strcmp(key, dep_fields[i]))
          field = i;
    if (depth == 2 && field >= 0 && t[2].kind == KG_T_STRING) {
      dep *d = find(ds, key, strlen(key));
      if (d && (!d->range || field < d->rank)) {
        free(d->range);
        d->range = string_of(f, &t[2]);
        d->rank = field;
        if (!d->range)
          ds->err = -ENOMEM;
      }
    }
    free(key);
  }
}

char *kg_find_up(const char *dir, const char *rel, int mode)
{
  char d[PATH_MAX];
  snprintf(d, sizeof d, "%s", dir);
  for (;;) {
    char *cand = NULL;
    if (asprintf(&cand, "%s/%s", strcmp(d, "/") ? d : "", rel) < 0)
      return NULL;
    if (access(cand, mode) == 0)
      return cand;
    free(cand);
    char *s = strrchr(d, '/');
    if (!s || s == d)
      return NULL;
    *s = 0;
  }
}

static int by_name(const void *a, const void *b)
{
  return strcmp(((const dep *)a)->name, ((const dep *)b)->name);
}

int kg_package_deps(const char *lib, const char *project_dir, char **out, kg_diags *d)
{
  deps ds = {0};
  *out = NULL;
  walk_deps = &ds;
  nftw(lib, visit, 16, FTW_PHYS);
  walk_deps = NULL;
  char *pj = ds.err || !ds.n ? NULL : kg_find_up(project_dir, "package.json", R_OK);
  kg_file *f = NULL;
  if (pj && kg_file_load(pj, &f) == 0) {
    kg_diags quiet;
    kg_diags_init(&quiet);
    if (kg_lex(f, &quiet) == 0)
      read_ranges(&ds, f);
    kg_diags_clear(&quiet);
    kg_file_free(f);
  }
  qsort(ds.v, ds.n, sizeof *ds.v, by_name);
  size_t len = 0;
  FILE *fp = ds.err ? NULL : open_memstream(out, &len);
  for (size_t k = 0; fp && k < ds.n; k++) {
    const dep *p = &ds.v[k];
    if (!p->range)
      kg_diag_path(d, KG_WARNING, pj ? pj : project_dir,
                   "the task modules import '%s', which %s: the package depends on it at any "
                   "version (\"*\")",
                   p->name, pj ? "its dependencies do not list" : "no package.json lists");
    fputs(",\n    ", fp);
    kg_json_str(fp, p->name, strlen(p->name));
    fputs(": ", fp);
    kg_json_str(fp, p->range ? p->range : "*", strlen(p->range ? p->range : "*"));
  }
  if (fp && fclose(fp) != 0)
    ds.err = -EIO;
  if (!fp && !ds.err)
    ds.err = -ENOMEM;
  for (size_t k = 0; k < ds.n; k++) {
    free(ds.v[k].name);
    free(ds.v[k].range);
  }
  free(ds.v);
  free(pj);
  if (ds.err) {
    free(*out);
    *out = NULL;
  }
  return ds.err;
}

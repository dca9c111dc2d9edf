/* emit_table.c: `knitgen FILE.ts -o DIR`: the dispatch table
 * (DIR/<stem>.knit.js + .knit.d.ts) and one worker entry per runtime
 * (DIR/<stem>.worker.{node,deno,bun}.mjs), filled into the embedded
 * templates (templates/ *.in). The templates only receive placeholder values;
 * everything those values say is decided here.
 */
#include "kg.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

typedef kg_subst subst;

/* True when @path holds exactly @len bytes of @data. */
static bool file_holds(const char *path, const char *data, size_t len)
{
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return false;
  char buf[4096];
  size_t off = 0, got;
  bool same = true;
  while (same && (got = fread(buf, 1, sizeof buf, fp)) > 0) {
    same = got <= len - off && memcmp(buf, data + off, got) == 0;
    off += got;
  }
  same = same && off == len && !ferror(fp);
  fclose(fp);
  return same;
}

/* Copies template @name to @path, replacing @KEY@ by its value. A file that
 * already holds that text is left untouched: a watcher (Vite's, in the
 * bundler plugins, which regenerate at every build) would otherwise see a
 * change at every build and rebuild forever. */
int kg_template_fill(const char *name, const char *path, const kg_subst *subs, size_t nsubs,
                     kg_diags *d)
{
  const kg_template *t = kg_template_find(name);
  if (!t) {
    kg_diag_path(d, KG_ERROR, name, "template missing from this build of knitgen");
    return -ENOENT;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  if (!out) {
    kg_diag_path(d, KG_ERROR, path, "cannot write: %s", strerror(errno));
    return -errno;
  }
  const char *s = t->text, *end = t->text + t->len;
  while (s < end) {
    const char *at = memchr(s, '@', (size_t)(end - s));
    if (!at) {
      fwrite(s, 1, (size_t)(end - s), out);
      break;
    }
    fwrite(s, 1, (size_t)(at - s), out);
    const char *close = memchr(at + 1, '@', (size_t)(end - at - 1));
    bool done = false;
    if (close) {
      size_t kl = (size_t)(close - at - 1);
      for (size_t k = 0; k < nsubs; k++)
        if (strlen(subs[k].key) == kl && memcmp(subs[k].key, at + 1, kl) == 0) {
          fputs(subs[k].val, out);
          s = close + 1;
          done = true;
          break;
        }
    }
    if (!done) {
      fputc('@', out);
      s = at + 1;
    }
  }
  int rc = ferror(out) ? -EIO : 0;
  if (fclose(out) != 0 || rc) {
    free(text);
    kg_diag_path(d, KG_ERROR, path, "cannot write: %s", strerror(errno));
    return -EIO;
  }
  if (file_holds(path, text, len)) {
    free(text);
    return 0;
  }
  FILE *f = fopen(path, "w");
  bool bad = !f || fwrite(text, 1, len, f) != len;
  if (f && fclose(f) != 0)
    bad = true;
  free(text);
  if (bad) {
    kg_diag_path(d, KG_ERROR, path, "cannot write: %s", strerror(errno));
    return -EIO;
  }
  return 0;
}

/* Relative import specifier from directory @from_dir to file @to (both
 * absolute and normalised): "./x.ts", "../src/x.ts". */
static char *relative(const char *from_dir, const char *to)
{
  size_t common = 0, k = 0;
  while (from_dir[k] && to[k] && from_dir[k] == to[k]) {
    if (to[k] == '/')
      common = k + 1;
    k++;
  }
  const char *rest = from_dir + common;
  if (!from_dir[k] && to[k] == '/') {
    common = k + 1; /* @to is inside @from_dir */
    rest = "";
  }
  size_t ups = 0;
  if (*rest) {
    ups = 1;
    for (const char *s = rest; *s; s++)
      if (*s == '/' && s[1])
        ups++;
  }
  size_t n = strlen(to + common);
  char *r = malloc(ups * 3 + n + 3);
  if (!r)
    return NULL;
  char *o = r;
  if (!ups) {
    memcpy(o, "./", 2);
    o += 2;
  }
  for (size_t u = 0; u < ups; u++) {
    memcpy(o, "../", 3);
    o += 3;
  }
  memcpy(o, to + common, n + 1);
  return r;
}

/* Lexically normalised absolute path of @rel against directory @dir. */
static char *absolute(const char *dir, const char *rel)
{
  size_t dl = strlen(dir), rl = strlen(rel);
  char *buf = malloc(dl + rl + 2);
  char *out = malloc(dl + rl + 2);
  if (!buf || !out) {
    free(buf);
    free(out);
    return NULL;
  }
  if (rel[0] == '/')
    strcpy(buf, rel);
  else
    snprintf(buf, dl + rl + 2, "%s/%s", dir, rel);
  size_t o = 0;
  for (const char *s = buf; *s;) {
    while (*s == '/')
      s++;
    const char *e = s;
    while (*e && *e != '/')
      e++;
    size_t n = (size_t)(e - s);
    if (n == 0)
      break;
    if (n == 2 && s[0] == '.' && s[1] == '.') {
      while (o > 0 && out[o - 1] != '/')
        o--;
      if (o > 0)
        o--;
    } else if (!(n == 1 && s[0] == '.')) {
      out[o++] = '/';
      memcpy(out + o, s, n);
      o += n;
    }
    s = e;
  }
  if (o == 0)
    out[o++] = '/';
  out[o] = 0;
  free(buf);
  return out;
}

static char *dirname_of(const char *path)
{
  char *d = strdup(path);
  if (!d)
    return NULL;
  char *slash = strrchr(d, '/');
  if (slash && slash != d)
    *slash = 0;
  else if (slash)
    slash[1] = 0;
  return d;
}

/* The specifier TypeScript's type checker uses for @spec: .ts -> .js. */
static char *type_spec(const char *spec)
{
  size_t n = strlen(spec);
  char *r = malloc(n + 2);
  if (!r)
    return NULL;
  strcpy(r, spec);
  if (n > 3 && !strcmp(r + n - 3, ".ts") && !(n > 5 && !strcmp(r + n - 5, ".d.ts")))
    strcpy(r + n - 3, ".js");
  else if (n > 4 && !strcmp(r + n - 4, ".tsx"))
    strcpy(r + n - 4, ".js");
  else if (n > 4 && !strcmp(r + n - 4, ".mts"))
    strcpy(r + n - 4, ".mjs");
  return r;
}

/* True if type text @s names nothing knitgen would have to import: no
 * references, no opaque parts. */
static bool self_contained(const knit_type *t)
{
  if (t->kind == KNIT_TYPE_NAME || t->kind == KNIT_TYPE_OPAQUE)
    return false;
  for (size_t k = 0; k < t->n_items; k++)
    if (!self_contained(t->items[k]))
      return false;
  return true;
}

static bool text_self_contained(const char *s)
{
  knit_type *t = NULL;
  if (knit_type_parse(s, strlen(s), &t, NULL) < 0)
    return false;
  bool ok = self_contained(t);
  knit_type_destroy(t);
  return ok;
}

/* True if @s starts with a URL scheme ("https:", "data:"); one letter is a
 * drive, not a scheme. */
static bool has_scheme(const char *s)
{
  size_t k = 0;
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
    return false;
  while ((s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
         (s[k] >= '0' && s[k] <= '9') || s[k] == '+' || s[k] == '-' || s[k] == '.')
    k++;
  return k > 1 && s[k] == ':';
}

static void js_str(FILE *out, const char *s)
{
  kg_json_str(out, s, strlen(s));
}

/* @s with %, # and ? percent-encoded: a file name inside a URL (a relative
 * specifier or new URL(...)), where they would escape, cut or query it. */
static char *url_path(const char *s)
{
  size_t n = strlen(s), extra = 0;
  for (const char *c = s; *c; c++)
    extra += *c == '%' || *c == '#' || *c == '?' ? 2 : 0;
  char *r = malloc(n + extra + 1), *o = r;
  if (!r)
    return NULL;
  for (const char *c = s; *c; c++) {
    if (*c == '%' || *c == '#' || *c == '?')
      o += sprintf(o, "%%%02X", (unsigned char)*c);
    else
      *o++ = *c;
  }
  *o = 0;
  return r;
}

/* A module specifier: relative and absolute paths are URLs to the loader. */
static void js_spec(FILE *out, const char *s)
{
  char *u = s[0] == '.' || s[0] == '/' ? url_path(s) : NULL;
  js_str(out, u ? u : s);
  free(u);
}

/* An import/export name: bare when it is a plain identifier. */
static void js_name(FILE *out, const char *s)
{
  bool plain = *s && !(*s >= '0' && *s <= '9');
  for (const char *c = s; *c && plain; c++)
    plain = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '_' || *c == '$';
  if (plain)
    fputs(s, out);
  else
    js_str(out, s);
}

static const char *const kind_names[] = {"task", "function", "import", "native"};

int kg_emit_table(const kg_project *p, const char *dir, const char *stem, kg_diags *d)
{
  return kg_emit_table_opts(p, dir, stem, NULL, d);
}

/* @o->map, if set, replaces the absolute path of a module that a worker
 * imports (or that the types name): the npm package imports compiled copies. */
static char *mapped(const kg_table_opts *o, char *abs)
{
  if (!abs || !o || !o->map)
    return abs;
  char *m = o->map(o->ctx, abs);
  free(abs);
  return m;
}

int kg_emit_table_opts(const kg_project *p, const char *dir, const char *stem,
                       const kg_table_opts *o, kg_diags *d)
{
  char dir_real[PATH_MAX];
  if (!realpath(dir, dir_real)) {
    kg_diag_path(d, KG_ERROR, dir, "cannot resolve: %s", strerror(errno));
    return -errno;
  }
  const char *source = p->nroots ? p->roots[0]->file->path : "";
  int rc = 0;

  /* per task: the specifier of its module seen from DIR, and what to import */
  size_t n = p->ntasks;
  char **spec = calloc(n ? n : 1, sizeof *spec);
  char **export = calloc(n ? n : 1, sizeof *export);
  bool *remote = calloc(n ? n : 1, sizeof *remote);
  if (!spec || !export || !remote) {
    free(spec);
    free(export);
    free(remote);
    return -ENOMEM;
  }
  for (size_t k = 0; k < n && !rc; k++) {
    const kg_task *t = &p->tasks[k];
    const char *real = t->module->real;
    if (t->kind == KG_K_IMPORT && t->href && t->import_name) {
      /* importTask: import its target statically; a relative href is
       * relative to the module that declares the task */
      if (t->href[0] == '.' || t->href[0] == '/') {
        char *mdir = dirname_of(real);
        char *abs = mapped(o, mdir ? absolute(mdir, t->href) : NULL);
        spec[k] = abs ? relative(dir_real, abs) : NULL;
        free(mdir);
        free(abs);
      } else if (!has_scheme(t->href) || !strncmp(t->href, "file:", 5)) {
        spec[k] = strdup(t->href);
      } else {
        /* remote: no static import (it would fail every task at worker
         * start, and skip allowRemoteModules); loaded on first call */
        spec[k] = NULL;
        remote[k] = true;
      }
      export[k] = strdup(t->import_name);
    } else if (t->kind == KG_K_NATIVE) {
      spec[k] = NULL; /* runs on C threads */
      export[k] = NULL;
    } else {
      char *abs = real && real[0] == '/' ? mapped(o, strdup(real)) : NULL;
      spec[k] = abs ? relative(dir_real, abs) : strdup(t->module->file->path);
      free(abs);
      export[k] = strdup(t->export_name);
    }
    if (t->kind != KG_K_NATIVE && ((!spec[k] && !remote[k]) || !export[k]))
      rc = -ENOMEM;
  }

  char *tasks = NULL, *types = NULL, *imports = NULL, *list = NULL;
  size_t tl, yl, il, ll;
  FILE *ft = open_memstream(&tasks, &tl), *fy = open_memstream(&types, &yl);
  FILE *fi = open_memstream(&imports, &il), *fl = open_memstream(&list, &ll);
  if (!ft || !fy || !fi || !fl)
    rc = -ENOMEM;
  for (size_t k = 0; k < n && !rc; k++) {
    const kg_task *t = &p->tasks[k];
    /* A native task's types are parsed by the runtime, which cannot look up
     * the module's aliases: spell them out, as --c-stubs does. */
    char *arg_x = NULL, *result_x = NULL;
    if (t->kind == KG_K_NATIVE && kg_native_types(p, t, &arg_x, &result_x) == -ENOMEM) {
      rc = -ENOMEM;
      break;
    }
    const char *arg = arg_x ? arg_x : t->arg, *result = result_x ? result_x : t->result;
    fputs("    { name: ", ft);
    js_str(ft, t->name);
    fprintf(ft, ", kind: \"%s\", arg: ", kind_names[t->kind]);
    js_str(ft, arg);
    fputs(", result: ", ft);
    js_str(ft, result);
    fprintf(ft, ", argCodec: \"%s\", resultCodec: \"%s\"", knit_codec_name(t->arg_codec),
            knit_codec_name(t->result_codec));
    if (t->kind == KG_K_NATIVE && t->symbol && t->library) {
      /* The host starts the C threads itself, so the table carries what
       * nativeTask() would: the symbol, and the library seen from the table
       * (a relative path is relative to the declaring module). */
      fputs(", symbol: ", ft);
      js_str(ft, t->symbol);
      fputs(", library: ", ft);
      if (!strncmp(t->library, "./", 2) || !strncmp(t->library, "../", 3)) {
        char *mdir = dirname_of(t->module->real);
        char *abs = mdir ? absolute(mdir, t->library) : NULL;
        char *rel = abs ? relative(dir_real, abs) : NULL;
        fputs("new URL(", ft);
        js_spec(ft, rel ? rel : t->library);
        fputs(", import.meta.url).href", ft);
        free(mdir);
        free(abs);
        free(rel);
      } else {
        js_str(ft, t->library);
      }
      if (t->has_timeout)
        fprintf(ft, ", timeout: %.17g", t->timeout_ms);
    }
    if (remote[k]) {
      /* createPool checks it against allowRemoteModules */
      fputs(", href: ", ft);
      js_str(ft, t->href);
    }
    fprintf(ft, " },%s\n", k == 0 ? " // id 0" : "");

    fputs("  ", fy);
    js_str(fy, t->name);
    fputs(": ", fy);
    /* [argument, result]: the type text when it stands alone; else what
     * TypeScript infers from the module (Sig), for the pair or for one half:
     * a half the source leaves out ("unknown"), and the result of a task
     * with a timeout (`maybe` adds undefined, `default` its value's type) */
    bool literal = text_self_contained(arg) && text_self_contained(result);
    bool infer_arg = literal && !strcmp(arg, "unknown");
    bool infer_result = literal && (!strcmp(result, "unknown") ||
                                    (t->kind == KG_K_TASK && (t->options & KG_OPT_TIMEOUT)));
    /* an optional argument may be left out of the call (Arg<P> in index.d.ts) */
    const char *opt = literal && t->arg_optional ? " | void" : "";
    if (t->kind == KG_K_NATIVE || remote[k] || (literal && !infer_arg && !infer_result)) {
      fprintf(fy, "[%s%s, %s];\n", literal ? arg : "unknown", opt,
              literal ? result : "unknown");
    } else {
      bool half = literal && infer_arg != infer_result;
      char *ts = type_spec(spec[k] ? spec[k] : "");
      if (half && infer_result)
        fprintf(fy, "[%s%s, ", arg, opt);
      else if (half)
        fputs("[", fy);
      fputs("Sig<typeof import(", fy);
      js_str(fy, ts ? ts : "");
      fputs(")[", fy);
      js_str(fy, export[k]);
      fputs("]>", fy);
      if (half && infer_result)
        fputs("[1]]", fy);
      else if (half)
        fprintf(fy, "[0], %s]", result);
      fputs(";\n", fy);
      free(ts);
    }
    free(arg_x);
    free(result_x);

    if (t->kind == KG_K_NATIVE) {
      /* the name is decoded (may hold `"` or `\`): escape the whole message */
      char *msg = NULL;
      if (asprintf(&msg, "knitting: '%s' is a native task; it runs on the pool's C threads",
                   t->name) < 0) {
        rc = -ENOMEM;
        break;
      }
      fputs("  () => { throw new Error(", fl);
      js_str(fl, msg);
      fputs("); },\n", fl);
      free(msg);
      continue;
    }
    fprintf(fl, "  task%zu,\n", k);
    if (remote[k]) {
      fprintf(fi, "let m%zu;\nconst task%zu = (a, s) => (m%zu ?\?= import(", k, k, k);
      js_str(fi, t->href);
      fputs(")).then((m) => m[", fi);
      js_str(fi, export[k]);
      fputs("](a, s));\n", fi);
      continue;
    }
    /* one import statement per module, in order of first use */
    bool seen = false;
    for (size_t j = 0; j < k && !seen; j++)
      seen = spec[j] && !strcmp(spec[j], spec[k]);
    if (seen)
      continue;
    fputs("import { ", fi);
    bool first = true;
    for (size_t j = k; j < n; j++) {
      if (!spec[j] || strcmp(spec[j], spec[k]))
        continue;
      fputs(first ? "" : ", ", fi);
      js_name(fi, export[j]);
      fprintf(fi, " as task%zu", j);
      first = false;
    }
    fputs(" } from ", fi);
    js_spec(fi, spec[k]);
    fputs(";\n", fi);
  }
  if (ft)
    fclose(ft);
  if (fy)
    fclose(fy);
  if (fi)
    fclose(fi);
  if (fl)
    fclose(fl);
  /* drop the final newline: the templates put their own */
  if (!rc) {
    if (tl && tasks[tl - 1] == '\n')
      tasks[tl - 1] = 0;
    if (yl && types[yl - 1] == '\n')
      types[yl - 1] = 0;
    if (il && imports[il - 1] == '\n')
      imports[il - 1] = 0;
    if (ll && list[ll - 1] == '\n')
      list[ll - 1] = 0;
  }

  /* the stem inside the templates' "./@STEM_URL@.worker.*.mjs" URLs */
  char *stem_url = NULL, *stem_enc = url_path(stem);
  size_t sul = 0;
  FILE *fs = stem_enc && !rc ? open_memstream(&stem_url, &sul) : NULL;
  if (fs) {
    js_str(fs, stem_enc);
    fclose(fs);
  }
  if (!stem_url || sul < 2) {
    rc = rc ? rc : -ENOMEM;
  } else {
    memmove(stem_url, stem_url + 1, sul - 2); /* the template has the quotes */
    stem_url[sul - 2] = 0;
  }
  free(stem_enc);

  static const char *const runtimes[] = {"node", "deno", "bun"};
  static const char *const runtime_names[] = {"Node.js", "Deno", "Bun"};
  /* steps 5-7: per-runtime tables naming one worker (npm packages) */
  int steps = o && o->runtime_tables ? 8 : 5;
  for (int step = 0; step < steps && !rc; step++) {
    char *path = NULL, tpl[64];
    const char *rt = step >= 5 ? runtimes[step - 5] : step >= 2 ? runtimes[step - 2] : "";
    if (step >= 5) {
      snprintf(tpl, sizeof tpl, "package.table.js.in");
      rc = asprintf(&path, "%s/%s.%s.mjs", dir, stem, rt) < 0 ? -ENOMEM : 0;
    } else if (step == 0) {
      snprintf(tpl, sizeof tpl, "table.js.in");
      rc = asprintf(&path, "%s/%s.knit.js", dir, stem) < 0 ? -ENOMEM : 0;
    } else if (step == 1) {
      snprintf(tpl, sizeof tpl, "table.d.ts.in");
      rc = asprintf(&path, "%s/%s.knit.d.ts", dir, stem) < 0 ? -ENOMEM : 0;
    } else {
      snprintf(tpl, sizeof tpl, "worker.%s.mjs.in", rt);
      rc = asprintf(&path, "%s/%s.worker.%s.mjs", dir, stem, rt) < 0 ? -ENOMEM : 0;
    }
    if (rc)
      break;
    const subst subs[] = {
      {"BANNER", KG_BANNER},
      {"SOURCE", source},
      {"STEM", stem},
      {"STEM_URL", stem_url ? stem_url : ""},
      {"TASKS", tasks ? tasks : ""},
      {"TYPES", types ? types : ""},
      {"IMPORTS", imports ? imports : ""},
      {"LIST", list ? list : ""},
      {"RUNTIME", step >= 5 ? runtime_names[step - 5] : step >= 2 ? runtime_names[step - 2] : ""},
      {"RUNTIME_KEY", rt},
    };
    rc = kg_template_fill(tpl, path, subs, sizeof subs / sizeof subs[0], d);
    free(path);
  }
  for (size_t k = 0; k < n; k++) {
    free(spec[k]);
    free(export[k]);
  }
  free(spec);
  free(export);
  free(remote);
  free(stem_url);
  free(tasks);
  free(types);
  free(imports);
  free(list);
  return rc;
}

/* emit_package.c: `knitgen FILE.ts --package NAME[@VERSION] -o DIR`: an npm
 * package that `npm pack` turns into a tarball.
 *
 *   DIR/package.json               conditional exports: bun, deno, node, default
 *   DIR/index.knit.js, .knit.d.ts  the dispatch table (all three workers) + types
 *   DIR/index.{node,deno,bun}.mjs  per-runtime tables naming one worker entry
 *   DIR/index.worker.*.mjs         worker entries importing ./lib/...
 *   DIR/lib/...                    the task modules as JS + .d.ts
 *
 * package.json depends on knitting and on every npm package the compiled
 * modules import, at the range the project's package.json gives it
 * (package_deps.c).
 *
 * knitgen does not compile TypeScript. The task modules (and every local
 * module they import, which knitgen does not follow) are compiled by the
 * project's own TypeScript compiler: knitgen writes a throw-away tsconfig
 * next to the project's tsconfig.json (extending it), runs `tsc -p` on it and
 * turns tsc's diagnostics into its own. Node refuses to strip types under
 * node_modules, so every runtime imports the compiled JS; the .d.ts files
 * give the table its full types. See docs/knitgen.md ("npm packages").
 */
#include "kg.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct pkg_ctx {
  char root[PATH_MAX]; /* common directory of the compiled modules */
  char lib[PATH_MAX];  /* realpath(DIR)/lib */
} pkg_ctx;

/* npm's rules, in short: lowercase, URL-safe, optional @scope/. */
static bool valid_name(const char *s, size_t n)
{
  if (n == 0 || n > 214 || s[0] == '.' || s[0] == '_')
    return false;
  size_t slash = 0;
  for (size_t k = 0; k < n; k++) {
    char c = s[k];
    if (c == '/') {
      if (s[0] != '@' || slash || k < 2 || k + 1 == n)
        return false;
      slash = k;
      continue;
    }
    if (c == '@' && k == 0)
      continue;
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
          c == '~'))
      return false;
  }
  return s[0] != '@' || slash;
}

static bool valid_version(const char *v)
{
  if (!*v)
    return false;
  for (const char *c = v; *c; c++)
    if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
          *c == '.' || *c == '-' || *c == '+'))
      return false;
  return *v >= '0' && *v <= '9';
}

/* Shortens @dir to the longest directory prefix it shares with @path. */
static void common_dir(char *dir, const char *path)
{
  if (!*dir) {
    snprintf(dir, PATH_MAX, "%s", path);
    char *s = strrchr(dir, '/');
    if (s)
      s[s == dir ? 1 : 0] = 0;
    return;
  }
  size_t k = 0, keep = 0;
  while (dir[k] && path[k] && dir[k] == path[k]) {
    if (dir[k] == '/')
      keep = k;
    k++;
  }
  if (!dir[k] && (path[k] == '/' || !path[k]))
    return; /* @dir already contains @path */
  dir[keep ? keep : 1] = 0;
}

static bool ends_with(const char *s, const char *suf)
{
  size_t n = strlen(s), m = strlen(suf);
  return n >= m && !strcmp(s + n - m, suf);
}

/* kg_table_opts.map: SRC_ROOT/a/b.ts -> DIR/lib/a/b.js (what tsc emits). */
static char *map_module(void *ctx, const char *abs)
{
  const pkg_ctx *c = ctx;
  size_t rl = strlen(c->root);
  const char *rel = abs;
  if (!strncmp(abs, c->root, rl) && abs[rl] == '/')
    rel = abs + rl + 1;
  else if (!strcmp(c->root, "/"))
    rel = abs + 1;
  char *out = NULL;
  if (asprintf(&out, "%s/%s", c->lib, rel) < 0)
    return NULL;
  size_t n = strlen(out);
  if (ends_with(out, ".d.ts"))
    return out;
  if (ends_with(out, ".tsx") || ends_with(out, ".jsx"))
    strcpy(out + n - 4, ".js");
  else if (ends_with(out, ".ts"))
    strcpy(out + n - 3, ".js");
  else if (ends_with(out, ".mts"))
    strcpy(out + n - 4, ".mjs");
  else if (ends_with(out, ".cts"))
    strcpy(out + n - 4, ".cjs");
  return out;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
  (void)st;
  (void)ftw;
  return (flag == FTW_DP ? rmdir(path) : unlink(path)) < 0 && errno != ENOENT ? -1 : 0;
}

/* The tsc to run: $KNITGEN_TSC, else node_modules/.bin/tsc in the current
 * directory or one above it, else `tsc` from PATH. */
static char *find_tsc(void)
{
  const char *env = getenv("KNITGEN_TSC");
  if (env && *env)
    return strdup(env);
  char dir[PATH_MAX];
  char *found = getcwd(dir, sizeof dir) ? kg_find_up(dir, "node_modules/.bin/tsc", X_OK) : NULL;
  return found ? found : strdup("tsc");
}

/* The project module whose path (as given, or real) is @path, if any. */
static const kg_file *project_file(const kg_project *p, const char *path)
{
  char real[PATH_MAX];
  bool have_real = realpath(path, real) != NULL;
  for (size_t k = 0; k < p->nmods; k++) {
    const kg_module *m = p->mods[k];
    if (!strcmp(m->file->path, path) || (have_real && m->real && !strcmp(m->real, real)))
      return m->file;
  }
  return NULL;
}

/* Byte offset of 1-based @line/@col (col in characters) in @f. */
static size_t offset_of(const kg_file *f, unsigned line, unsigned col)
{
  size_t off = 0;
  for (unsigned l = 1; l < line && off < f->size; off++)
    if (f->data[off] == '\n')
      l++;
  for (unsigned c = 1; c < col && off < f->size && f->data[off] != '\n'; c++) {
    off++;
    while (off < f->size && ((unsigned char)f->data[off] & 0xc0) == 0x80)
      off++;
  }
  return off;
}

/* tsc decides whether a diagnostic stops the package: syntax (TS1xxx),
 * options and config (TS5xxx, TS6xxx) and unresolved local imports mean the
 * emitted JS cannot be trusted. Type errors are warnings: tsc still emits,
 * and type-checking the project is the project's own build step. */
static kg_severity tsc_severity(int code, const char *msg)
{
  if ((code >= 1000 && code < 2000) || (code >= 5000 && code < 7000))
    return KG_ERROR;
  if ((code == 2307 || code == 2792) && (strstr(msg, "'./") || strstr(msg, "'../")))
    return KG_ERROR;
  return KG_WARNING;
}

/* One tsc diagnostic, `file(line,col): error TSnnnn: message` (pretty off). */
static void tsc_line(const kg_project *p, const char *line, kg_diags *d)
{
  const char *e = strstr(line, "): error TS"), *open = NULL;
  int code = 0;
  for (const char *s = e; s && s > line && !open; s--)
    if (*s == '(')
      open = s;
  unsigned ln = 0, col = 0;
  if (open && sscanf(open, "(%u,%u)", &ln, &col) == 2 && sscanf(e, "): error TS%d", &code) == 1) {
    const char *msg = strchr(e + 11, ':');
    msg = msg ? msg + 2 : e;
    char *path = strndup(line, (size_t)(open - line));
    if (!path)
      return;
    kg_severity sev = tsc_severity(code, msg);
    const kg_file *f = project_file(p, path);
    if (f)
      kg_diag(d, sev, f, offset_of(f, ln, col), "%s (tsc TS%d)", msg, code);
    else {
      char *where = NULL;
      if (asprintf(&where, "%s:%u:%u", path, ln, col) >= 0) {
        kg_diag_path(d, sev, where, "%s (tsc TS%d)", msg, code);
        free(where);
      }
    }
    free(path);
    return;
  }
  if (sscanf(line, "error TS%d:", &code) == 1) {
    const char *msg = strchr(line, ':');
    kg_diag_path(d, tsc_severity(code, msg ? msg + 2 : line), "tsc", "%s (TS%d)",
                 msg ? msg + 2 : line, code);
  }
}

/* Writes the tsconfig that compiles @files into @c->lib, runs tsc on it and
 * records its diagnostics. */
static int run_tsc(const kg_project *p, const pkg_ctx *c, char **files, size_t nfiles, kg_diags *d)
{
  char cfg[64];
  snprintf(cfg, sizeof cfg, ".knitgen-package-%ld.tsconfig.json", (long)getpid());
  FILE *f = fopen(cfg, "w");
  if (!f) {
    kg_diag_path(d, KG_ERROR, cfg, "cannot write: %s", strerror(errno));
    return -errno;
  }
  bool extends = access("tsconfig.json", R_OK) == 0;
  fputs("{\n", f);
  if (extends)
    fputs("  \"extends\": \"./tsconfig.json\",\n", f);
  fputs("  \"compilerOptions\": {\n"
        "    \"noEmit\": false, \"emitDeclarationOnly\": false, \"declaration\": true,\n"
        "    \"declarationMap\": false, \"sourceMap\": false, \"inlineSourceMap\": false,\n"
        "    \"composite\": false, \"incremental\": false, \"noEmitOnError\": false,\n"
        "    \"module\": \"esnext\", \"moduleResolution\": \"bundler\", \"allowJs\": true,\n"
        "    \"allowImportingTsExtensions\": true, \"rewriteRelativeImportExtensions\": true,\n"
        "    \"skipLibCheck\": true,\n",
        f);
  if (!extends)
    fputs("    \"target\": \"es2022\", \"strict\": true,\n", f);
  fputs("    \"rootDir\": ", f);
  kg_json_str(f, c->root, strlen(c->root));
  fputs(",\n    \"outDir\": ", f);
  kg_json_str(f, c->lib, strlen(c->lib));
  /* a project's declarationDir would send the .d.ts files elsewhere */
  fputs(",\n    \"declarationDir\": ", f);
  kg_json_str(f, c->lib, strlen(c->lib));
  fputs("\n  },\n  \"include\": [],\n  \"files\": [", f);
  for (size_t k = 0; k < nfiles; k++) {
    fputs(k ? ", " : "", f);
    kg_json_str(f, files[k], strlen(files[k]));
  }
  fputs("]\n}\n", f);
  if (fclose(f) != 0) {
    unlink(cfg);
    kg_diag_path(d, KG_ERROR, cfg, "cannot write: %s", strerror(errno));
    return -EIO;
  }

  char *tsc = find_tsc();
  int pipefd[2] = {-1, -1};
  if (!tsc || pipe(pipefd) < 0) {
    free(tsc);
    unlink(cfg);
    return -ENOMEM;
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
  posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
  posix_spawn_file_actions_addclose(&fa, pipefd[0]);
  char *argv[] = {tsc, "-p", cfg, "--pretty", "false", NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, tsc, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(pipefd[1]);
  if (rc != 0) {
    close(pipefd[0]);
    unlink(cfg);
    kg_diag_path(d, KG_ERROR, tsc,
                 "cannot run the TypeScript compiler (%s): --package compiles the task "
                 "modules with tsc; install typescript in the project or set KNITGEN_TSC",
                 strerror(rc));
    free(tsc);
    return -rc;
  }
  FILE *in = fdopen(pipefd[0], "r");
  char *line = NULL, *msg = NULL;
  size_t cap = 0, msglen = 0;
  FILE *acc = NULL;
  /* a diagnostic may continue on indented lines: join them */
  for (;;) {
    ssize_t n = in ? getline(&line, &cap, in) : -1;
    if (n > 0 && line[n - 1] == '\n')
      line[--n] = 0;
    bool cont = n > 0 && line[0] == ' ' && acc;
    if (cont) {
      fputs(" ", acc);
      fputs(line + strspn(line, " "), acc);
      continue;
    }
    if (acc) {
      fclose(acc);
      acc = NULL;
      tsc_line(p, msg, d);
      free(msg);
      msg = NULL;
    }
    if (n < 0)
      break;
    if (n > 0) {
      acc = open_memstream(&msg, &msglen);
      if (acc)
        fputs(line, acc);
    }
  }
  free(line);
  if (in)
    fclose(in);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    ;
  unlink(cfg);
  if (WIFSIGNALED(status) || (WIFEXITED(status) && WEXITSTATUS(status) == 127))
    kg_diag_path(d, KG_ERROR, tsc, "the TypeScript compiler did not run (status %d)", status);
  free(tsc);
  return 0;
}

int kg_emit_package(const kg_project *p, const char *dir, const char *spec, kg_diags *d)
{
  /* NAME[@VERSION]; a scope's leading @ is part of the name */
  const char *at = strrchr(spec, '@');
  if (at == spec)
    at = NULL;
  size_t nl = at ? (size_t)(at - spec) : strlen(spec);
  const char *version = at ? at + 1 : "0.0.0";
  if (!valid_name(spec, nl)) {
    kg_diag_path(d, KG_ERROR, "--package", "'%.*s' is not a valid npm package name", (int)nl, spec);
    return -EINVAL;
  }
  if (!valid_version(version)) {
    kg_diag_path(d, KG_ERROR, "--package", "'%s' is not a valid version", version);
    return -EINVAL;
  }

  pkg_ctx c = {{0}, {0}};
  char dir_real[PATH_MAX];
  if (!realpath(dir, dir_real)) {
    kg_diag_path(d, KG_ERROR, dir, "cannot resolve: %s", strerror(errno));
    return -errno;
  }
  if ((size_t)snprintf(c.lib, sizeof c.lib, "%s/lib", dir_real) >= sizeof c.lib) {
    kg_diag_path(d, KG_ERROR, dir, "path too long");
    return -ENAMETOOLONG;
  }

  /* the files tsc starts from: every scanned module (roots and followed
   * re-exports) and the targets of relative importTask hrefs */
  size_t cap = p->nmods + p->ntasks + 1, nfiles = 0;
  char **files = calloc(cap, sizeof *files);
  if (!files)
    return -ENOMEM;
  int rc = 0;
  for (size_t k = 0; k < p->nmods && !rc; k++)
    if (p->mods[k]->real && p->mods[k]->real[0] == '/')
      rc = (files[nfiles++] = strdup(p->mods[k]->real)) ? 0 : -ENOMEM;
  for (size_t k = 0; k < p->ntasks && !rc; k++) {
    const kg_task *t = &p->tasks[k];
    if (t->kind != KG_K_IMPORT || !t->href || !(t->href[0] == '.' || t->href[0] == '/'))
      continue;
    char *joined = NULL, real[PATH_MAX];
    const char *mdir_end = strrchr(t->module->real, '/');
    if (asprintf(&joined, "%.*s/%s", (int)(mdir_end - t->module->real), t->module->real,
                 t->href) < 0)
      rc = -ENOMEM;
    else if (!realpath(t->href[0] == '/' ? t->href : joined, real))
      kg_diag_path(d, KG_ERROR, t->module->file->path,
                   "importTask '%s': cannot find '%s' to put it in the package", t->name, t->href);
    else
      rc = (files[nfiles++] = strdup(real)) ? 0 : -ENOMEM;
    free(joined);
  }
  for (size_t k = 0; k < nfiles; k++) {
    common_dir(c.root, files[k]);
    if (!strncmp(files[k], dir_real, strlen(dir_real)) && files[k][strlen(dir_real)] == '/')
      kg_diag_path(d, KG_ERROR, files[k], "a task module is inside the package folder %s", dir);
  }
  if (!rc && d->errors == 0) {
    /* stale output from an earlier run would be packed too */
    nftw(c.lib, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    rc = run_tsc(p, &c, files, nfiles, d);
  }
  /* every module a worker imports must have come out of tsc */
  for (size_t k = 0; k < nfiles && !rc && d->errors == 0; k++) {
    char *out = map_module(&c, files[k]);
    if (out && access(out, R_OK) != 0)
      kg_diag_path(d, KG_ERROR, files[k], "tsc did not emit %s", out);
    free(out);
  }
  for (size_t k = 0; k < nfiles; k++)
    free(files[k]);
  free(files);
  if (rc || d->errors)
    return rc ? rc : -EINVAL;

  kg_table_opts o = {.map = map_module, .ctx = &c, .runtime_tables = true};
  rc = kg_emit_table_opts(p, dir, "index", &o, d);
  if (rc)
    return rc;

  /* package.json (JSON has no comments: the banner is the "//" field) */
  char *deps = NULL;
  rc = kg_package_deps(c.lib, c.root, &deps, d);
  if (rc)
    return rc;
  char *name = strndup(spec, nl), *path = NULL, *qname = NULL;
  size_t ql;
  FILE *fq = open_memstream(&qname, &ql);
  if (fq && name)
    kg_json_str(fq, name, strlen(name));
  if (fq)
    fclose(fq);
  if (!name || !qname || asprintf(&path, "%s/package.json", dir) < 0) {
    rc = -ENOMEM;
  } else {
    const kg_subst subs[] = {
      {"BANNER_TEXT", KG_BANNER + 3}, /* without the "// " */
      {"NAME", qname},
      {"VERSION", version},
      {"KNIT_VERSION", KG_VERSION},
      {"DEPS", deps},
    };
    rc = kg_template_fill("package.json.in", path, subs, sizeof subs / sizeof subs[0], d);
  }
  free(name);
  free(path);
  free(qname);
  free(deps);
  return rc;
}

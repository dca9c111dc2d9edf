/* main.c: the knitgen command line. Flags only; the work is in the library. */
#include "kg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out)
{
  fputs("usage: knitgen [options] FILE.ts...\n"
        "\n"
        "Scans TypeScript modules for task exports (following local re-exports).\n"
        "\n"
        "  --manifest           print the task manifest as JSON (to stdout, or to\n"
        "                       DIR/<stem>.manifest.json with -o)\n"
        "  -o, --output DIR     write the dispatch table and worker entries to DIR\n"
        "                       (created if missing)\n"
        "  --c-stubs            with -o DIR: write C for the native tasks instead:\n"
        "                       DIR/<stem>.knit.h, .knit.c (dispatch) and .stubs.c\n"
        "  --package NAME[@VER] with -o DIR: write an npm package to DIR (the task\n"
        "                       modules compiled by the project's tsc)\n"
        "  --depfile FILE       write a make-style depfile of every scanned input\n"
        "  --depfile-target T   the target named in the depfile (default: the first\n"
        "                       output written, or FILE's name without .d)\n"
        "  --version            print the version\n"
        "  -h, --help           this text\n"
        "\n"
        "Diagnostics go to stderr as path:line:col: error: message. The exit status\n"
        "is 1 if there was any error, 2 for bad usage.\n",
        out);
}

static int make_dirs(const char *dir)
{
  char *tmp = strdup(dir);
  if (!tmp)
    return -ENOMEM;
  for (char *s = tmp + 1; *s; s++) {
    if (*s != '/')
      continue;
    *s = 0;
    if (mkdir(tmp, 0777) < 0 && errno != EEXIST) {
      int e = -errno;
      free(tmp);
      return e;
    }
    *s = '/';
  }
  int rc = mkdir(tmp, 0777) < 0 && errno != EEXIST ? -errno : 0;
  free(tmp);
  return rc;
}

/* "src/tasks.ts" -> "tasks" */
static char *stem_of(const char *path)
{
  const char *b = strrchr(path, '/');
  b = b ? b + 1 : path;
  char *s = strdup(b);
  if (!s)
    return NULL;
  char *dot = strrchr(s, '.');
  if (dot && dot != s)
    *dot = 0;
  return s;
}

/* The first output written, the depfile's default target (NULL: none). */
static char *first_output(const char *outdir, const char *stem, bool manifest, bool cstubs,
                          const char *package)
{
  char *r = NULL;
  if (!outdir || !stem)
    return NULL;
  const char *fmt = manifest ? "%s/%s.manifest.json"
                    : cstubs ? "%s/%s.knit.h"
                    : package ? "%s/package.json"
                              : "%s/%s.knit.js";
  if (asprintf(&r, fmt, outdir, stem) < 0)
    return NULL;
  return r;
}

/* Writes and closes the depfile opened as @dep, or removes it when an
 * error came after it was opened (a stale rule is worse than none). */
static void write_depfile(kg_project *p, FILE *dep, const char *depfile, const char *deptarget,
                          const char *first_out)
{
  char *t = NULL;
  if (!deptarget && !first_out) {
    t = strdup(depfile);
    size_t n = t ? strlen(t) : 0;
    if (n > 2 && !strcmp(t + n - 2, ".d"))
      t[n - 2] = 0;
  }
  const char *target = deptarget ? deptarget : first_out ? first_out : t ? t : depfile;
  if (p->diags.errors == 0 && (kg_emit_depfile(p, target, dep) < 0 || fflush(dep) != 0))
    kg_diag_path(&p->diags, KG_ERROR, depfile, "cannot write depfile: %s", strerror(errno));
  fclose(dep);
  if (p->diags.errors)
    remove(depfile);
  free(t);
}

int main(int argc, char **argv)
{
  bool manifest = false, cstubs = false;
  const char *outdir = NULL, *depfile = NULL, *deptarget = NULL, *package = NULL;
  const char **inputs = calloc((size_t)argc, sizeof *inputs);
  int ninputs = 0;
  if (!inputs)
    return 1;
  for (int k = 1; k < argc; k++) {
    const char *a = argv[k];
    if (!strcmp(a, "--manifest")) {
      manifest = true;
    } else if ((!strcmp(a, "-o") || !strcmp(a, "--output")) && k + 1 < argc) {
      outdir = argv[++k];
    } else if (!strcmp(a, "--c-stubs")) {
      cstubs = true;
    } else if (!strcmp(a, "--package") && k + 1 < argc) {
      package = argv[++k];
    } else if (!strcmp(a, "--depfile") && k + 1 < argc) {
      depfile = argv[++k];
    } else if (!strcmp(a, "--depfile-target") && k + 1 < argc) {
      deptarget = argv[++k];
    } else if (!strcmp(a, "--version")) {
      printf("knitgen %s\n", KG_VERSION);
      free(inputs);
      return 0;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      free(inputs);
      return 0;
    } else if (!strcmp(a, "--")) {
      while (++k < argc)
        inputs[ninputs++] = argv[k];
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "knitgen: unknown or incomplete option '%s'\n", a);
      usage(stderr);
      free(inputs);
      return 2;
    } else {
      inputs[ninputs++] = a;
    }
  }
  if (!ninputs || (!manifest && !outdir) || (package && (!outdir || manifest)) ||
      (cstubs && (!outdir || manifest || package))) {
    fprintf(stderr, "knitgen: %s\n", !ninputs ? "no input files"
                                     : cstubs   ? "--c-stubs needs -o DIR (and no --manifest or --package)"
                                     : package  ? "--package needs -o DIR (and no --manifest)"
                                                : "nothing to do: pass --manifest or -o DIR");
    usage(stderr);
    free(inputs);
    return 2;
  }

  kg_project p;
  kg_project_init(&p);
  for (int k = 0; k < ninputs; k++)
    kg_project_add_file(&p, inputs[k]);
  kg_project_resolve(&p);

  char *stem = stem_of(inputs[0]);
  char *first_out = first_output(outdir, stem, manifest, cstubs, package);
  int status = 0;
  /* On an error nothing goes to stdout and no output is written: open the
   * depfile before writing anything, and hold the manifest until the end. */
  FILE *dep = NULL;
  if (depfile && p.diags.errors == 0 && !(dep = fopen(depfile, "w")))
    kg_diag_path(&p.diags, KG_ERROR, depfile, "cannot write depfile: %s", strerror(errno));
  if (p.diags.errors == 0 && outdir) {
    int rc = make_dirs(outdir);
    if (rc < 0)
      kg_diag_path(&p.diags, KG_ERROR, outdir, "cannot create directory: %s", strerror(-rc));
  }
  char *held = NULL;
  size_t nheld = 0;
  if (p.diags.errors == 0 && manifest) {
    FILE *f = !outdir ? open_memstream(&held, &nheld) : first_out ? fopen(first_out, "w") : NULL;
    bool bad = !f || kg_emit_manifest(&p, f) < 0;
    if (f && fclose(f) != 0)
      bad = true;
    if (bad)
      kg_diag_path(&p.diags, KG_ERROR, outdir ? first_out : NULL, "cannot write: %s",
                   strerror(errno));
  }
  if (p.diags.errors == 0 && outdir && !manifest) {
    if (cstubs)
      kg_emit_cstubs(&p, outdir, stem, &p.diags);
    else if (package)
      kg_emit_package(&p, outdir, package, &p.diags);
    else
      kg_emit_table(&p, outdir, stem, &p.diags);
  }
  if (dep)
    write_depfile(&p, dep, depfile, deptarget, first_out);
  if (p.diags.errors == 0 && held)
    fwrite(held, 1, nheld, stdout);
  free(held);
  kg_diags_print(&p.diags, stderr);
  if (p.diags.errors) {
    fprintf(stderr, "%u error%s generated.\n", p.diags.errors, p.diags.errors == 1 ? "" : "s");
    status = 1;
  }
  free(first_out);
  free(stem);
  kg_project_clear(&p);
  free(inputs);
  return status;
}

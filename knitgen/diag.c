/* diag.c: collected diagnostics, printed like ninja's Lexer::Error:
 *
 *   src/tasks.ts:3:14: error: unterminated string literal
 *   export const s = "abc
 *                    ^
 */
#include "kg.h"

#include <stdlib.h>
#include <string.h>

void kg_diags_init(kg_diags *d)
{
  memset(d, 0, sizeof *d);
}

void kg_diags_clear(kg_diags *d)
{
  for (size_t k = 0; k < d->n; k++) {
    free(d->v[k].msg);
    free(d->v[k].path);
  }
  free(d->v);
  memset(d, 0, sizeof *d);
}

static void add(kg_diags *d, kg_severity sev, const kg_file *file, const char *path,
                size_t off, const char *fmt, va_list ap)
{
  if (sev == KG_ERROR)
    d->errors++;
  else if (sev == KG_WARNING)
    d->warnings++;
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    kg_diag_entry *v = realloc(d->v, cap * sizeof *v);
    if (!v)
      return; /* counted, not kept */
    d->v = v;
    d->cap = cap;
  }
  char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0)
    return;
  kg_diag_entry *g = &d->v[d->n++];
  g->sev = sev;
  g->file = file;
  g->path = path ? strdup(path) : NULL;
  g->off = (uint32_t)(file ? kg_file_src(file, off) : off); /* pooled names: their source */
  g->msg = msg;
}

void kg_diag(kg_diags *d, kg_severity sev, const kg_file *file, size_t off, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  add(d, sev, file, NULL, off, fmt, ap);
  va_end(ap);
}

void kg_diag_path(kg_diags *d, kg_severity sev, const char *path, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  add(d, sev, NULL, path, 0, fmt, ap);
  va_end(ap);
}

static const char *sev_name(kg_severity s)
{
  return s == KG_ERROR ? "error" : s == KG_WARNING ? "warning" : "note";
}

/* Print order: by file (in order of first mention), then offset; a note
 * stays right after the diagnostic it belongs to. */
typedef struct order {
  size_t file_seq, off, group, seq;
} order;

static int cmp_order(const void *a, const void *b)
{
  const order *x = a, *y = b;
  if (x->file_seq != y->file_seq)
    return x->file_seq < y->file_seq ? -1 : 1;
  if (x->off != y->off)
    return x->off < y->off ? -1 : 1;
  if (x->group != y->group)
    return x->group < y->group ? -1 : 1;
  return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void kg_diags_print(const kg_diags *d, FILE *out)
{
  order *ord = malloc((d->n ? d->n : 1) * sizeof *ord);
  const void **files = malloc((d->n ? d->n : 1) * sizeof *files);
  size_t nfiles = 0;
  if (!ord || !files) {
    free(ord);
    free(files);
    return;
  }
  size_t lead = 0;
  for (size_t k = 0; k < d->n; k++) {
    const kg_diag_entry *g = &d->v[k];
    if (g->sev != KG_NOTE || k == 0)
      lead = k;
    const kg_diag_entry *l = &d->v[lead];
    const void *key = l->file ? (const void *)l->file : NULL;
    size_t fs = 0;
    if (key) {
      while (fs < nfiles && files[fs] != key)
        fs++;
      if (fs == nfiles)
        files[nfiles++] = key;
      fs++;
    } else {
      fs = (size_t)-1; /* file-less diagnostics last */
    }
    ord[k].file_seq = fs;
    ord[k].off = l->off;
    ord[k].group = lead;
    ord[k].seq = k;
  }
  qsort(ord, d->n, sizeof *ord, cmp_order);
  free(files);
  for (size_t q = 0; q < d->n; q++) {
    const kg_diag_entry *g = &d->v[ord[q].seq];
    if (!g->file) {
      fprintf(out, "%s%s%s: %s\n", g->path ? g->path : "knitgen", g->path ? ": " : "",
              sev_name(g->sev), g->msg);
      continue;
    }
    const kg_file *f = g->file;
    size_t off = g->off > f->size ? f->size : g->off;
    size_t b = kg_file_line_begin(f, off), e = off;
    if (b > off)
      b = off; /* an offset inside the byte order mark */
    while (e < f->size && f->data[e] != '\n' && f->data[e] != '\r')
      e++;
    fprintf(out, "%s:%u:%u: %s: %s\n", f->path, (unsigned)kg_file_line(f, off),
            (unsigned)kg_file_col(f, off), sev_name(g->sev), g->msg);
    /* the source line (long lines cut around the column), then the caret */
    size_t from = b;
    if (off - b > 200)
      from = off - 100;
    while (from < off && ((unsigned char)f->data[from] & 0xc0) == 0x80)
      from++;
    size_t to = e - from > 300 ? from + 300 : e;
    while (to > off && to < e && ((unsigned char)f->data[to] & 0xc0) == 0x80)
      to--;
    for (size_t i = from; i < to; i++) {
      unsigned char c = (unsigned char)f->data[i];
      fputc(c == 0 ? ' ' : c, out);
    }
    fputc('\n', out);
    for (size_t i = from; i < off; i++) {
      unsigned char c = (unsigned char)f->data[i];
      if ((c & 0xc0) == 0x80)
        continue;
      fputc(c == '\t' ? '\t' : ' ', out);
    }
    fputs("^\n", out);
  }
  free(ord);
}

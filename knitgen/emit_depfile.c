/* emit_depfile.c: `--depfile`: a make-style rule naming every scanned input,
 * re-exported modules included, so ninja and make rerun knitgen when any of
 * them changes. */
#include "kg.h"

static void put_escaped(FILE *out, const char *s)
{
  for (; *s; s++) {
    if (*s == ' ' || *s == '#' || *s == '\\')
      fputc('\\', out);
    if (*s == '$')
      fputc('$', out);
    if (*s == '\n')
      continue;
    fputc(*s, out);
  }
}

int kg_emit_depfile(const kg_project *p, const char *target, FILE *out)
{
  put_escaped(out, target);
  fputc(':', out);
  for (size_t k = 0; k < p->nmods; k++) {
    fputs(" \\\n  ", out);
    put_escaped(out, p->mods[k]->file->path);
  }
  fputc('\n', out);
  return ferror(out) ? -1 : 0;
}

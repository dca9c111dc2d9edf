/* emit_table.c: the dispatch table and worker entries (phase 2). */
#include "kg.h"

int kg_emit_table(const kg_project *p, const char *dir, const char *stem, kg_diags *d)
{
  (void)p;
  (void)stem;
  kg_diag_path(d, KG_ERROR, dir, "code generation is not implemented yet; use --manifest");
  return -1;
}

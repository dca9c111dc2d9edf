/* fuzz_scan.c: libFuzzer target for knitgen's lexer, parser, resolution,
 * type checks, manifest and diagnostics, all in memory (no re-exports are
 * followed). The first byte picks .ts or .tsx. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "kg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *path = size && (data[0] & 1) ? "fuzz.tsx" : "fuzz.ts";
  kg_project p;
  kg_project_init(&p);
  p.no_follow = true;
  if (kg_project_add_memory(&p, path, (const char *)data, size) == 0) {
    kg_project_resolve(&p);
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (out) {
      kg_emit_manifest(&p, out);
      kg_diags_print(&p.diags, out);
      kg_emit_depfile(&p, "t", out);
      fclose(out);
    }
    free(buf);
  }
  kg_project_clear(&p);
  return 0;
}

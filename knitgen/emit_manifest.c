/* emit_manifest.c: `knitgen --manifest`: the JSON contract for tools.
 *
 *   {"tasks":[{"name":"add","kind":"task","arg":"[number, number]",
 *              "result":"number","module":"src/tasks.ts","line":7, ...}]}
 *
 * The first six fields and their order are the contract (docs/knitgen.md);
 * the fields after them are extras. One line, then a newline.
 */
#include "kg.h"

#include <string.h>

void kg_json_str(FILE *out, const char *s, size_t n)
{
  fputc('"', out);
  for (size_t k = 0; k < n; k++) {
    unsigned char c = (unsigned char)s[k];
    if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc(c, out);
    } else if (c == '\n') {
      fputs("\\n", out);
    } else if (c == '\t') {
      fputs("\\t", out);
    } else if (c == '\r') {
      fputs("\\r", out);
    } else if (c < 0x20 || c == 0x7f) {
      fprintf(out, "\\u%04x", c);
    } else if (c < 0x80) {
      fputc(c, out);
    } else {
      /* copy a well-formed UTF-8 sequence; replace anything else */
      size_t len = c >= 0xf0 && c <= 0xf4 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 && c <= 0xdf ? 2 : 0;
      bool ok = len && k + len <= n;
      for (size_t j = 1; ok && j < len; j++)
        ok = ((unsigned char)s[k + j] & 0xc0) == 0x80;
      if (ok && len == 3) {
        unsigned char c1 = (unsigned char)s[k + 1];
        ok = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
      } else if (ok && len == 4) {
        unsigned char c1 = (unsigned char)s[k + 1];
        ok = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
      }
      if (ok) {
        fwrite(s + k, 1, len, out);
        k += len - 1;
      } else {
        fputs("\\ufffd", out);
      }
    }
  }
  fputc('"', out);
}

static void field(FILE *out, const char *key, const char *val)
{
  fprintf(out, ",\"%s\":", key);
  kg_json_str(out, val, strlen(val));
}

static const char *const kind_names[] = {"task", "function", "import", "native"};

int kg_emit_manifest(const kg_project *p, FILE *out)
{
  fputs("{\"tasks\":[", out);
  for (size_t k = 0; k < p->ntasks; k++) {
    const kg_task *t = &p->tasks[k];
    if (k)
      fputc(',', out);
    fputs("{\"name\":", out);
    kg_json_str(out, t->name, strlen(t->name));
    field(out, "kind", kind_names[t->kind]);
    field(out, "arg", t->arg);
    field(out, "result", t->result);
    field(out, "module", t->module->file->path);
    fprintf(out, ",\"line\":%u", (unsigned)t->line);
    /* extras */
    fprintf(out, ",\"id\":%zu,\"col\":%u", k, (unsigned)t->col);
    field(out, "export", t->export_name);
    field(out, "argCodec", knit_codec_name(t->arg_codec));
    field(out, "resultCodec", knit_codec_name(t->result_codec));
    if (t->kind == KG_K_TASK)
      fprintf(out, ",\"options\":{\"timeout\":%s,\"abortSignal\":%s}",
              t->options & KG_OPT_TIMEOUT ? "true" : "false",
              t->options & KG_OPT_ABORT ? "true" : "false");
    if (t->href)
      field(out, "href", t->href);
    if (t->import_name)
      field(out, "importName", t->import_name);
    if (t->symbol)
      field(out, "symbol", t->symbol);
    if (t->library)
      field(out, "library", t->library);
    fputc('}', out);
  }
  fputs("]}\n", out);
  return ferror(out) ? -1 : 0;
}

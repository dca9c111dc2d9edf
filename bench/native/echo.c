/* The suite's string echo ("hello" -> "hello world") as a C task, for the
 * native case (bench/cases/native.mjs). Built twice by meson: alone, called
 * through libffi, and with the dispatch knitgen --c-stubs writes for
 * tasks.ts, called directly. */
#include <string.h>

#include "knit/knit.h"

__attribute__((visibility("default"))) knit_str echo(knit_str s);

knit_str echo(knit_str s) {
  static const char tail[] = " world";
  char *out = knit_result_alloc(s.len + sizeof tail - 1);
  if (!out) {
    knit_native_throw("out of memory");
    return (knit_str){NULL, 0};
  }
  memcpy(out, s.data, s.len);
  memcpy(out + s.len, tail, sizeof tail - 1);
  return (knit_str){out, s.len + sizeof tail - 1};
}

/* fuzz_native.c: libFuzzer target for the type-directed decoder of native
 * tasks (runtime/src/native.c, decode()), which reads a request payload
 * straight from a slot into C arguments. Byte 0 picks one of the tasks
 * below; the rest is the request payload. Each task reads every byte it is
 * given (ASan catches a view past the payload), and the response the
 * runtime writes (a result or a thrown Error) must validate. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "knit/knit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

static void touch(const void *p, size_t n) {
  const uint8_t *b = p;
  uint8_t x = 0;
  for (size_t i = 0; i < n; i++) x ^= b[i];
  sink = x;
}

typedef struct inner {
  knit_f64s d;
  int64_t e;
} inner;

typedef struct outer {
  double a;
  knit_str b;
  inner c;
} outer;

static double t_number(double x) { return x * 2; }
static bool t_tuple(double a, bool b, int64_t c) { return a > 0 && b && c != 0; }
static knit_str t_string(knit_str s) { touch(s.data, s.len); return s; }
static double t_bytes(knit_bytes b) { touch(b.data, b.len); return (double)b.len; }
static knit_f64s t_f64s(knit_f64s a) { touch(a.data, a.len * 8); return a; }
static knit_i32s t_i32s(knit_i32s a) { touch(a.data, a.len * 4); return a; }
static double t_struct(outer o) {
  touch(o.b.data, o.b.len);
  touch(o.c.d.data, o.c.d.len * 8);
  return o.a + (double)o.c.e;
}
static knit_bytes t_mixed(knit_str s, knit_bytes b, knit_i32s i) {
  touch(s.data, s.len);
  touch(i.data, i.len * 4);
  return b;
}

static const struct {
  void *fn;
  const char *arg, *result;
} tasks[] = {
  {(void *)t_number, "number", "number"},
  {(void *)t_tuple, "[number, boolean, bigint]", "boolean"},
  {(void *)t_string, "string", "string"},
  {(void *)t_bytes, "Uint8Array", "number"},
  {(void *)t_f64s, "Float64Array", "Float64Array"},
  {(void *)t_i32s, "Int32Array", "Int32Array"},
  {(void *)t_struct, "{ a: number; b: string; c: { d: Float64Array; e: bigint } }", "number"},
  {(void *)t_mixed, "[string, Uint8Array, Int32Array]", "Uint8Array"},
};
#define NTASKS (sizeof tasks / sizeof tasks[0])

static knit_native_tasks *table;

static void setup(void) {
  char why[256];
  if (knit_native_tasks_create(&table)) __builtin_trap();
  for (unsigned k = 0; k < NTASKS; k++)
    if (knit_native_tasks_add(table, k, tasks[k].fn, NULL, tasks[k].arg, tasks[k].result, why, sizeof why))
      __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (!table) setup(); /* one table for the process: the tasks never change */
  if (size < 1) return 0;
  unsigned id = data[0] % NTASKS;
  /* Copy the payload to an 8-aligned buffer of exactly its size, as a slot
   * would hold it, so ASan sees any read past its end. */
  uint8_t *req = malloc(size - 1 ? size - 1 : 1);
  if (!req) return 0;
  memcpy(req, data + 1, size - 1);
  knit_writer w;
  knit_writer_init(&w, 1u << 24);
  int rc = knit_native_invoke(table, id, req, size - 1, &w);
  if (rc != KNIT_OK && rc != KNIT_THROWN) __builtin_trap();
  if (knit_validate(w.buf, w.len)) __builtin_trap();
  knit_writer_clear(&w);
  free(req);
  return 0;
}

/* test-ffi: the C type mapping of native tasks (layout checked against the
 * compiler and libffi) and one call through a prepared ffi_cif or a
 * dispatcher, with every decode and encode error (native.c). */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../runtime/src/native_impl.h"
#include "helpers.h"

/* ---- the mapping --------------------------------------------------------- */

typedef struct point { double x; double y; } point;
typedef struct mixed { bool a; knit_str s; bool b; int64_t i; point p; bool c; } mixed;

static void test_scalar_params(void **state) {
  knit__csig s;
  char why[256];
  assert_int_equal(knit__csig_init(&s, "[number, boolean, bigint, string, Uint8Array, ArrayBuffer, Float64Array, Int32Array]",
                                   "void", true, why, sizeof why), 0);
  assert_int_equal(s.nparams, 8);
  knit_ctype want[] = {KNIT_C_DOUBLE, KNIT_C_BOOL, KNIT_C_INT64, KNIT_C_STR, KNIT_C_BYTES, KNIT_C_BYTES, KNIT_C_F64S, KNIT_C_I32S};
  size_t off[] = {0, 8, 16, 24, 40, 56, 72, 88};
  for (int k = 0; k < 8; k++) {
    assert_int_equal(s.params[k]->c, want[k]);
    assert_int_equal(s.param_off[k], off[k]);
  }
  assert_int_equal(s.params[4]->tag, KNIT_T_UINT8);
  assert_int_equal(s.params[5]->tag, KNIT_T_ARRAYBUFFER);
  assert_int_equal(s.args_size, 104);
  assert_int_equal(s.result->c, KNIT_C_VOID);
  assert_true(s.cif_ready);
  assert_int_equal(s.cif.nargs, 8);
  knit__csig_clear(&s);
  knit__csig_clear(NULL);
}

static void test_struct_layout_matches_c_and_libffi(void **state) {
  knit__csig s;
  char why[256];
  assert_int_equal(knit__csig_init(&s, "{ a: boolean; s: string; b: boolean; i: bigint; p: { x: number; y: number }; c: boolean }",
                                   "{ x: number; y: number }", true, why, sizeof why), 0);
  knit__cnode *n = s.params[0];
  assert_int_equal(n->c, KNIT_C_STRUCT);
  assert_int_equal(n->size, sizeof(mixed));
  assert_int_equal(n->align, _Alignof(mixed));
  size_t c_off[] = {offsetof(mixed, a), offsetof(mixed, s), offsetof(mixed, b), offsetof(mixed, i), offsetof(mixed, p), offsetof(mixed, c)};
  size_t ffi_off[6];
  assert_int_equal(ffi_get_struct_offsets(FFI_DEFAULT_ABI, n->ffi, ffi_off), FFI_OK);
  for (int k = 0; k < 6; k++) {
    assert_int_equal(n->members[k].off, c_off[k]);
    assert_int_equal(ffi_off[k], c_off[k]);
  }
  assert_int_equal(n->ffi->size, sizeof(mixed));
  assert_int_equal(s.result->size, sizeof(point));
  knit__csig_clear(&s);
}

static void expect_fail(const char *arg, const char *result, int rc, const char *fragment) {
  knit__csig s;
  char why[512];
  assert_int_equal(knit__csig_init(&s, arg, result, true, why, sizeof why), rc);
  if (!strstr(why, fragment)) fail_msg("'%s' lacks '%s'", why, fragment);
}

static void test_mapping_errors(void **state) {
  expect_fail("[number", "number", -EINVAL, "does not parse");
  expect_fail("number", "number |", -EINVAL, "result type 'number |' does not parse");
  expect_fail("Map<string, number>", "number", -EINVAL, "the argument: type 'Map<string, number>' has no C mapping");
  expect_fail("[number, string | number]", "number", -EINVAL, "argument element 2: type 'string | number'");
  expect_fail("[number, [number]]", "number", -EINVAL, "argument element 2");
  expect_fail("[number, number?]", "number", -EINVAL, "optional and rest");
  expect_fail("[...number[]]", "number", -EINVAL, "optional and rest");
  expect_fail("Promise<number>", "number", -EINVAL, "a Promise cannot be an argument");
  expect_fail("number", "Promise<number>", -EINVAL, "synchronous");
  expect_fail("number", "[number, number]", -EINVAL, "the result: type '[number, number]' has no C mapping");
  expect_fail("{ 'a-b': number }", "number", -EINVAL, "property key 'a-b' is not a C identifier");
  expect_fail("{ a: number; a: number }", "number", -EINVAL, "declared twice");
  expect_fail("{ a: void }", "number", -EINVAL, "has no C mapping");
  expect_fail("{ a?: number }", "number", -EINVAL, "has no C mapping");
  expect_fail("Uint16Array", "number", -EINVAL, "has no C mapping");
  expect_fail("[number, number, number, number, number, number, number, number, number, number, "
              "number, number, number, number, number, number, number]", "number", -E2BIG, "more than 16");
}

/* ---- calls ------------------------------------------------------------------ */

static double add(double a, double b) { return a + b; }
static bool is_neg(double a) { return a < 0; }
static int64_t neg64(int64_t v) { return (int64_t)(0 - (uint64_t)v); }
static point mid(point a, point b) { return (point){(a.x + b.x) / 2, (a.y + b.y) / 2}; }
static double str_len(knit_str s) { return (double)s.len; }
static knit_str upper(knit_str s) {
  char *p = knit_result_alloc(s.len);
  for (size_t i = 0; p && i < s.len; i++) p[i] = (char)(s.data[i] & ~0x20);
  return (knit_str){p, s.len};
}
static knit_bytes copy_bytes(knit_bytes b) { return knit_result_bytes(b.data, b.len); }
static knit_str copy_str(knit_str s) { return knit_result_str(s.data, s.len); }
static double f64_sum(knit_f64s v) {
  double s = 0;
  for (size_t i = 0; i < v.len; i++) s += v.data[i];
  return s;
}
static knit_i32s iota(double n) {
  int32_t *p = knit_result_alloc((size_t)n * 4);
  for (size_t i = 0; p && i < (size_t)n; i++) p[i] = (int32_t)i;
  return (knit_i32s){p, (size_t)n};
}
static double thrower(double x) {
  assert_int_equal(knit_native_throw("no luck"), 0);
  return x;
}
static knit_bytes null_bytes(void) { return (knit_bytes){NULL, 3}; }
static void add_dispatch(void *result, void **args) { *(double *)result = add(*(double *)args[0], *(double *)args[1]) * 10; }

typedef struct fx {
  knit_native_tasks *t;
  knit_writer w, out;
} fx;

enum { T_ADD, T_NEG, T_NEG64, T_MID, T_LEN, T_UPPER, T_BYTES, T_STR, T_SUM, T_IOTA, T_THROW, T_NULL, T_DISPATCH, T_AB };

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  char why[256];
  if (!f || knit_native_tasks_create(&f->t)) return -1;
  struct { uint32_t id; void *fn; knit_dispatch_fn d; const char *a, *r; } add_list[] = {
    {T_ADD, (void *)add, NULL, "[number, number]", "number"},
    {T_NEG, (void *)is_neg, NULL, "number", "boolean"},
    {T_NEG64, (void *)neg64, NULL, "bigint", "bigint"},
    {T_MID, (void *)mid, NULL, "[{ x: number; y: number }, { x: number; y: number }]", "{ x: number; y: number }"},
    {T_LEN, (void *)str_len, NULL, "string", "number"},
    {T_UPPER, (void *)upper, NULL, "string", "string"},
    {T_BYTES, (void *)copy_bytes, NULL, "Uint8Array", "Uint8Array"},
    {T_STR, (void *)copy_str, NULL, "string", "string"},
    {T_SUM, (void *)f64_sum, NULL, "Float64Array", "number"},
    {T_IOTA, (void *)iota, NULL, "number", "Int32Array"},
    {T_THROW, (void *)thrower, NULL, "number", "number"},
    {T_NULL, (void *)null_bytes, NULL, "void", "ArrayBuffer"},
    {T_DISPATCH, NULL, add_dispatch, "[number, number]", "number"},
    {T_AB, (void *)copy_bytes, NULL, "ArrayBuffer", "ArrayBuffer"},
  };
  for (size_t k = 0; k < sizeof add_list / sizeof add_list[0]; k++)
    if (knit_native_tasks_add(f->t, add_list[k].id, add_list[k].fn, add_list[k].d, add_list[k].a, add_list[k].r, why, sizeof why)) {
      fprintf(stderr, "add %u: %s\n", add_list[k].id, why);
      return -1;
    }
  knit_writer_init(&f->w, 1 << 20);
  knit_writer_init(&f->out, 1 << 20);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  knit_native_tasks_unref(f->t);
  knit_writer_clear(&f->w);
  knit_writer_clear(&f->out);
  free(f);
  return 0;
}

/* Calls task @id with the request in f->w; returns the status, result in f->out. */
static int call(fx *f, uint32_t id) {
  knit_writer_reset(&f->out);
  return knit_native_invoke(f->t, id, f->w.buf, f->w.len, &f->out);
}

static knit_item first(fx *f, knit_reader *r) {
  knit_item it;
  knit_reader_init(r, f->out.buf, f->out.len);
  assert_int_equal(knit_read(r, &it), 0);
  return it;
}

/* The thrown error's message; asserts its name. */
static const char *thrown(fx *f, const char *name) {
  static char msg[512];
  knit_reader r;
  knit_item it = first(f, &r);
  assert_int_equal(it.tag, KNIT_T_ERROR);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_int_equal(it.len, strlen(name));
  assert_memory_equal(it.data, name, it.len);
  assert_int_equal(knit_read(&r, &it), 0);
  snprintf(msg, sizeof msg, "%.*s", (int)it.len, (const char *)it.data);
  return msg;
}

static void pair(fx *f, double a, double b) {
  knit_writer_reset(&f->w);
  knit_put_container(&f->w, KNIT_T_ARRAY, 2);
  knit_put_number(&f->w, a);
  knit_put_number(&f->w, b);
}

static void test_numbers_and_dispatch(void **state) {
  fx *f = *state;
  pair(f, 1.5, 2);
  assert_int_equal(call(f, T_ADD), KNIT_OK);
  knit_reader r;
  knit_item it = first(f, &r);
  assert_int_equal(it.tag, KNIT_T_F64);
  assert_true(it.num == 3.5);
  assert_int_equal(call(f, T_DISPATCH), KNIT_OK);
  it = first(f, &r);
  assert_true(it.num == 35); /* through the dispatcher, not libffi */

  knit_writer_reset(&f->w);
  knit_put_number(&f->w, -1);
  assert_int_equal(call(f, T_NEG), KNIT_OK);
  assert_int_equal(first(f, &r).tag, KNIT_T_TRUE);
  knit_writer_reset(&f->w);
  knit_put_number(&f->w, 1);
  assert_int_equal(call(f, T_NEG), KNIT_OK);
  assert_int_equal(first(f, &r).tag, KNIT_T_FALSE);

  uint64_t mag = (uint64_t)INT64_MAX;
  knit_writer_reset(&f->w);
  knit_put_bigint(&f->w, 0, &mag, 1);
  assert_int_equal(call(f, T_NEG64), KNIT_OK);
  it = first(f, &r);
  assert_int_equal(it.tag, KNIT_T_BIGINT);
  assert_int_equal(it.sign, 1);
  uint64_t got;
  memcpy(&got, it.data, 8);
  assert_true(got == (uint64_t)INT64_MAX);
  knit_writer_reset(&f->w);
  knit_put_bigint(&f->w, 0, NULL, 0); /* 0n */
  assert_int_equal(call(f, T_NEG64), KNIT_OK);
  assert_int_equal(first(f, &r).count, 0);
}

static void test_bigint_range(void **state) {
  fx *f = *state;
  uint64_t big[2] = {1, 1};
  knit_writer_reset(&f->w);
  knit_put_bigint(&f->w, 0, big, 2);
  assert_int_equal(call(f, T_NEG64), KNIT_THROWN);
  assert_non_null(strstr(thrown(f, "RangeError"), "does not fit int64_t"));
  uint64_t m = (uint64_t)INT64_MAX + 1;
  knit_writer_reset(&f->w);
  knit_put_bigint(&f->w, 0, &m, 1);
  assert_int_equal(call(f, T_NEG64), KNIT_THROWN);
  knit_writer_reset(&f->w);
  knit_put_bigint(&f->w, 1, &m, 1); /* INT64_MIN fits; its negation wraps in C */
  assert_int_equal(call(f, T_NEG64), KNIT_OK);
}

static void test_structs(void **state) {
  fx *f = *state;
  knit_writer_reset(&f->w);
  knit_put_container(&f->w, KNIT_T_ARRAY, 2);
  knit_put_container(&f->w, KNIT_T_OBJECT, 3);
  knit_put_str8(&f->w, "y", 1);
  knit_put_number(&f->w, 4);
  knit_put_str8(&f->w, "extra", 5);
  knit_put_container(&f->w, KNIT_T_ARRAY, 1);
  knit_put_tag(&f->w, KNIT_T_NULL);
  const uint16_t x16[] = {'x'};
  knit_put_str16(&f->w, x16, 1);
  knit_put_number(&f->w, 2);
  knit_put_container(&f->w, KNIT_T_OBJECT, 2);
  knit_put_str8(&f->w, "x", 1);
  knit_put_number(&f->w, 4);
  knit_put_str8(&f->w, "y", 1);
  knit_put_number(&f->w, 8);
  assert_int_equal(call(f, T_MID), KNIT_OK);
  knit_reader r;
  knit_item it = first(f, &r);
  assert_int_equal(it.tag, KNIT_T_OBJECT);
  assert_int_equal(it.count, 2);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_memory_equal(it.data, "x", 1);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_true(it.num == 3);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_true(it.num == 6);

  /* a missing member, a wrong member type, not an object */
  knit_writer_reset(&f->w);
  knit_put_container(&f->w, KNIT_T_ARRAY, 2);
  knit_put_container(&f->w, KNIT_T_OBJECT, 1);
  knit_put_str8(&f->w, "x", 1);
  knit_put_number(&f->w, 1);
  knit_put_container(&f->w, KNIT_T_OBJECT, 0);
  assert_int_equal(call(f, T_MID), KNIT_THROWN);
  assert_string_equal(thrown(f, "TypeError"), "argument[0]: property 'y' is missing");
  knit_writer_reset(&f->w);
  knit_put_container(&f->w, KNIT_T_ARRAY, 2);
  knit_put_container(&f->w, KNIT_T_OBJECT, 1);
  knit_put_str8(&f->w, "x", 1);
  knit_put_tag(&f->w, KNIT_T_TRUE);
  assert_int_equal(call(f, T_MID), KNIT_THROWN);
  assert_string_equal(thrown(f, "TypeError"), "argument[0].x: expected a number, got a boolean");
  knit_writer_reset(&f->w);
  knit_put_container(&f->w, KNIT_T_ARRAY, 2);
  knit_put_number(&f->w, 1);
  knit_put_number(&f->w, 1);
  assert_int_equal(call(f, T_MID), KNIT_THROWN);
  assert_string_equal(thrown(f, "TypeError"), "argument[0]: expected an object, got a number");
}

static void test_strings(void **state) {
  fx *f = *state;
  knit_reader r;
  knit_item it;
  knit_writer_reset(&f->w);
  knit_put_str8(&f->w, "hello", 5);
  assert_int_equal(call(f, T_UPPER), KNIT_OK);
  it = first(f, &r);
  assert_int_equal(it.tag, KNIT_T_STR8);
  assert_memory_equal(it.data, "HELLO", 5);
  /* UTF-16 arrives as UTF-8, lone surrogates as WTF-8 */
  const uint16_t units[] = {0x00e9, 0xd83d, 0xde00, 0xd800};
  knit_writer_reset(&f->w);
  knit_put_str16(&f->w, units, 4);
  assert_int_equal(call(f, T_LEN), KNIT_OK);
  assert_true(first(f, &r).num == 2 + 4 + 3);
  /* echoed, it goes back as the units it came as: UTF-8 would lose the
   * surrogate */
  assert_int_equal(call(f, T_STR), KNIT_OK);
  it = first(f, &r);
  assert_int_equal(it.tag, KNIT_T_STR16);
  assert_int_equal(it.count, 4);
  assert_memory_equal(it.data, units, sizeof units);
  knit_writer_reset(&f->w);
  knit_put_str8(&f->w, "", 0);
  assert_int_equal(call(f, T_STR), KNIT_OK);
  assert_int_equal(first(f, &r).len, 0);
  knit_writer_reset(&f->w);
  knit_put_number(&f->w, 1);
  assert_int_equal(call(f, T_LEN), KNIT_THROWN);
  assert_string_equal(thrown(f, "TypeError"), "argument: expected a string, got a number");
}

static void test_binary(void **state) {
  fx *f = *state;
  knit_reader r;
  knit_item it;
  unsigned tags[] = {KNIT_T_UINT8, KNIT_T_BUFFER, KNIT_T_UINT8C, KNIT_T_ARRAYBUFFER};
  for (int k = 0; k < 4; k++) {
    knit_writer_reset(&f->w);
    knit_put_binary(&f->w, tags[k], "abc", 3);
    assert_int_equal(call(f, T_BYTES), KNIT_OK);
    it = first(f, &r);
    assert_int_equal(it.tag, KNIT_T_UINT8);
    assert_memory_equal(it.data, "abc", 3);
  }
  assert_int_equal(call(f, T_AB), KNIT_OK);
  assert_int_equal(first(f, &r).tag, KNIT_T_ARRAYBUFFER);
  knit_writer_reset(&f->w);
  knit_put_binary(&f->w, KNIT_T_INT16, "abcd", 4);
  assert_int_equal(call(f, T_BYTES), KNIT_THROWN);
  assert_string_equal(thrown(f, "TypeError"), "argument: expected a Uint8Array or ArrayBuffer, got another kind of value");

  /* Float64Array: in place when aligned, copied when the payload is not */
  double v[3] = {1, 2, 3.5};
  knit_writer_reset(&f->w);
  knit_put_binary(&f->w, KNIT_T_FLOAT64, v, sizeof v);
  assert_int_equal(call(f, T_SUM), KNIT_OK);
  assert_true(first(f, &r).num == 6.5);
  uint8_t *odd = malloc(f->w.len + 1);
  memcpy(odd + 1, f->w.buf, f->w.len);
  knit_writer_reset(&f->out);
  assert_int_equal(knit_native_invoke(f->t, T_SUM, odd + 1, f->w.len, &f->out), KNIT_OK);
  assert_true(first(f, &r).num == 6.5);
  free(odd);
  knit_writer_reset(&f->w);
  knit_put_binary(&f->w, KNIT_T_FLOAT64, NULL, 0);
  assert_int_equal(call(f, T_SUM), KNIT_OK);
  assert_true(first(f, &r).num == 0);

  knit_writer_reset(&f->w);
  knit_put_number(&f->w, 3);
  assert_int_equal(call(f, T_IOTA), KNIT_OK);
  it = first(f, &r);
  assert_int_equal(it.tag, KNIT_T_INT32);
  assert_int_equal(it.count, 3);
  assert_int_equal(((const int32_t *)it.data)[2], 2);
}

static void test_throw_and_bad_results(void **state) {
  fx *f = *state;
  knit_writer_reset(&f->w);
  knit_put_number(&f->w, 1);
  assert_int_equal(call(f, T_THROW), KNIT_THROWN);
  assert_string_equal(thrown(f, "Error"), "no luck");
  assert_int_equal(call(f, T_NULL), KNIT_THROWN);
  assert_non_null(strstr(thrown(f, "Error"), "returned NULL data with length 3"));
  /* outside a native task */
  assert_null(knit_result_alloc(8));
  assert_null(knit_result_str("x", 1).data);
  assert_null(knit_result_bytes("x", 1).data);
  assert_int_equal(knit_native_throw("x"), -EPERM);
}

static void test_malformed_and_tuple_errors(void **state) {
  fx *f = *state;
  const uint8_t junk[] = {0xff};
  knit_writer_reset(&f->out);
  assert_int_equal(knit_native_invoke(f->t, T_ADD, junk, 1, &f->out), KNIT_THROWN);
  assert_string_equal(thrown(f, "TypeError"), "malformed request payload");
  knit_writer_reset(&f->out);
  assert_int_equal(knit_native_invoke(f->t, T_LEN, junk, 0, &f->out), KNIT_THROWN);
  assert_string_equal(thrown(f, "TypeError"), "malformed request payload");
  knit_writer_reset(&f->w);
  knit_put_str8(&f->w, "a", 1);
  assert_int_equal(call(f, T_ADD), KNIT_THROWN);
  assert_string_equal(thrown(f, "TypeError"), "argument: expected a tuple of 2 elements, got a string");
  pair(f, 1, 2);
  f->w.buf[1] = 3; /* count 3, but only 2 elements: malformed */
  assert_int_equal(call(f, T_ADD), KNIT_THROWN);
  knit_writer_reset(&f->w);
  knit_put_container(&f->w, KNIT_T_ARRAY, 1);
  knit_put_number(&f->w, 1);
  assert_int_equal(call(f, T_ADD), KNIT_THROWN);
  assert_string_equal(thrown(f, "TypeError"), "argument: expected a tuple of 2 elements, got 1");
  /* no such task; a writer too small for the result */
  assert_int_equal(call(f, 999), -ENOENT);
  knit_writer small;
  knit_writer_init(&small, 4);
  pair(f, 1, 2);
  assert_int_equal(knit_native_invoke(f->t, T_ADD, f->w.buf, f->w.len, &small), -EMSGSIZE);
  knit_writer_clear(&small);
}

static void test_table_errors(void **state) {
  knit_native_tasks *t;
  char why[512];
  assert_int_equal(knit_native_tasks_create(&t), 0);
  assert_int_equal(knit_native_tasks_add(t, 0, NULL, NULL, "number", "number", why, sizeof why), -EINVAL);
  assert_int_equal(knit_native_tasks_add(t, 0, (void *)add, NULL, NULL, "number", why, sizeof why), -EINVAL);
  assert_int_equal(knit_native_tasks_add(t, 1u << 20, (void *)add, NULL, "number", "number", why, sizeof why), -EINVAL);
  assert_int_equal(knit_native_tasks_add(t, 5, (void *)add, NULL, "[number, number]", "number", why, sizeof why), 0);
  assert_int_equal(knit_native_tasks_add(t, 5, (void *)add, NULL, "[number, number]", "number", why, sizeof why), -EEXIST);
  assert_int_equal(knit_native_tasks_add(t, 2, (void *)add, NULL, "Set<number>", "number", why, sizeof why), -EINVAL);
  /* dlopen/dlsym: a system library through libffi */
  assert_int_equal(knit_native_tasks_add_symbol(t, 3, "libm.so.6", "cos", "number", "number", why, sizeof why), 0);
  assert_int_equal(knit_native_tasks_add_symbol(t, 4, "/no/such/lib.so", "cos", "number", "number", why, sizeof why), -ENOENT);
  assert_non_null(strstr(why, "cannot load library /no/such/lib.so"));
  assert_int_equal(knit_native_tasks_add_symbol(t, 4, "libm.so.6", "no_such_fn", "number", "number", why, sizeof why), -ENOENT);
  assert_non_null(strstr(why, "has no symbol 'no_such_fn'"));
  assert_int_equal(knit_native_tasks_add_symbol(t, 4, "libm.so.6", "sin", NULL, "number", why, sizeof why), -EINVAL);
  assert_non_null(strstr(why, "no declared signature"));
  assert_non_null(strstr(why, "sin__knit"));
  assert_int_equal(knit_native_tasks_add_symbol(t, 4, "libm.so.6", "", "number", "number", why, sizeof why), -EINVAL);
  knit_writer w, out;
  knit_writer_init(&w, 64);
  knit_writer_init(&out, 64);
  knit_put_number(&w, 0);
  assert_int_equal(knit_native_invoke(t, 3, w.buf, w.len, &out), KNIT_OK);
  knit_reader r;
  knit_item it;
  knit_reader_init(&r, out.buf, out.len);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_true(it.num == 1); /* cos(0) */
  assert_int_equal(knit_native_invoke(t, 2, w.buf, w.len, &out), -ENOENT);
  knit_writer_clear(&w);
  knit_writer_clear(&out);
  knit_native_tasks_ref(t);
  knit_native_tasks_unref(t);
  knit_native_tasks_unref(t);
  knit_native_tasks_unref(NULL);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_scalar_params),
    cmocka_unit_test(test_struct_layout_matches_c_and_libffi),
    cmocka_unit_test(test_mapping_errors),
    cmocka_unit_test_setup_teardown(test_numbers_and_dispatch, setup, teardown),
    cmocka_unit_test_setup_teardown(test_bigint_range, setup, teardown),
    cmocka_unit_test_setup_teardown(test_structs, setup, teardown),
    cmocka_unit_test_setup_teardown(test_strings, setup, teardown),
    cmocka_unit_test_setup_teardown(test_binary, setup, teardown),
    cmocka_unit_test_setup_teardown(test_throw_and_bad_results, setup, teardown),
    cmocka_unit_test_setup_teardown(test_malformed_and_tuple_errors, setup, teardown),
    cmocka_unit_test(test_table_errors),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

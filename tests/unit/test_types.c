/* test_types.c: knit_type_* (runtime/src/types.c), the one type parser. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "knit/types.h"

static knit_type *parse(const char *s)
{
  knit_type *t = NULL;
  knit_type_error e;
  int rc = knit_type_parse(s, strlen(s), &t, &e);
  if (rc)
    fail_msg("parse '%s': %d at %zu: %s", s, rc, e.offset, e.message);
  return t;
}

static void expect_print(const char *in, const char *want)
{
  knit_type *t = parse(in);
  char buf[256];
  int n = knit_type_print(t, buf, sizeof buf);
  assert_int_equal(n, (int)strlen(want));
  assert_string_equal(buf, want);
  knit_type_destroy(t);
}

static void test_kinds(void **state)
{
  (void)state;
  static const struct {
    const char *text;
    knit_type_kind kind;
  } cases[] = {
    {"number", KNIT_TYPE_NUMBER}, {"boolean", KNIT_TYPE_BOOLEAN}, {"bigint", KNIT_TYPE_BIGINT},
    {"string", KNIT_TYPE_STRING}, {"void", KNIT_TYPE_VOID}, {"undefined", KNIT_TYPE_VOID},
    {"null", KNIT_TYPE_NULL}, {"unknown", KNIT_TYPE_UNKNOWN}, {"any", KNIT_TYPE_UNKNOWN},
    {"Date", KNIT_TYPE_DATE}, {"RangeError", KNIT_TYPE_ERROR}, {"ArrayBuffer", KNIT_TYPE_BINARY},
    {"DataView", KNIT_TYPE_BINARY}, {"Buffer", KNIT_TYPE_BINARY},
    {"BigUint64Array", KNIT_TYPE_BINARY}, {"Uint8ClampedArray", KNIT_TYPE_BINARY},
    {"[number, string]", KNIT_TYPE_TUPLE}, {"number[]", KNIT_TYPE_ARRAY},
    {"Array<number>", KNIT_TYPE_ARRAY}, {"ReadonlyArray<string>", KNIT_TYPE_ARRAY},
    {"{ a: number }", KNIT_TYPE_OBJECT}, {"Map<string, number>", KNIT_TYPE_MAP},
    {"Set<number>", KNIT_TYPE_SET}, {"Record<string, Date>", KNIT_TYPE_RECORD},
    {"string | null", KNIT_TYPE_UNION}, {"A & B", KNIT_TYPE_INTERSECTION},
    {"'x'", KNIT_TYPE_LITERAL}, {"-1", KNIT_TYPE_LITERAL}, {"true", KNIT_TYPE_LITERAL},
    {"10n", KNIT_TYPE_LITERAL}, {"Promise<number>", KNIT_TYPE_PROMISE},
    {"(x: number) => void", KNIT_TYPE_FUNCTION}, {"Foo.Bar<X>", KNIT_TYPE_NAME},
    {"(number)", KNIT_TYPE_NUMBER}, {"keyof T", KNIT_TYPE_OPAQUE},
    {"T extends U ? X : Y", KNIT_TYPE_OPAQUE}, {"{ [K in keyof T]: T[K] }", KNIT_TYPE_OPAQUE},
    {"`a${string}`", KNIT_TYPE_OPAQUE}, {"symbol", KNIT_TYPE_SYMBOL},
    {"unique symbol", KNIT_TYPE_SYMBOL}, {"typeof x", KNIT_TYPE_OPAQUE},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    knit_type *t = parse(cases[k].text);
    if (t->kind != cases[k].kind)
      fail_msg("'%s': kind %d, want %d", cases[k].text, t->kind, cases[k].kind);
    knit_type_destroy(t);
  }
}

static void test_structure(void **state)
{
  (void)state;
  knit_type *t = parse("readonly [a: number, b?: string, ...rest: Uint8Array[]]");
  assert_int_equal(t->kind, KNIT_TYPE_TUPLE);
  assert_true(t->flags & KNIT_TYPE_READONLY);
  assert_int_equal(t->n_items, 3);
  assert_int_equal(t->items[0]->kind, KNIT_TYPE_NUMBER);
  assert_memory_equal(t->items[0]->label, "a", 1);
  assert_true(t->items[1]->flags & KNIT_TYPE_OPTIONAL);
  assert_true(t->items[2]->flags & KNIT_TYPE_REST);
  assert_int_equal(t->items[2]->items[0]->tag, KNIT_T_UINT8);
  knit_type_destroy(t);

  t = parse("{ readonly a: number; b?: Map<string, Set<bigint>>, c(): void\n d: Date }");
  assert_int_equal(t->kind, KNIT_TYPE_OBJECT);
  assert_int_equal(t->n_items, 4);
  assert_true(t->items[0]->flags & KNIT_TYPE_READONLY);
  assert_true(t->items[1]->flags & KNIT_TYPE_OPTIONAL);
  assert_int_equal(t->items[1]->items[1]->kind, KNIT_TYPE_SET);
  assert_true(t->items[2]->flags & KNIT_TYPE_METHOD);
  assert_int_equal(t->items[3]->kind, KNIT_TYPE_DATE);
  knit_type_destroy(t);
}

static void test_print(void **state)
{
  (void)state;
  expect_print("Array< string >", "string[]");
  expect_print("[ number,number ]", "[number, number]");
  expect_print("{a:number,b?:string}", "{ a: number; b?: string }");
  expect_print("(string | number)[]", "(string | number)[]");
  expect_print("Promise<Map<string,number>>", "Promise<Map<string, number>>");
  expect_print("\"a\" | 'b' | 1", "\"a\" | 'b' | 1");
  expect_print("{}", "{}");
  expect_print("ReadonlyArray<number>", "readonly number[]");
}

static void expect_norm(const char *in, const char *want)
{
  char buf[256];
  int n = knit_type_normalize(in, strlen(in), buf, sizeof buf);
  assert_int_equal(n, (int)strlen(want));
  assert_string_equal(buf, want);
}

static void test_normalize(void **state)
{
  (void)state;
  expect_norm("[ number,number ]", "[number, number]");
  expect_norm("  Map< string ,  Array<number> >  ", "Map<string, Array<number>>");
  expect_norm("{\n  a: number\n  b:   string;\n}", "{ a: number; b: string; }");
  expect_norm("{\n  a:\n    | 'x'\n    | 'y'\n  b: 1\n}", "{ a: | 'x' | 'y'; b: 1 }");
  expect_norm("'a  b' | `c  ${ d }`", "'a  b' | `c  ${ d }`");
  expect_norm("number /* c */ []", "number[]");
  expect_norm("readonly [number]", "readonly [number]");
  expect_norm("A extends B ? C : D", "A extends B ? C : D");
  expect_norm("{ a? : number }", "{ a?: number }");
  expect_norm("(x:number)=>void", "(x: number) => void");
  /* one space after ';' as after ',' and ':'; empty braces tight */
  expect_norm("{a:number;b:string}", "{ a: number; b: string }");
  expect_norm("{a:number; b:string}", "{ a: number; b: string }");
  expect_norm("{ }", "{}");
  expect_norm("Record<string, { }>", "Record<string, {}>");
  /* snprintf semantics */
  char small[4];
  assert_int_equal(knit_type_normalize("number", 6, small, sizeof small), 6);
  assert_string_equal(small, "num");
  assert_int_equal(knit_type_normalize("", 0, NULL, 0), 0);
}

static void expect_error(const char *s, size_t offset)
{
  knit_type *t = (knit_type *)1;
  knit_type_error e;
  assert_int_equal(knit_type_parse(s, strlen(s), &t, &e), -EINVAL);
  assert_null(t);
  if (e.offset != offset)
    fail_msg("'%s': error at %zu (%s), want %zu", s, e.offset, e.message, offset);
}

static void test_errors(void **state)
{
  (void)state;
  expect_error("", 0);
  expect_error("number[", 7);
  expect_error("[number", 7);
  expect_error("{ a: }", 5);
  expect_error("number string", 7);
  expect_error("'open", 0);
  expect_error("/* open", 0);
  char deep[512];
  memset(deep, '[', sizeof deep - 1);
  deep[sizeof deep - 1] = 0;
  knit_type *t;
  knit_type_error e;
  assert_int_equal(knit_type_parse(deep, strlen(deep), &t, &e), -EINVAL);
  assert_non_null(strstr(e.message, "deeply"));
  assert_int_equal(knit_type_parse(NULL, 1, &t, NULL), -EINVAL);
  knit_type_destroy(NULL);
}

/* resolver: Alias -> { n: number }, Fn -> a function type, Cls -> class */
static knit_type *alias_ok, *alias_bad, *alias_rec;

static knit_ref resolve(void *ctx, const char *name, size_t len, const knit_type **out)
{
  (void)ctx;
  if (len == 5 && !memcmp(name, "Alias", 5)) {
    *out = alias_ok;
    return KNIT_REF_ALIAS;
  }
  if (len == 3 && !memcmp(name, "Bad", 3)) {
    *out = alias_bad;
    return KNIT_REF_ALIAS;
  }
  if (len == 4 && !memcmp(name, "Tree", 4)) {
    *out = alias_rec;
    return KNIT_REF_ALIAS;
  }
  if (len == 3 && !memcmp(name, "Cls", 3))
    return KNIT_REF_CLASS;
  if (len == 1 && name[0] == 'T')
    return KNIT_REF_PARAM;
  if (len == 8 && !memcmp(name, "Imported", 8))
    return KNIT_REF_OPAQUE;
  return KNIT_REF_UNKNOWN;
}

static int carry(const char *s, unsigned flags, char *why, size_t n)
{
  knit_type *t = parse(s);
  int rc = knit_type_carryable(t, flags, resolve, NULL, NULL, why, n);
  knit_type_destroy(t);
  return rc;
}

static void test_carryable(void **state)
{
  (void)state;
  alias_ok = parse("{ n: number; tags: string[] }");
  alias_bad = parse("{ n: number; cb: (x: number) => void }");
  alias_rec = parse("{ v: number; kids: Tree[] }");
  char why[256];
  static const char *const ok[] = {
    "number", "[number, string]", "Map<string, Set<Date>>", "Alias", "Alias[]", "T", "Imported",
    "Tree", "Partial<Alias>", "{ a?: Uint8Array; b: null | undefined }", "Record<string, Error>",
    "'a' | 'b'", "keyof Alias", "object", "Array<T>",
    /* utility types whose arguments do not travel */
    "ReturnType<typeof f>", "ReturnType<() => number>", "Parameters<(x: number) => void>",
    "InstanceType<typeof Cls>", "ConstructorParameters<typeof Cls>",
    "ThisParameterType<(this: Alias) => void>", "OmitThisParameter<Alias>",
    "Awaited<Promise<number>>", "Awaited<Alias>",
  };
  for (size_t k = 0; k < sizeof ok / sizeof ok[0]; k++)
    if (carry(ok[k], 0, why, sizeof why) != 1)
      fail_msg("'%s' should be carryable: %s", ok[k], why);
  static const struct {
    const char *text;
    const char *why;
  } bad[] = {
    {"(x: number) => void", "function"},
    {"symbol", "symbol"},
    {"Cls", "class"},
    {"Nope", "unknown type 'Nope'"},
    {"Bad", "in 'Bad': property 'cb'"},
    {"{ m(): void }", "method 'm'"},
    {"Promise<number>", "Promise"},
    {"WeakMap<object, number>", "WeakMap"},
    {"[number, Function]", "Function"},
    {"Map<string, Cls>", "class"},
    {"Awaited<Bad>", "property 'cb'"},
    {"Float16Array", "no float16 arrays (use Float32Array)"},
    {"Blob", "'Blob' cannot be carried"},
    {"{ f: File }", "'File' cannot be carried"},
  };
  for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    if (carry(bad[k].text, 0, why, sizeof why) != 0)
      fail_msg("'%s' should not be carryable", bad[k].text);
    if (!strstr(why, bad[k].why))
      fail_msg("'%s': reason '%s' lacks '%s'", bad[k].text, why, bad[k].why);
  }
  assert_int_equal(carry("Promise<number>", KNIT_CARRY_RESULT, why, sizeof why), 1);
  assert_int_equal(carry("Promise<Promise<number>>", KNIT_CARRY_RESULT, why, sizeof why), 0);
  assert_int_equal(knit_type_carryable(NULL, 0, NULL, NULL, NULL, NULL, 0), -EINVAL);
  knit_type_destroy(alias_ok);
  knit_type_destroy(alias_bad);
  knit_type_destroy(alias_rec);
}

static void test_codecs(void **state)
{
  (void)state;
  static const struct {
    const char *text, *codec;
  } cases[] = {
    {"number", "f64"}, {"string", "str"}, {"boolean", "bool"}, {"bigint", "bigint"},
    {"Uint8Array", "bytes"}, {"Float64Array", "f64s"}, {"Promise<string>", "str"},
    {"[number, number]", "any"}, {"Int32Array", "any"}, {"number | string", "any"},
    {"Buffer", "any"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    knit_type *t = parse(cases[k].text);
    assert_string_equal(knit_codec_name(knit_type_codec(t)), cases[k].codec);
    knit_type_destroy(t);
  }
  assert_string_equal(knit_codec_name(knit_type_codec(NULL)), "any");
}

static void test_ctypes(void **state)
{
  (void)state;
  static const struct {
    const char *text, *c;
  } cases[] = {
    {"number", "double"}, {"boolean", "bool"}, {"bigint", "int64_t"}, {"string", "knit_str"},
    {"Uint8Array", "knit_bytes"}, {"ArrayBuffer", "knit_bytes"}, {"Float64Array", "knit_f64s"},
    {"Int32Array", "knit_i32s"}, {"void", "void"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    knit_type *t = parse(cases[k].text);
    assert_string_equal(knit_ctype_name(knit_type_ctype(t)), cases[k].c);
    knit_type_destroy(t);
  }
  knit_ctype out[4];
  const knit_type *el[4];
  knit_type *t = parse("[Float64Array, Float64Array]");
  assert_int_equal(knit_type_c_params(t, out, el, 4), 2);
  assert_int_equal(out[0], KNIT_C_F64S);
  assert_int_equal(out[1], KNIT_C_F64S);
  assert_int_equal(knit_type_c_params(t, out, el, 1), -E2BIG);
  knit_type_destroy(t);
  t = parse("{ x: number; y: number }");
  assert_int_equal(knit_type_ctype(t), KNIT_C_STRUCT);
  assert_int_equal(knit_type_c_params(t, out, NULL, 4), 1);
  assert_int_equal(out[0], KNIT_C_STRUCT);
  knit_type_destroy(t);
  t = parse("void");
  assert_int_equal(knit_type_c_params(t, out, NULL, 4), 0);
  knit_type_destroy(t);
  t = parse("[number, [number]]");
  assert_int_equal(knit_type_c_params(t, out, NULL, 4), -ENOTSUP);
  knit_type_destroy(t);
  t = parse("string | number");
  assert_int_equal(knit_type_c_params(t, out, NULL, 4), -ENOTSUP);
  assert_null(knit_ctype_name(knit_type_ctype(t)));
  knit_type_destroy(t);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_kinds),
    cmocka_unit_test(test_structure),
    cmocka_unit_test(test_print),
    cmocka_unit_test(test_normalize),
    cmocka_unit_test(test_errors),
    cmocka_unit_test(test_carryable),
    cmocka_unit_test(test_codecs),
    cmocka_unit_test(test_ctypes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

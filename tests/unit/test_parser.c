/* test_parser.c: knitgen's module scan and task list, in-process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kg.h"

static kg_project proj;

static unsigned scan(const char *path, const char *src)
{
  kg_project_init(&proj);
  proj.no_follow = true;
  assert_int_equal(kg_project_add_memory(&proj, path, src, strlen(src)), 0);
  return kg_project_resolve(&proj);
}

static void teardown_proj(void)
{
  kg_project_clear(&proj);
}

static const kg_task *task_named(const char *name)
{
  for (size_t k = 0; k < proj.ntasks; k++)
    if (!strcmp(proj.tasks[k].name, name))
      return &proj.tasks[k];
  return NULL;
}

static void expect_task(const char *name, kg_task_kind kind, const char *arg, const char *result)
{
  const kg_task *t = task_named(name);
  if (!t)
    fail_msg("no task '%s'", name);
  assert_int_equal(t->kind, kind);
  assert_string_equal(t->arg, arg);
  assert_string_equal(t->result, result);
}

static void test_task_forms(void **state)
{
  (void)state;
  assert_int_equal(scan("t.ts",
    "import { task } from 'knitting';\n"
    "export const add = task<[number, number], number>({ f: ([a, b]) => a + b });\n"
    "export const a2 = task({ f: (x: string): Promise<number> => 1 });\n"
    "export const a3 = task({ async f(x: Date): Promise<string> { return '' } });\n"
    "export const a4 = task({ f: async function (x: bigint): Promise<bigint> { return x } });\n"
    "export const a5 = task({ f: ({ a, b }: { a: number; b: string }) => a, timeout: 5 });\n"
    "export const a6 = task({ f, abortSignal: true });\n"
    "function f(s: Uint8Array): Float64Array { return new Float64Array() }\n"
    "export const a7 = task({ f: x => x });\n"
    "export const world = task({ f }).createPool();\n"
    "export const notTask = task({ f }).run();\n"), 0);
  expect_task("add", KG_K_TASK, "[number, number]", "number");
  expect_task("a2", KG_K_TASK, "string", "number");
  expect_task("a3", KG_K_TASK, "Date", "string");
  expect_task("a4", KG_K_TASK, "bigint", "bigint");
  expect_task("a5", KG_K_TASK, "{ a: number; b: string }", "unknown");
  expect_task("a6", KG_K_TASK, "Uint8Array", "Float64Array");
  expect_task("a7", KG_K_TASK, "unknown", "unknown");
  expect_task("world", KG_K_TASK, "Uint8Array", "Float64Array");
  assert_null(task_named("notTask"));
  assert_int_equal(task_named("a5")->options, KG_OPT_TIMEOUT);
  assert_int_equal(task_named("a6")->options, KG_OPT_ABORT);
  assert_int_equal(task_named("a6")->arg_codec, KNIT_CODEC_BYTES);
  assert_int_equal(task_named("a6")->result_codec, KNIT_CODEC_F64S);
  assert_int_equal(task_named("add")->line, 2);
  assert_int_equal(task_named("add")->col, 14);
  teardown_proj();
}

static void test_function_forms(void **state)
{
  (void)state;
  assert_int_equal(scan("t.ts",
    "export function sq(x: number): number { return x * x }\n"
    "export async function later(ms: number): Promise<void> {}\n"
    "export const half = (x: number): number => x / 2;\n"
    "export const ah = async (x: string): Promise<string[]> => [x];\n"
    "export function id<T>(x: T): T { return x }\n"
    "export const none = () => 1;\n"
    "export function obj(): { a: number } { return { a: 1 } }\n"
    "export function over(x: string): string;\n"
    "export function over(x: number): number;\n"
    "export function over(x: any): any { return x }\n"
    "export const fe = function named(a: boolean): boolean { return a };\n"), 0);
  expect_task("sq", KG_K_FUNCTION, "number", "number");
  expect_task("later", KG_K_FUNCTION, "number", "void");
  expect_task("half", KG_K_FUNCTION, "number", "number");
  expect_task("ah", KG_K_FUNCTION, "string", "string[]");
  expect_task("id", KG_K_FUNCTION, "T", "T");
  expect_task("none", KG_K_FUNCTION, "void", "unknown");
  expect_task("obj", KG_K_FUNCTION, "void", "{ a: number }");
  expect_task("over", KG_K_FUNCTION, "string", "string");
  expect_task("fe", KG_K_FUNCTION, "boolean", "boolean");
  assert_int_equal(proj.ntasks, 9);
  teardown_proj();
}

static void test_import_native(void **state)
{
  (void)state;
  assert_int_equal(scan("t.ts",
    "export const r = importTask<string, number>({ href: './o.ts', name: 'len' });\n"
    "export const c = nativeTask<Uint8Array, number>({ symbol: 'crc', library: './l.so' });\n"
    "export const d = nativeTask({ symbol: \"dot\", library: \"./l.so\", arg: \"[Float64Array,Float64Array]\", result: 'number' });\n"), 0);
  expect_task("r", KG_K_IMPORT, "string", "number");
  expect_task("c", KG_K_NATIVE, "Uint8Array", "number");
  expect_task("d", KG_K_NATIVE, "[Float64Array, Float64Array]", "number");
  assert_string_equal(task_named("r")->href, "./o.ts");
  assert_string_equal(task_named("r")->import_name, "len");
  assert_string_equal(task_named("c")->symbol, "crc");
  assert_string_equal(task_named("d")->library, "./l.so");
  teardown_proj();
}

static void test_export_lists(void **state)
{
  (void)state;
  assert_int_equal(scan("t.ts",
    "const a = task({ f: (x: number) => x });\n"
    "function b(s: string): string { return s }\n"
    "const c = a;\n"
    "export { a as plus, b };\n"
    "export { c };\n"
    "export { K as constant };\n"
    "const K = 1;\n"), 0);
  expect_task("plus", KG_K_TASK, "number", "unknown");
  expect_task("b", KG_K_FUNCTION, "string", "string");
  expect_task("c", KG_K_TASK, "number", "unknown");
  assert_null(task_named("constant"));
  assert_null(task_named("a"));
  assert_string_equal(task_named("plus")->export_name, "plus");
  assert_int_equal(proj.ntasks, 3);
  /* ids follow source order */
  assert_string_equal(proj.tasks[0].name, "plus");
  assert_string_equal(proj.tasks[2].name, "c");
  teardown_proj();
}

static void test_not_tasks(void **state)
{
  (void)state;
  assert_int_equal(scan("t.ts",
    "export type T = (x: number) => number;\n"
    "export interface I { f(): void }\n"
    "export class C { m() {} }\n"
    "export abstract class D {}\n"
    "export enum E { A }\n"
    "export const K = 42, S = 'x', O = { f: () => 1 };\n"
    "export const { p, q: [r] } = obj;\n"
    "export declare function decl(x: number): number;\n"
    "export namespace N { export const inner = task({ f: (x: number) => x }) }\n"
    "const priv = task({ f: (x: number) => x });\n"
    "function helper(x: number) {}\n"
    "// export const c1 = task({ f: (x: number) => x });\n"
    "/* export const c2 = task({ f: (x: number) => x }); */\n"
    "const s1 = 'export const c3 = task({})';\n"
    "const t1 = `${1} export const c4 = task({}) ${2}`;\n"
    "const r1 = /export const c5 = task/;\n"
    "export default function main() {}\n"), 0);
  assert_int_equal(proj.ntasks, 0);
  teardown_proj();
}

static void expect_diag(unsigned idx, kg_severity sev, unsigned line, unsigned col, const char *msg)
{
  assert_true(idx < proj.diags.n);
  const kg_diag_entry *g = &proj.diags.v[idx];
  assert_int_equal(g->sev, sev);
  assert_non_null(g->file);
  assert_int_equal(kg_file_line(g->file, g->off), line);
  assert_int_equal(kg_file_col(g->file, g->off), col);
  if (!strstr(g->msg, msg))
    fail_msg("'%s' does not contain '%s'", g->msg, msg);
}

static void test_duplicates(void **state)
{
  (void)state;
  assert_int_equal(scan("t.ts",
    "export const a = task({ f: (x: number) => x });\n"
    "export function a(x: number) {}\n"
    "const b = 1;\n"
    "export { b, b as c, b };\n"), 2);
  expect_diag(0, KG_ERROR, 2, 17, "duplicate export 'a'");
  expect_diag(1, KG_NOTE, 1, 14, "first exported here");
  expect_diag(2, KG_ERROR, 4, 21, "duplicate export 'b'");
  teardown_proj();
}

static void test_uncarryable(void **state)
{
  (void)state;
  assert_int_equal(scan("t.ts",
    "class P { x = 1 }\n"
    "type Shape = { n: number; draw: () => void };\n"
    "type Ok = { n: number; tags: string[] };\n"
    "export function f1(x: P): number { return 1 }\n"
    "export function f2(x: number): symbol { return Symbol() }\n"
    "export function f3(x: Shape): Ok { return { n: 1, tags: [] } }\n"
    "export const f4 = task<(x: number) => void, void>({ f: () => {} });\n"
    "export function f5(x: Ok, y?: number): Promise<Ok> { return null! }\n"
    "export function f6(x: Promise<number>) {}\n"
    "export function f7<T>(x: Map<string, T>): Set<T> { return new Set() }\n"), 5);
  expect_diag(0, KG_ERROR, 4, 23, "'P' is a class");
  expect_diag(1, KG_ERROR, 5, 32, "'symbol' cannot be carried");
  expect_diag(2, KG_ERROR, 6, 23, "in 'Shape': property 'draw'");
  expect_diag(3, KG_ERROR, 7, 24, "a function cannot be carried");
  /* f5's optional second parameter would get the signal object */
  expect_diag(4, KG_WARNING, 8, 17, "the second parameter gets the task's signal object");
  expect_diag(5, KG_ERROR, 9, 23, "Promise can only be a task's result");
  teardown_proj();
}

static void test_multiple_params_warns(void **state)
{
  (void)state;
  assert_int_equal(scan("t.ts", "export function two(a: number, b: number) {}\n"), 0);
  assert_int_equal(proj.diags.warnings, 1);
  expect_task("two", KG_K_FUNCTION, "number", "unknown");
  teardown_proj();
}

static void test_never_crashes_on_fragments(void **state)
{
  (void)state;
  static const char *const frags[] = {
    "export", "export const", "export const x =", "export const x = task", "export const x = task<",
    "export const x = task<A", "export const x = task({", "export const x = task({ f:", "export {",
    "export { a as", "export * from", "export * as", "import {", "import x from", "export function",
    "export function f(", "export function f(a:", "export async", "export const f = async (",
    "type", "type X =", "interface I {", "export { a } from", "}}}}", ")))", "export default",
    "export const x = task({ f: (x: [) => 1 })", "export const x = <", "const { a, ...",
  };
  for (size_t k = 0; k < sizeof frags / sizeof frags[0]; k++) {
    scan("t.ts", frags[k]);
    teardown_proj();
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_task_forms),
    cmocka_unit_test(test_function_forms),
    cmocka_unit_test(test_import_native),
    cmocka_unit_test(test_export_lists),
    cmocka_unit_test(test_not_tasks),
    cmocka_unit_test(test_duplicates),
    cmocka_unit_test(test_uncarryable),
    cmocka_unit_test(test_multiple_params_warns),
    cmocka_unit_test(test_never_crashes_on_fragments),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

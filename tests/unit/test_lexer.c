/* test_lexer.c: the re2c lexer of knitgen, in-process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "kg.h"

typedef struct lexed {
  kg_file *f;
  kg_diags d;
} lexed;

static void lex(lexed *l, const char *path, const char *src)
{
  kg_diags_init(&l->d);
  assert_int_equal(kg_file_from_memory(path, src, strlen(src), &l->f), 0);
  assert_int_equal(kg_lex(l->f, &l->d), 0);
  assert_true(l->f->ntoks >= 1);
  assert_int_equal(l->f->toks[l->f->ntoks - 1].kind, KG_T_EOF);
}

static void done(lexed *l)
{
  kg_file_free(l->f);
  kg_diags_clear(&l->d);
}

/* Kinds of all tokens as a string of letters, for compact assertions:
 * i ident, s string, n number, b bigint, t template, h/m/l template head,
 * middle, tail, r regex, p punct, j jsx, # private. */
static void kinds(const lexed *l, char *out, size_t size)
{
  static const char code[] = {'$', 'i', '#', 's', 'n', 'b', 't', 'h', 'm', 'l', 'r', 'p', 'j'};
  size_t k = 0;
  for (; k + 1 < l->f->ntoks && k + 1 < size; k++)
    out[k] = code[l->f->toks[k].kind];
  out[k] = 0;
}

static void expect_kinds(const char *path, const char *src, const char *want)
{
  lexed l;
  lex(&l, path, src);
  char got[256];
  kinds(&l, got, sizeof got);
  assert_string_equal(got, want);
  assert_int_equal(l.d.errors, 0);
  done(&l);
}

static void test_basic_tokens(void **state)
{
  (void)state;
  expect_kinds("a.ts", "export const x = 1;", "iiipnp");
  expect_kinds("a.ts", "a => b ... c ?. d", "ipipipi");
  expect_kinds("a.ts", "#priv this.#x", "#ip#");
}

static void test_positions(void **state)
{
  (void)state;
  lexed l;
  lex(&l, "a.ts", "a\n  bb /* c\n c */ cc\n\t\"s\"");
  const kg_token *t = l.f->toks;
  assert_int_equal(t[0].line, 1);
  assert_int_equal(t[0].col, 1);
  assert_int_equal(t[1].line, 2);
  assert_int_equal(t[1].col, 3);
  assert_int_equal(t[2].line, 3);
  assert_int_equal(t[2].col, 7);
  assert_true(t[2].flags & KG_TF_NL); /* a comment with a line break counts as one */
  assert_int_equal(t[3].line, 4);
  assert_int_equal(t[3].col, 2);
  assert_true(t[3].flags & KG_TF_NL);
  done(&l);
}

static void test_comments_and_strings(void **state)
{
  (void)state;
  expect_kinds("a.ts", "// export const a = task()\nx", "i");
  expect_kinds("a.ts", "/* export */ x /* ** / */", "i");
  expect_kinds("a.ts", "'it\\'s' \"q\\\"\" 'line\\\ncontinued'", "sss");
}

static void test_numbers(void **state)
{
  (void)state;
  expect_kinds("a.ts", "1_000 0x1F_ff 0o17 0b1010 .5 1.5e-3 1e10", "nnnnnnn");
  expect_kinds("a.ts", "10n 0xffn 0b1n 1_0n", "bbbb");
  expect_kinds("a.ts", "a?.5:1", "ipnpn"); /* ?. followed by a digit is ? .5 */
}

static void test_templates(void **state)
{
  (void)state;
  expect_kinds("a.ts", "`plain`", "t");
  expect_kinds("a.ts", "`a${b}c`", "hil");
  expect_kinds("a.ts", "`a${`b${c}d`}e${f}g`", "hhilmil");
  expect_kinds("a.ts", "`a${ {x: '}'} }b`", "hpipspl");
  expect_kinds("a.ts", "`\\${not} $ {} \\``", "t");
}

static void test_regex_vs_division(void **state)
{
  (void)state;
  expect_kinds("a.ts", "a / b / c", "ipipi");
  expect_kinds("a.ts", "x = /ab+c/gi", "ipr");
  expect_kinds("a.ts", "return /[/]/.test(s)", "irpipip");
  expect_kinds("a.ts", "f(x) / 2", "ipippn");
  expect_kinds("a.ts", "a++ / 2", "ippn");
  expect_kinds("a.ts", "obj.return / 2", "ipipn");
  expect_kinds("a.ts", "x /= 2", "ipn");
  expect_kinds("a.ts", "typeof /x/", "ir");
  expect_kinds("a.ts", "[/\\//]", "prp");
}

static void test_regex_after_context(void **state)
{
  (void)state;
  /* a postfix `!` (non-null assertion) ends an operand: division follows */
  expect_kinds("a.ts", "m.get(\"a\")! / 2", "ipipspppn");
  expect_kinds("a.ts", "x! / 2; h / 4", "ippnpipn");
  expect_kinds("a.ts", "a[0]!! / b", "ipnppppi");
  expect_kinds("a.ts", "!/re/.test(s)", "prpipip"); /* prefix: negation */
  expect_kinds("a.ts", "x\n!/re/.test(s)", "iprpipip"); /* a line break: prefix */
  /* `)` of an if/while/for/with head: a statement, so a regex, follows */
  expect_kinds("a.ts", "if (x) /'/.test(s)", "ipiprpipip");
  expect_kinds("a.ts", "while (f(x)) /`/.test(s)", "ipipipprpipip");
  expect_kinds("a.ts", "for await (const y of z) /\"/.test(y)", "iipiiiiprpipip");
  expect_kinds("a.ts", "a.if(x) / 2", "ipipippn");
  expect_kinds("a.ts", "export default /\"/;", "iirp");
  /* `of` is an identifier outside a `for (` head */
  expect_kinds("a.ts", "const r = of / 2; const q = \"/\";", "iipipnpiipsp");
  expect_kinds("a.ts", "for (const x of /a/g.exec(s)) {}", "ipiiirpipipppp");
}

static void test_bom(void **state)
{
  (void)state;
  lexed l;
  lex(&l, "a.ts", "\xef\xbb\xbf" "export x\n\xef\xbb\xbf\xc2\xa0" "y");
  const kg_token *t = l.f->toks;
  assert_int_equal(l.f->ntoks, 4);
  assert_int_equal(t[0].len, 6); /* `export`, not the BOM with it */
  assert_int_equal(t[0].col, 1);
  assert_int_equal(kg_file_col(l.f, t[0].off), 1);
  assert_int_equal(t[2].len, 1); /* U+FEFF, U+00A0 inside: blanks */
  done(&l);
}

static void test_jsx(void **state)
{
  (void)state;
  /* the text of the element hides the quote and the brace-less parens */
  expect_kinds("a.tsx", "x = <p a=\"1\" b={c}>it's ( {d} </p>; y",
               "ipjjjjjjjpipjjpipjjpi");
  expect_kinds("a.tsx", "x = <><A /></>", "ipjjjjjj");
  /* generics are not JSX */
  expect_kinds("a.tsx", "f = <T,>(x: T) => x", "ippipppipippi");
  expect_kinds("a.tsx", "type F = <T>(x: T) => T", "iippippipippi");
  /* in .ts the same text is a comparison */
  expect_kinds("a.ts", "x = <p>", "ippip");
}

static void expect_error(const char *path, const char *src, unsigned line, unsigned col,
                         const char *msg)
{
  lexed l;
  lex(&l, path, src);
  assert_int_equal(l.d.errors, 1);
  const kg_diag_entry *g = &l.d.v[0];
  assert_int_equal(kg_file_line(l.f, g->off), line);
  assert_int_equal(kg_file_col(l.f, g->off), col);
  assert_non_null(strstr(g->msg, msg));
  done(&l);
}

static void test_unterminated(void **state)
{
  (void)state;
  expect_error("a.ts", "x = 1;\nconst s = \"abc\n", 2, 11, "unterminated string");
  expect_error("a.ts", "a /* never", 1, 3, "unterminated comment");
  expect_error("a.ts", "x\n  `abc ${ `d` ", 2, 3, "unterminated template");
  expect_error("a.ts", "y = `abc", 1, 5, "unterminated template");
  expect_error("a.ts", "z = /abc\n", 1, 5, "unterminated regular expression");
  expect_error("a.tsx", "z = <div>text", 1, 5, "unterminated JSX");
  expect_error("a.ts", "é = 'x", 1, 5, "unterminated string"); /* columns count characters */
}

static void test_nul_and_garbage(void **state)
{
  (void)state;
  static const char src[] = "a\0b \x01 \xff\xfe `\0` '\0'";
  lexed l;
  kg_diags_init(&l.d);
  assert_int_equal(kg_file_from_memory("a.ts", src, sizeof src - 1, &l.f), 0);
  assert_int_equal(kg_lex(l.f, &l.d), 0);
  assert_int_equal(l.d.errors, 0);
  assert_int_equal(l.f->toks[l.f->ntoks - 1].off, sizeof src - 1);
  done(&l);
}

static void test_hashbang_and_unicode(void **state)
{
  (void)state;
  expect_kinds("a.ts", "#!/usr/bin/env node\nx", "i");
  expect_kinds("a.ts", "\xef\xbb\xbf\\u0061bc \xc3\xbcn\xc3\xaf \\u{1F600}x", "iii");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_basic_tokens),
    cmocka_unit_test(test_positions),
    cmocka_unit_test(test_comments_and_strings),
    cmocka_unit_test(test_numbers),
    cmocka_unit_test(test_templates),
    cmocka_unit_test(test_regex_vs_division),
    cmocka_unit_test(test_regex_after_context),
    cmocka_unit_test(test_bom),
    cmocka_unit_test(test_jsx),
    cmocka_unit_test(test_unterminated),
    cmocka_unit_test(test_nul_and_garbage),
    cmocka_unit_test(test_hashbang_and_unicode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test-codec: the payload encoding (codec.c, utf.c): round trips for every
 * tag, the byte layouts docs/protocol.md gives, limits, and corrupt input. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "helpers.h"

#define MiB ((size_t)1 << 20)

/* An exact-size heap copy, so ASan sees any read past the end. */
static uint8_t *dup_exact(const void *p, size_t n) {
  uint8_t *d = malloc(n ? n : 1);
  assert_non_null(d);
  if (n) memcpy(d, p, n);
  return d;
}

static int validate_exact(const void *p, size_t n) {
  uint8_t *d = dup_exact(p, n);
  int rc = knit_validate(d, n);
  free(d);
  return rc;
}

/* Reads the only item of a one-item payload and checks nothing follows. */
static knit_item read_one(const knit_writer *w) {
  assert_int_equal(knit_writer_error(w), 0);
  assert_int_equal(validate_exact(w->buf, w->len), 0);
  knit_reader r;
  knit_item it;
  knit_reader_init(&r, w->buf, w->len);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_true(knit_reader_done(&r));
  return it;
}

static void test_simple_tags(void **state) {
  (void)state;
  const unsigned tags[] = {KNIT_T_UNDEFINED, KNIT_T_NULL, KNIT_T_FALSE, KNIT_T_TRUE};
  knit_writer w;
  knit_writer_init(&w, 1024);
  for (unsigned i = 0; i < 4; i++) {
    knit_writer_reset(&w);
    knit_put_tag(&w, tags[i]);
    assert_int_equal(w.len, 1);
    assert_int_equal(w.buf[0], tags[i]);
    assert_int_equal(read_one(&w).tag, tags[i]);
  }
  knit_writer_clear(&w);
}

static void test_numbers(void **state) {
  (void)state;
  static const struct {
    double v;
    unsigned tag;
  } cases[] = {
      {0.0, KNIT_T_I32},          {1.0, KNIT_T_I32},         {-1.0, KNIT_T_I32},
      {2147483647.0, KNIT_T_I32}, {-2147483648.0, KNIT_T_I32}, {2147483648.0, KNIT_T_F64},
      {-2147483649.0, KNIT_T_F64}, {0.5, KNIT_T_F64},        {-0.0, KNIT_T_F64},
      {1e300, KNIT_T_F64},        {5e-324, KNIT_T_F64},      {4294967296.0, KNIT_T_F64},
      {INFINITY, KNIT_T_F64},     {-INFINITY, KNIT_T_F64},   {123456.0, KNIT_T_I32},
  };
  knit_writer w;
  knit_writer_init(&w, 1024);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    knit_writer_reset(&w);
    knit_put_number(&w, cases[i].v);
    assert_int_equal(w.buf[0], cases[i].tag);
    assert_int_equal(w.len, cases[i].tag == KNIT_T_I32 ? 5 : 9);
    knit_item it = read_one(&w);
    assert_int_equal(it.tag, cases[i].tag);
    assert_true(memcmp(&it.num, &cases[i].v, 8) == 0); /* bit-exact, -0 kept */
    if (cases[i].tag == KNIT_T_I32) {
      int32_t raw;
      memcpy(&raw, w.buf + 1, 4);
      assert_true((double)raw == cases[i].v);
    }
  }
  /* -0 stays -0 */
  knit_writer_reset(&w);
  knit_put_number(&w, -0.0);
  assert_true(signbit(read_one(&w).num));
  /* NaN */
  knit_writer_reset(&w);
  knit_put_number(&w, NAN);
  knit_item it = read_one(&w);
  assert_int_equal(it.tag, KNIT_T_F64);
  assert_true(isnan(it.num));
  /* explicit F64 of an integer stays F64; DATE */
  knit_writer_reset(&w);
  knit_put_f64(&w, KNIT_T_F64, 3.0);
  assert_int_equal(read_one(&w).tag, KNIT_T_F64);
  knit_writer_reset(&w);
  knit_put_f64(&w, KNIT_T_DATE, 1700000000123.0);
  it = read_one(&w);
  assert_int_equal(it.tag, KNIT_T_DATE);
  assert_true(it.num == 1700000000123.0);
  assert_int_equal(w.len, 9); /* tag then the raw little-endian double */
  assert_memory_equal(w.buf + 1, &it.num, 8);
  knit_writer_clear(&w);
}

static void test_bigint(void **state) {
  (void)state;
  knit_writer w;
  knit_writer_init(&w, 1 << 20);
  const uint64_t one[] = {5};
  knit_put_bigint(&w, 1, one, 1);
  const uint8_t want[] = {0x06, 0x01, 0x01, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0};
  assert_int_equal(w.len, sizeof want);
  assert_memory_equal(w.buf, want, sizeof want);
  knit_item it = read_one(&w);
  assert_int_equal(it.sign, 1);
  assert_int_equal(it.count, 1);
  assert_int_equal(it.len, 8);
  /* high zero words are dropped */
  knit_writer_reset(&w);
  const uint64_t hz[] = {1, 2, 0, 0};
  knit_put_bigint(&w, 0, hz, 4);
  it = read_one(&w);
  assert_int_equal(it.count, 2);
  assert_memory_equal(it.data, hz, 16);
  /* zero is canonical: no words, sign 0 even if negative was asked */
  knit_writer_reset(&w);
  const uint64_t zz[] = {0, 0, 0};
  knit_put_bigint(&w, 1, zz, 3);
  const uint8_t zero[] = {0x06, 0x00, 0, 0, 0, 0};
  assert_int_equal(w.len, sizeof zero);
  assert_memory_equal(w.buf, zero, sizeof zero);
  it = read_one(&w);
  assert_int_equal(it.sign, 0);
  assert_int_equal(it.count, 0);
  knit_writer_reset(&w);
  knit_put_bigint(&w, 0, NULL, 0);
  assert_memory_equal(w.buf, zero, sizeof zero);
  /* a big one */
  uint64_t big[300];
  kt_rng rng;
  kt_rng_seed(&rng, 3);
  for (int i = 0; i < 300; i++) big[i] = kt_rng_next(&rng) | 1;
  knit_writer_reset(&w);
  knit_put_bigint(&w, 1, big, 300);
  it = read_one(&w);
  assert_int_equal(it.count, 300);
  assert_int_equal(it.sign, 1);
  assert_memory_equal(it.data, big, sizeof big);
  knit_writer_clear(&w);
}

static void test_str8(void **state) {
  (void)state;
  knit_writer w;
  knit_writer_init(&w, 1 << 20);
  const char s[] = "h\xc3\xa9llo \xf0\x9f\x98\x80 \0nul";
  knit_put_str8(&w, s, sizeof s - 1);
  assert_int_equal(w.buf[0], KNIT_T_STR8);
  uint32_t n;
  memcpy(&n, w.buf + 1, 4);
  assert_int_equal(n, sizeof s - 1);
  knit_item it = read_one(&w);
  assert_int_equal(it.tag, KNIT_T_STR8);
  assert_int_equal(it.len, sizeof s - 1);
  assert_int_equal(it.count, sizeof s - 1);
  assert_memory_equal(it.data, s, sizeof s - 1);
  knit_writer_reset(&w);
  knit_put_str8(&w, "", 0);
  assert_int_equal(w.len, 5);
  assert_int_equal(read_one(&w).len, 0);
  /* a long one */
  char *longs = malloc(100000);
  memset(longs, 'z', 100000);
  knit_writer_reset(&w);
  knit_put_str8(&w, longs, 100000);
  it = read_one(&w);
  assert_int_equal(it.len, 100000);
  assert_memory_equal(it.data, longs, 100000);
  free(longs);
  knit_writer_clear(&w);
}

static void test_str16(void **state) {
  (void)state;
  knit_writer w;
  knit_writer_init(&w, 1 << 20);
  /* all ASCII (incl. NUL and 0x7f): compacted to STR8 */
  const uint16_t ascii[] = {'a', 0, 0x7f, 'z'};
  knit_put_str16(&w, ascii, 4);
  const uint8_t want8[] = {KNIT_T_STR8, 4, 0, 0, 0, 'a', 0, 0x7f, 'z'};
  assert_int_equal(w.len, sizeof want8);
  assert_memory_equal(w.buf, want8, sizeof want8);
  read_one(&w);
  knit_writer_reset(&w);
  knit_put_str16(&w, ascii, 0);
  assert_int_equal(w.buf[0], KNIT_T_STR8);
  assert_int_equal(read_one(&w).len, 0);
  /* one unit at 0x80 keeps the whole string as UTF-16 */
  static const uint16_t cases[][4] = {
      {'a', 0x80, 'b', 'c'},         /* Latin-1 */
      {0xD83D, 0xDE00, 'x', 'y'},    /* astral pair */
      {'a', 0xD800, 'b', 'c'},       /* lone high surrogate */
      {0xDC00, 'a', 'b', 0xD800},    /* lone low, trailing high */
      {0xDE00, 0xD83D, 0xFFFF, 0},   /* reversed pair, U+FFFF */
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    knit_writer_reset(&w);
    knit_put_str16(&w, cases[c], 4);
    assert_int_equal(w.buf[0], KNIT_T_STR16);
    assert_int_equal(w.len, 1 + 4 + 8);
    knit_item it = read_one(&w);
    assert_int_equal(it.tag, KNIT_T_STR16);
    assert_int_equal(it.count, 4);
    assert_int_equal(it.len, 8);
    assert_memory_equal(it.data, cases[c], 8); /* kept unit for unit */
  }
  knit_writer_clear(&w);
}

/* Every length across the vector blocks (16 units) and the word steps (4):
 * ASCII narrows to bytes; one unit >= 0x80 anywhere keeps the units, and
 * what was written before the string stays. */
static void test_str16_blocks(void **state) {
  (void)state;
  enum { MAX = 70 };
  uint16_t units[MAX];
  knit_writer w;
  knit_writer_init(&w, 1 << 20);
  for (size_t n = 0; n <= MAX; n++) {
    for (size_t i = 0; i < n; i++) units[i] = (uint16_t)((i * 37 + n) & 0x7f);
    knit_writer_reset(&w);
    knit_put_str16(&w, units, n);
    knit_item it = read_one(&w);
    assert_int_equal(it.tag, KNIT_T_STR8);
    assert_int_equal(it.len, n);
    for (size_t i = 0; i < n; i++) assert_int_equal(((const uint8_t *)it.data)[i], units[i]);
    for (size_t at = 0; at < n; at++) {
      static const uint16_t wide[] = {0x80, 0xff, 0x100, 0x7f80, 0xD800, 0xFFFF};
      uint16_t saved = units[at];
      units[at] = wide[at % (sizeof wide / sizeof wide[0])];
      knit_writer_reset(&w);
      knit_put_number(&w, 1);
      size_t head = w.len;
      knit_put_str16(&w, units, n);
      assert_int_equal(w.len, head + 1 + 4 + 2 * n);
      assert_int_equal(w.buf[head], KNIT_T_STR16);
      assert_memory_equal(w.buf + head + 5, units, 2 * n);
      units[at] = saved;
    }
  }
  /* Past the limit as units though it would fit as bytes: an error, not a
   * half-written string. */
  knit_writer_clear(&w);
  knit_writer_init(&w, 1 + 4 + 40);
  for (size_t i = 0; i < 40; i++) units[i] = 'a';
  knit_put_str16(&w, units, 40);
  assert_int_equal(w.err, 0);
  knit_writer_reset(&w);
  units[39] = 0xe9;
  knit_put_str16(&w, units, 40);
  assert_int_equal(w.err, -EMSGSIZE);
  knit_writer_clear(&w);
}

typedef struct utf_case {
  uint16_t in[4];
  size_t n;
  const char *out;
  size_t out_len;
} utf_case;

static void test_utf16_to_utf8(void **state) {
  (void)state;
  static const utf_case cases[] = {
      {{'A'}, 1, "A", 1},
      {{0}, 1, "\0", 1},
      {{0x7F}, 1, "\x7f", 1},
      {{0x80}, 1, "\xc2\x80", 2},
      {{0xE9}, 1, "\xc3\xa9", 2},
      {{0x7FF}, 1, "\xdf\xbf", 2},
      {{0x800}, 1, "\xe0\xa0\x80", 3},
      {{0x20AC}, 1, "\xe2\x82\xac", 3},
      {{0xFFFF}, 1, "\xef\xbf\xbf", 3},
      {{0xD83D, 0xDE00}, 2, "\xf0\x9f\x98\x80", 4},
      {{0xD800, 0xDC00}, 2, "\xf0\x90\x80\x80", 4},    /* U+10000 */
      {{0xDBFF, 0xDFFF}, 2, "\xf4\x8f\xbf\xbf", 4},    /* U+10FFFF */
      {{0xD800}, 1, "\xed\xa0\x80", 3},                 /* lone high: WTF-8 */
      {{0xDC00}, 1, "\xed\xb0\x80", 3},                 /* lone low */
      {{0xDFFF, 0xD800}, 2, "\xed\xbf\xbf\xed\xa0\x80", 6}, /* reversed */
      {{0xD800, 'a'}, 2, "\xed\xa0\x80" "a", 4},
      {{0xD800, 0xD800, 0xDC00}, 3, "\xed\xa0\x80\xf0\x90\x80\x80", 7},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    char out[32];
    memset(out, 0x55, sizeof out);
    size_t need = knit_utf16_to_utf8(cases[c].in, cases[c].n, out, sizeof out);
    assert_int_equal(need, cases[c].out_len);
    assert_memory_equal(out, cases[c].out, need);
    assert_int_equal((uint8_t)out[need], 0x55);
    /* sizing call writes nothing */
    assert_int_equal(knit_utf16_to_utf8(cases[c].in, cases[c].n, NULL, 0), cases[c].out_len);
    /* too small: nothing past cap is written */
    memset(out, 0x55, sizeof out);
    size_t cap = need - 1;
    assert_int_equal(knit_utf16_to_utf8(cases[c].in, cases[c].n, out, cap), need);
    for (size_t i = cap; i < sizeof out; i++) assert_int_equal((uint8_t)out[i], 0x55);
  }
  assert_int_equal(knit_utf16_to_utf8(NULL, 0, NULL, 0), 0);
}

/* WTF-8 back to UTF-16: surrogates survive, other ill-formed bytes become
 * one U+FFFD per maximal subpart (what V8's UTF-8 decoder does). */
static void test_wtf8_to_utf16(void **state) {
  (void)state;
  typedef struct {
    const char *in;
    size_t n;
    uint16_t out[8];
    size_t out_len;
  } wtf_case;
  static const wtf_case cases[] = {
      {"", 0, {0}, 0},
      {"A\0", 2, {'A', 0}, 2},
      {"\xc3\xa9\xe2\x82\xac", 5, {0xE9, 0x20AC}, 2},
      {"\xf0\x9f\x98\x80", 4, {0xD83D, 0xDE00}, 2},
      {"\xf4\x8f\xbf\xbf", 4, {0xDBFF, 0xDFFF}, 2},
      {"\xed\xa0\x80", 3, {0xD800}, 1},                 /* lone high */
      {"\xed\xb0\x80" "a", 4, {0xDC00, 'a'}, 2},           /* lone low */
      {"\xed\xa0\x80\xed\xb0\x80", 6, {0xD800, 0xDC00}, 2}, /* a pair, joined */
      {"\xed\x9f\xbf", 3, {0xD7FF}, 1},
      {"\x80", 1, {0xFFFD}, 1},                           /* stray continuation */
      {"\xe2\x82", 2, {0xFFFD}, 1},                      /* cut off: one subpart */
      {"\xe2\x82" "b", 3, {0xFFFD, 'b'}, 2},
      {"\xc0\xaf", 2, {0xFFFD, 0xFFFD}, 2},              /* overlong lead */
      {"\xe0\x80\x80", 3, {0xFFFD, 0xFFFD, 0xFFFD}, 3}, /* overlong: E0 needs A0.. */
      {"\xf4\x90\x80\x80", 4, {0xFFFD, 0xFFFD, 0xFFFD, 0xFFFD}, 4}, /* past U+10FFFF */
      {"\xf0\x9f\x98", 3, {0xFFFD}, 1},
      {"\xff" "a", 2, {0xFFFD, 'a'}, 2},
  };
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    uint16_t out[16];
    for (size_t i = 0; i < 16; i++) out[i] = 0x5555;
    size_t need = knit_wtf8_to_utf16(cases[c].in, cases[c].n, out, 16);
    assert_int_equal(need, cases[c].out_len);
    assert_memory_equal(out, cases[c].out, need * 2);
    assert_int_equal(out[need], 0x5555);
    assert_int_equal(knit_wtf8_to_utf16(cases[c].in, cases[c].n, NULL, 0), need);
    /* too small: nothing past cap is written */
    for (size_t i = 0; i < 16; i++) out[i] = 0x5555;
    if (need) {
      assert_int_equal(knit_wtf8_to_utf16(cases[c].in, cases[c].n, out, need - 1), need);
      for (size_t i = need - 1; i < 16; i++) assert_int_equal(out[i], 0x5555);
    }
  }
  /* all UTF-16 round-trips through WTF-8: every unit, lone or paired */
  uint16_t all[1024], back[1024];
  char mid[sizeof all * 3];
  for (uint32_t base = 0; base < 0x10000; base += 1024) {
    for (size_t i = 0; i < 1024; i++) all[i] = (uint16_t)(base + i);
    size_t m = knit_utf16_to_utf8(all, sizeof all / sizeof all[0], mid, sizeof mid);
    size_t k = knit_wtf8_to_utf16(mid, m, back, sizeof back / sizeof back[0]);
    assert_int_equal(k, sizeof all / sizeof all[0]);
    assert_memory_equal(back, all, sizeof all);
  }
}

static void test_symbol_error_envelope(void **state) {
  (void)state;
  knit_writer w;
  knit_writer_init(&w, 1 << 20);
  knit_reader r;
  knit_item it;
  /* SYMBOL: its key follows as one string value */
  knit_put_tag(&w, KNIT_T_SYMBOL);
  knit_put_str8(&w, "app.key", 7);
  assert_int_equal(validate_exact(w.buf, w.len), 0);
  knit_reader_init(&r, w.buf, w.len);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_int_equal(it.tag, KNIT_T_SYMBOL);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_int_equal(it.tag, KNIT_T_STR8);
  assert_true(knit_reader_done(&r));
  assert_int_equal(validate_exact(w.buf, 1), -EBADMSG); /* key missing */
  /* ERROR with every flag combination; flags past KNIT_ERR_ALL are malformed */
  knit_writer_reset(&w);
  knit_put_error_head(&w, KNIT_ERR_ALL + 1);
  knit_put_str8(&w, "Error", 5);
  knit_put_str8(&w, "bad", 3);
  assert_int_equal(validate_exact(w.buf, w.len), -EBADMSG);
  for (unsigned flags = 0; flags <= KNIT_ERR_ALL; flags++) {
    knit_writer_reset(&w);
    knit_put_error_head(&w, flags);
    assert_int_equal(w.buf[0], KNIT_T_ERROR);
    assert_int_equal(w.buf[1], flags);
    knit_put_str8(&w, "TypeError", 9);
    knit_put_str8(&w, "bad", 3);
    if (flags & KNIT_ERR_STACK) knit_put_str8(&w, "at x", 4);
    if (flags & KNIT_ERR_CAUSE) {
      knit_put_error_head(&w, 0);
      knit_put_str8(&w, "Error", 5);
      knit_put_str8(&w, "inner", 5);
    }
    if (flags & KNIT_ERR_PROPS) {
      knit_put_container(&w, KNIT_T_OBJECT, 1);
      knit_put_str8(&w, "code", 4);
      knit_put_number(&w, 42);
    }
    assert_int_equal(validate_exact(w.buf, w.len), 0);
    knit_reader_init(&r, w.buf, w.len);
    assert_int_equal(knit_read(&r, &it), 0);
    assert_int_equal(it.tag, KNIT_T_ERROR);
    assert_int_equal(it.flags, flags);
    /* a missing part is malformed */
    knit_writer_reset(&w);
    knit_put_error_head(&w, flags);
    knit_put_str8(&w, "TypeError", 9);
    knit_put_str8(&w, "bad", 3);
    if (flags & ~(unsigned)KNIT_ERR_DOM) assert_int_equal(validate_exact(w.buf, w.len), -EBADMSG);
    /* ... unless the flags are patched to say it is absent */
    knit_patch_error_flags(&w, 0, 0);
    assert_int_equal(w.buf[1], 0);
    assert_int_equal(validate_exact(w.buf, w.len), 0);
    knit_patch_error_flags(&w, 3, KNIT_ERR_STACK); /* not an error head: unchanged */
    assert_int_equal(validate_exact(w.buf, w.len), 0);
  }
  /* ENVELOPE: a header value, then one ArrayBuffer */
  knit_writer_reset(&w);
  knit_put_tag(&w, KNIT_T_ENVELOPE);
  knit_put_container(&w, KNIT_T_OBJECT, 1);
  knit_put_str8(&w, "n", 1);
  knit_put_number(&w, 3);
  const uint8_t body[5] = {1, 2, 3, 4, 5};
  knit_put_binary(&w, KNIT_T_ARRAYBUFFER, body, 5);
  assert_int_equal(validate_exact(w.buf, w.len), 0);
  knit_reader_init(&r, w.buf, w.len);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_int_equal(it.tag, KNIT_T_ENVELOPE);
  assert_int_equal(knit_skip(&r), 0); /* header */
  assert_int_equal(knit_read(&r, &it), 0);
  assert_int_equal(it.tag, KNIT_T_ARRAYBUFFER);
  assert_memory_equal(it.data, body, 5);
  assert_true(knit_reader_done(&r));
  knit_writer_clear(&w);
}

static void test_containers(void **state) {
  (void)state;
  knit_writer w;
  knit_writer_init(&w, 1 << 20);
  knit_put_container(&w, KNIT_T_ARRAY, 4);
  knit_put_number(&w, 1);
  knit_put_str8(&w, "two", 3);
  knit_put_container(&w, KNIT_T_OBJECT, 2);
  knit_put_str8(&w, "a", 1);
  knit_put_tag(&w, KNIT_T_NULL);
  knit_put_str8(&w, "b", 1);
  knit_put_container(&w, KNIT_T_SET, 2);
  knit_put_number(&w, 1.5);
  knit_put_tag(&w, KNIT_T_TRUE);
  knit_put_container(&w, KNIT_T_MAP, 2);
  knit_put_number(&w, 7); /* non-string keys */
  knit_put_tag(&w, KNIT_T_UNDEFINED);
  knit_put_container(&w, KNIT_T_ARRAY, 0);
  knit_put_container(&w, KNIT_T_MAP, 0);
  assert_int_equal(knit_writer_error(&w), 0);
  assert_int_equal(validate_exact(w.buf, w.len), 0);
  /* the container head: tag, u32 count */
  const uint8_t head[] = {KNIT_T_ARRAY, 4, 0, 0, 0};
  assert_memory_equal(w.buf, head, 5);
  /* walk it: tag sequence with counts */
  static const unsigned want[] = {KNIT_T_ARRAY, KNIT_T_I32, KNIT_T_STR8, KNIT_T_OBJECT,
                                  KNIT_T_STR8, KNIT_T_NULL, KNIT_T_STR8, KNIT_T_SET, KNIT_T_F64,
                                  KNIT_T_TRUE, KNIT_T_MAP, KNIT_T_I32, KNIT_T_UNDEFINED,
                                  KNIT_T_ARRAY, KNIT_T_MAP};
  knit_reader r;
  knit_item it;
  knit_reader_init(&r, w.buf, w.len);
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    assert_int_equal(knit_read(&r, &it), 0);
    assert_int_equal(it.tag, want[i]);
    if (i == 0) assert_int_equal(it.count, 4);
    if (i == 3) assert_int_equal(it.count, 2);
    if (i == 13) assert_int_equal(it.count, 0);
  }
  assert_true(knit_reader_done(&r));
  assert_int_equal(knit_read(&r, &it), -EBADMSG); /* nothing left */
  /* knit_skip over the whole tree */
  knit_reader_init(&r, w.buf, w.len);
  assert_int_equal(knit_skip(&r), 0);
  assert_true(knit_reader_done(&r));
  /* patch a count written before its items */
  knit_writer_reset(&w);
  knit_put_container(&w, KNIT_T_ARRAY, 0);
  for (int i = 0; i < 3; i++) knit_put_number(&w, i);
  knit_patch_u32(&w, 1, 3);
  assert_int_equal(validate_exact(w.buf, w.len), 0);
  knit_patch_u32(&w, w.len - 2, 9); /* out of range: ignored */
  assert_int_equal(validate_exact(w.buf, w.len), 0);
  /* predicates */
  for (unsigned t = 0; t < 256; t++) {
    bool c = t == KNIT_T_ARRAY || t == KNIT_T_OBJECT || t == KNIT_T_MAP || t == KNIT_T_SET;
    assert_int_equal(knit_tag_is_container(t), c);
  }
  knit_writer_clear(&w);
}

static const struct {
  unsigned tag, es;
} binary_tags[] = {
    {KNIT_T_ARRAYBUFFER, 1}, {KNIT_T_DATAVIEW, 1}, {KNIT_T_BUFFER, 1},    {KNIT_T_INT8, 1},
    {KNIT_T_UINT8, 1},       {KNIT_T_UINT8C, 1},   {KNIT_T_INT16, 2},     {KNIT_T_UINT16, 2},
    {KNIT_T_INT32, 4},       {KNIT_T_UINT32, 4},   {KNIT_T_FLOAT32, 4},   {KNIT_T_FLOAT64, 8},
    {KNIT_T_BIGINT64, 8},    {KNIT_T_BIGUINT64, 8},
};
#define NBIN (sizeof binary_tags / sizeof binary_tags[0])

static void test_elem_size(void **state) {
  (void)state;
  for (unsigned t = 0; t < 256; t++) {
    unsigned want = 0;
    for (size_t i = 0; i < NBIN; i++)
      if (binary_tags[i].tag == t) want = binary_tags[i].es;
    assert_int_equal(knit_tag_elem_size(t), want);
  }
}

/* Every binary tag, after every prefix length mod 8: the bytes start at a
 * multiple of 8 from the payload start, padding is zero, lengths hold. */
static void test_binary_alignment(void **state) {
  (void)state;
  knit_writer w;
  knit_writer_init(&w, 1 << 20);
  kt_rng rng;
  kt_rng_seed(&rng, 11);
  uint8_t data[64 * 8];
  kt_rng_fill(&rng, data, sizeof data);
  for (size_t b = 0; b < NBIN; b++) {
    for (unsigned prefix = 0; prefix < 8; prefix++) {
      for (unsigned elems = 0; elems < 9; elems += 4) {
        size_t len = (size_t)elems * binary_tags[b].es;
        knit_writer_reset(&w);
        knit_put_container(&w, KNIT_T_ARRAY, 2);
        knit_put_str8(&w, "abcdefgh", prefix); /* shifts the binary by prefix */
        size_t at = w.len;
        knit_put_binary(&w, binary_tags[b].tag, data, len);
        assert_int_equal(w.buf[at], binary_tags[b].tag);
        uint32_t n;
        memcpy(&n, w.buf + at + 1, 4);
        assert_int_equal(n, len);
        size_t pad = (8 - ((at + 5) & 7)) & 7;
        assert_int_equal(w.len, at + 5 + pad + len);
        for (size_t i = 0; i < pad; i++) assert_int_equal(w.buf[at + 5 + i], 0);
        assert_int_equal(validate_exact(w.buf, w.len), 0);
        knit_reader r;
        knit_item it;
        knit_reader_init(&r, w.buf, w.len);
        assert_int_equal(knit_read(&r, &it), 0);
        assert_int_equal(knit_skip(&r), 0);
        assert_int_equal(knit_read(&r, &it), 0);
        assert_int_equal(it.tag, binary_tags[b].tag);
        assert_int_equal(((const uint8_t *)it.data - w.buf) % 8, 0);
        assert_int_equal(it.len, len);
        assert_int_equal(it.count, elems);
        if (len) assert_memory_equal(it.data, data, len);
        assert_true(knit_reader_done(&r));
      }
    }
    /* a length that is not a whole number of elements is malformed */
    if (binary_tags[b].es > 1) {
      knit_writer_reset(&w);
      knit_put_binary(&w, binary_tags[b].tag, data, binary_tags[b].es + 1);
      assert_int_equal(validate_exact(w.buf, w.len), -EBADMSG);
    }
  }
  /* knit_put_binary_space leaves the bytes to the caller */
  knit_writer_reset(&w);
  knit_put_tag(&w, KNIT_T_ENVELOPE);
  knit_put_tag(&w, KNIT_T_NULL);
  uint8_t *p = knit_put_binary_space(&w, KNIT_T_ARRAYBUFFER, 16);
  assert_non_null(p);
  assert_int_equal((p - w.buf) % 8, 0);
  memset(p, 0xEE, 16);
  assert_int_equal(validate_exact(w.buf, w.len), 0);
  knit_writer_clear(&w);
}

static void test_writer_limits(void **state) {
  (void)state;
  knit_writer w;
  knit_writer_init(&w, 16);
  assert_int_equal(knit_writer_error(&w), 0);
  knit_put_str8(&w, "0123456789", 10); /* 15 bytes */
  assert_int_equal(knit_writer_error(&w), 0);
  assert_int_equal(w.len, 15);
  knit_put_number(&w, 1); /* 5 more: too long */
  assert_int_equal(knit_writer_error(&w), -EMSGSIZE);
  size_t len = w.len;
  knit_put_tag(&w, KNIT_T_NULL); /* sticky: no-op now */
  assert_int_equal(w.len, len);
  assert_int_equal(knit_writer_error(&w), -EMSGSIZE);
  assert_null(knit_put_binary_space(&w, KNIT_T_UINT8, 0));
  /* rewind: back to a mark taken before the failed part, error cleared */
  knit_writer_rewind(&w, 10);
  assert_int_equal(knit_writer_error(&w), 0);
  assert_int_equal(w.len, 10);
  knit_put_tag(&w, KNIT_T_NULL);
  assert_int_equal(w.len, 11);
  knit_writer_rewind(&w, 12); /* a mark past the end moves nothing */
  assert_int_equal(w.len, 11);
  knit_writer_reset(&w);
  assert_int_equal(knit_writer_error(&w), 0);
  assert_int_equal(w.len, 0);
  knit_put_tag(&w, KNIT_T_NULL);
  assert_int_equal(w.len, 1);
  knit_writer_clear(&w);
  assert_null(w.buf);
  assert_int_equal(w.max, 16);
  knit_writer_clear(&w); /* twice is fine */
  knit_writer_init(&w, 0);
  knit_put_tag(&w, KNIT_T_NULL);
  assert_int_equal(knit_writer_error(&w), -EMSGSIZE);
  knit_writer_clear(&w);
  /* binary data exactly at the limit */
  knit_writer_init(&w, 8 + 100);
  assert_non_null(knit_put_binary_space(&w, KNIT_T_UINT8, 100));
  assert_int_equal(w.len, 108);
  knit_writer_clear(&w);
  knit_writer_init(&w, 8 + 99);
  assert_null(knit_put_binary_space(&w, KNIT_T_UINT8, 100));
  assert_int_equal(knit_writer_error(&w), -EMSGSIZE);
  knit_writer_clear(&w);
}

static void put_nested(knit_writer *w, unsigned depth, unsigned tag) {
  for (unsigned i = 0; i < depth; i++) {
    knit_put_container(w, tag, 1);
    if (tag == KNIT_T_OBJECT || tag == KNIT_T_MAP) knit_put_str8(w, "k", 1);
  }
  knit_put_tag(w, KNIT_T_NULL);
}

/* KNIT_MAX_DEPTH containers around a leaf are accepted, one more is not. */
static void test_depth(void **state) {
  (void)state;
  const unsigned tags[] = {KNIT_T_ARRAY, KNIT_T_OBJECT, KNIT_T_MAP, KNIT_T_SET};
  knit_writer w;
  knit_writer_init(&w, 1 << 20);
  for (unsigned t = 0; t < 4; t++) {
    knit_writer_reset(&w);
    put_nested(&w, KNIT_MAX_DEPTH, tags[t]);
    assert_int_equal(validate_exact(w.buf, w.len), 0);
    knit_writer_reset(&w);
    put_nested(&w, KNIT_MAX_DEPTH + 1, tags[t]);
    assert_int_equal(validate_exact(w.buf, w.len), -EBADMSG);
  }
  /* errors nest through their cause */
  knit_writer_reset(&w);
  for (unsigned i = 0; i < KNIT_MAX_DEPTH + 1; i++) {
    knit_put_error_head(&w, KNIT_ERR_CAUSE);
    knit_put_str8(&w, "E", 1);
    knit_put_str8(&w, "m", 1);
  }
  knit_put_tag(&w, KNIT_T_NULL);
  assert_int_equal(validate_exact(w.buf, w.len), -EBADMSG);
  /* a very deep payload is rejected without exhausting the stack */
  knit_writer_reset(&w);
  put_nested(&w, 100000, KNIT_T_ARRAY);
  assert_int_equal(validate_exact(w.buf, w.len), -EBADMSG);
  knit_writer_clear(&w);
}

/* One payload with every tag in it. */
static void build_rich(knit_writer *w) {
  knit_put_container(w, KNIT_T_ARRAY, 17 + (unsigned)NBIN);
  knit_put_tag(w, KNIT_T_UNDEFINED);
  knit_put_tag(w, KNIT_T_NULL);
  knit_put_tag(w, KNIT_T_FALSE);
  knit_put_tag(w, KNIT_T_TRUE);
  knit_put_number(w, 2.5);
  knit_put_number(w, -7);
  const uint64_t words[] = {0x1122334455667788ull, 9};
  knit_put_bigint(w, 1, words, 2);
  knit_put_str8(w, "str\xc3\xa9", 5);
  const uint16_t u16[] = {'x', 0xD800, 0x263A};
  knit_put_str16(w, u16, 3);
  knit_put_f64(w, KNIT_T_DATE, 86400000.0);
  knit_put_tag(w, KNIT_T_SYMBOL);
  knit_put_str8(w, "sym", 3);
  knit_put_error_head(w, KNIT_ERR_STACK | KNIT_ERR_CAUSE | KNIT_ERR_PROPS);
  knit_put_str8(w, "RangeError", 10);
  knit_put_str8(w, "oops", 4);
  knit_put_str8(w, "stack", 5);
  knit_put_tag(w, KNIT_T_NULL);
  knit_put_container(w, KNIT_T_OBJECT, 0);
  knit_put_container(w, KNIT_T_OBJECT, 1);
  knit_put_str8(w, "k", 1);
  knit_put_number(w, 1);
  knit_put_container(w, KNIT_T_MAP, 1);
  knit_put_number(w, 1);
  knit_put_number(w, 2);
  knit_put_container(w, KNIT_T_SET, 2);
  knit_put_tag(w, KNIT_T_TRUE);
  knit_put_tag(w, KNIT_T_FALSE);
  knit_put_tag(w, KNIT_T_ENVELOPE);
  knit_put_tag(w, KNIT_T_NULL);
  knit_put_binary(w, KNIT_T_ARRAYBUFFER, "abc", 3);
  knit_put_container(w, KNIT_T_ARRAY, 0);
  uint8_t data[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  for (size_t b = 0; b < NBIN; b++) knit_put_binary(w, binary_tags[b].tag, data, 16);
  assert_int_equal(knit_writer_error(w), 0);
}

/* A valid payload cut at every byte offset is malformed, never a crash. */
static void test_truncated_everywhere(void **state) {
  (void)state;
  knit_writer w;
  knit_writer_init(&w, 1 << 20);
  build_rich(&w);
  assert_int_equal(validate_exact(w.buf, w.len), 0);
  for (size_t k = 0; k < w.len; k++) assert_int_equal(validate_exact(w.buf, k), -EBADMSG);
  /* and one byte too many */
  uint8_t *more = malloc(w.len + 1);
  assert_non_null(more);
  memcpy(more, w.buf, w.len);
  more[w.len] = KNIT_T_NULL;
  assert_int_equal(knit_validate(more, w.len + 1), -EBADMSG);
  free(more);
  knit_writer_clear(&w);
}

static void test_bad_tags_and_fields(void **state) {
  (void)state;
  uint8_t buf[64];
  /* every unknown tag is rejected */
  for (unsigned t = 0; t < 256; t++) {
    bool known = t <= KNIT_T_ERROR || (t >= KNIT_T_ARRAY && t <= KNIT_T_ENVELOPE) ||
                 (t >= KNIT_T_ARRAYBUFFER && t <= KNIT_T_BIGUINT64);
    if (known) continue;
    memset(buf, 0, sizeof buf);
    buf[0] = (uint8_t)t;
    assert_int_equal(validate_exact(buf, 1), -EBADMSG);
    assert_int_equal(validate_exact(buf, sizeof buf), -EBADMSG);
    knit_reader r;
    knit_item it;
    knit_reader_init(&r, buf, sizeof buf);
    assert_int_equal(knit_read(&r, &it), -EBADMSG);
  }
  /* ERROR flags beyond the four defined bits */
  for (unsigned f = KNIT_ERR_ALL + 1; f < 256; f++) {
    knit_writer w;
    knit_writer_init(&w, 1024);
    knit_put_error_head(&w, f);
    knit_put_str8(&w, "E", 1);
    knit_put_str8(&w, "m", 1);
    for (int i = 0; i < 3; i++) knit_put_tag(&w, KNIT_T_NULL);
    assert_int_equal(validate_exact(w.buf, w.len), -EBADMSG);
    knit_writer_clear(&w);
  }
  /* BIGINT sign other than 0 or 1 */
  for (unsigned s = 2; s < 256; s++) {
    const uint8_t b[] = {KNIT_T_BIGINT, (uint8_t)s, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(validate_exact(b, sizeof b), -EBADMSG);
  }
  const uint8_t ok[] = {KNIT_T_BIGINT, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
  assert_int_equal(validate_exact(ok, sizeof ok), 0);
  /* empty payload */
  assert_int_equal(validate_exact(buf, 0), -EBADMSG);
  /* two values where one is expected */
  const uint8_t two[] = {KNIT_T_NULL, KNIT_T_NULL};
  assert_int_equal(validate_exact(two, 2), -EBADMSG);
}

/* Counts and lengths far beyond the bytes present. */
static void test_huge_counts(void **state) {
  (void)state;
  static const uint8_t cases[][16] = {
      {KNIT_T_ARRAY, 0xff, 0xff, 0xff, 0xff, KNIT_T_NULL},
      {KNIT_T_OBJECT, 0xff, 0xff, 0xff, 0x7f, KNIT_T_NULL, KNIT_T_NULL},
      {KNIT_T_MAP, 0x00, 0x00, 0x00, 0x80},
      {KNIT_T_SET, 0x02, 0x00, 0x00, 0x00, KNIT_T_NULL},
      {KNIT_T_OBJECT, 0x01, 0x00, 0x00, 0x00, KNIT_T_NULL}, /* half a pair */
      {KNIT_T_STR8, 0xff, 0xff, 0xff, 0xff, 'a'},
      {KNIT_T_STR8, 0x02, 0x00, 0x00, 0x00, 'a'},
      {KNIT_T_STR16, 0xff, 0xff, 0xff, 0xff, 'a', 0},
      {KNIT_T_STR16, 0x00, 0x00, 0x00, 0x80, 'a', 0},
      {KNIT_T_STR16, 0x02, 0x00, 0x00, 0x00, 'a', 0},
      {KNIT_T_BIGINT, 0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8},
      {KNIT_T_BIGINT, 0, 0x00, 0x00, 0x00, 0x20, 1, 2, 3, 4, 5, 6, 7, 8},
      {KNIT_T_BIGINT, 0, 0x02, 0x00, 0x00, 0x00, 1, 2, 3, 4, 5, 6, 7, 8},
      {KNIT_T_UINT8, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1},
      {KNIT_T_FLOAT64, 0xf8, 0xff, 0xff, 0xff, 0, 0, 0, 1},
      {KNIT_T_UINT8, 0x09, 0x00, 0x00, 0x00, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8},
      {KNIT_T_F64, 0, 0, 0, 0, 0, 0, 0},
      {KNIT_T_I32, 0, 0, 0},
      {KNIT_T_DATE, 1},
      {KNIT_T_ERROR},
  };
  static const size_t lens[] = {6, 7, 5, 6, 6, 6, 6, 7, 7, 7, 14, 14, 14, 9, 9, 16, 8, 4, 2, 1};
  for (size_t c = 0; c < sizeof lens / sizeof lens[0]; c++) {
    assert_int_equal(validate_exact(cases[c], lens[c]), -EBADMSG);
    knit_reader r;
    knit_item it;
    uint8_t *d = dup_exact(cases[c], lens[c]);
    knit_reader_init(&r, d, lens[c]);
    int rc = knit_read(&r, &it);
    if (rc == 0) assert_true(knit_tag_is_container(it.tag) || it.tag == KNIT_T_ERROR);
    assert_true(r.p <= r.end);
    free(d);
  }
}

/* Random corruption of valid payloads: validate answers, never crashes, and
 * what it accepts can be walked to the end. */
static void test_random_corruption(void **state) {
  (void)state;
  knit_writer w;
  knit_writer_init(&w, 1 << 20);
  build_rich(&w);
  kt_rng rng;
  kt_rng_seed(&rng, kt_seed_from_env(99));
  uint8_t *d = malloc(w.len);
  unsigned accepted = 0;
  for (int i = 0; i < 200000; i++) {
    memcpy(d, w.buf, w.len);
    unsigned flips = (unsigned)kt_rng_range(&rng, 1, 4);
    for (unsigned f = 0; f < flips; f++) {
      size_t at = kt_rng_below(&rng, w.len);
      d[at] = (kt_rng_below(&rng, 2)) ? (uint8_t)kt_rng_next(&rng) : d[at] ^ (uint8_t)(1u << kt_rng_below(&rng, 8));
    }
    size_t len = kt_rng_below(&rng, 4) ? w.len : kt_rng_below(&rng, w.len + 1);
    if (knit_validate(d, len) == 0) {
      accepted++;
      knit_reader r;
      knit_reader_init(&r, d, len);
      assert_int_equal(knit_skip(&r), 0);
      assert_true(knit_reader_done(&r));
    }
  }
  (void)accepted;
  free(d);
  knit_writer_clear(&w);
}

/* Encoded payloads through a mailbox around the inline edge. */
static void test_inline_edge_through_mailbox(void **state) {
  (void)state;
  knit_mailbox *mb = NULL;
  assert_int_equal(knit_mailbox_create(NULL, NULL, &mb), 0);
  knit_writer w;
  knit_writer_init(&w, 8 * MiB);
  char text[KNIT_INLINE_BYTES];
  memset(text, 'q', sizeof text);
  for (size_t total = KNIT_INLINE_BYTES - 1; total <= KNIT_INLINE_BYTES + 1; total++) {
    knit_writer_reset(&w);
    knit_put_str8(&w, text, total - 5);
    assert_int_equal(w.len, total);
    assert_true(knit_mailbox_put(mb, 1, (uint32_t)total, KNIT_OK, w.buf, w.len, 0) >= 0);
    knit_arena_stats st;
    knit_mailbox_arena_stats(mb, &st);
    assert_int_equal(st.regions, total > KNIT_INLINE_BYTES ? 1 : 0);
    knit_mailbox_publish(mb);
    knit_msg out[KNIT_SLOTS];
    assert_int_equal(knit_mailbox_take(mb, out), 1);
    assert_int_equal(out[0].len, total);
    assert_int_equal(knit_validate(out[0].data, out[0].len), 0);
    assert_memory_equal(out[0].data, w.buf, total);
    knit_mailbox_ack(mb);
    uint8_t *b;
    int s = knit_mailbox_reserve(mb, 0, &b); /* reclaim */
    knit_mailbox_unreserve(mb, (unsigned)s);
  }
  knit_writer_clear(&w);
  knit_mailbox_destroy(mb);
}

/* The largest payload: payload_max bytes exactly, encoded and sent. */
static void test_max_payload(void **state) {
  (void)state;
  knit_limits l;
  knit_limits_default(&l);
  knit_writer w;
  knit_writer_init(&w, l.payload_max);
  size_t data_len = l.payload_max - 8; /* tag + u32 + 3 bytes padding */
  uint8_t *p = knit_put_binary_space(&w, KNIT_T_UINT8, data_len);
  assert_non_null(p);
  kt_pattern_fill(p, data_len, 77);
  assert_int_equal(w.len, l.payload_max);
  knit_mailbox *mb = NULL;
  assert_int_equal(knit_mailbox_create(&l, NULL, &mb), 0);
  assert_true(knit_mailbox_put(mb, 0, 0, KNIT_OK, w.buf, w.len, 0) >= 0);
  knit_mailbox_publish(mb);
  knit_msg out[KNIT_SLOTS];
  assert_int_equal(knit_mailbox_take(mb, out), 1);
  assert_int_equal(out[0].len, l.payload_max);
  assert_int_equal(knit_validate(out[0].data, out[0].len), 0);
  knit_reader r;
  knit_item it;
  knit_reader_init(&r, out[0].data, out[0].len);
  assert_int_equal(knit_read(&r, &it), 0);
  assert_int_equal(it.len, data_len);
  assert_int_equal(kt_pattern_check(it.data, data_len, 77), data_len);
  knit_mailbox_ack(mb);
  /* one byte more does not encode, and would not be accepted */
  knit_writer_reset(&w);
  assert_null(knit_put_binary_space(&w, KNIT_T_UINT8, data_len + 1));
  assert_int_equal(knit_writer_error(&w), -EMSGSIZE);
  uint8_t *b;
  assert_int_equal(knit_mailbox_reserve(mb, l.payload_max + 1, &b), -EMSGSIZE);
  knit_mailbox_destroy(mb);
  knit_writer_clear(&w);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simple_tags),
      cmocka_unit_test(test_numbers),
      cmocka_unit_test(test_bigint),
      cmocka_unit_test(test_str8),
      cmocka_unit_test(test_str16),
      cmocka_unit_test(test_str16_blocks),
      cmocka_unit_test(test_utf16_to_utf8),
      cmocka_unit_test(test_wtf8_to_utf16),
      cmocka_unit_test(test_symbol_error_envelope),
      cmocka_unit_test(test_containers),
      cmocka_unit_test(test_elem_size),
      cmocka_unit_test(test_binary_alignment),
      cmocka_unit_test(test_writer_limits),
      cmocka_unit_test(test_depth),
      cmocka_unit_test(test_truncated_everywhere),
      cmocka_unit_test(test_bad_tags_and_fields),
      cmocka_unit_test(test_huge_counts),
      cmocka_unit_test(test_random_corruption),
      cmocka_unit_test(test_inline_edge_through_mailbox),
      cmocka_unit_test(test_max_payload),
  };
  return cmocka_run_group_tests_name("codec", tests, NULL, NULL);
}

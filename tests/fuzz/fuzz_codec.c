/* fuzz_codec.c: libFuzzer target for the payload decoder (runtime/src/codec.c)
 * fed arbitrary bytes, as a consumer would find them in a slot.
 *
 *   - knit_validate() over the whole input;
 *   - knit_read() item by item, touching every byte each item points at, and
 *     converting every STR16 with knit_utf16_to_utf8();
 *   - knit_skip() value by value;
 *   - when the input validates: one knit_skip() must consume it exactly, and
 *     copying it through the writer (knit_put_*) must give a payload that
 *     validates and that copies to itself byte for byte (the canonical form
 *     is a fixed point).
 * Any broken promise traps. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "knit/knit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile uint8_t sink;

/* Reads every byte of @p[0..@n), so ASan sees any read past the input. */
static void touch(const void *p, size_t n) {
  const uint8_t *b = p;
  uint8_t x = 0;
  for (size_t i = 0; i < n; i++) x ^= b[i];
  sink = x;
}

static void utf16(const knit_item *it) {
  uint16_t *units = malloc(it->len ? it->len : 1);
  if (!units) return;
  memcpy(units, it->data, it->len); /* the payload's units are unaligned */
  size_t need = knit_utf16_to_utf8(units, it->count, NULL, 0);
  if (need > (size_t)it->count * 3) __builtin_trap(); /* at most 3 bytes per unit */
  char *out = malloc(need ? need : 1);
  if (out && knit_utf16_to_utf8(units, it->count, out, need) != need) __builtin_trap();
  free(out);
  free(units);
}

/* Copies one value from @r to @w; only called on payloads that validate. */
static int copy(knit_reader *r, knit_writer *w) {
  knit_item it;
  if (knit_read(r, &it)) return -1;
  size_t children = 0;
  switch (it.tag) {
  case KNIT_T_UNDEFINED: case KNIT_T_NULL: case KNIT_T_FALSE: case KNIT_T_TRUE:
    knit_put_tag(w, it.tag);
    return 0;
  case KNIT_T_F64: case KNIT_T_DATE:
    knit_put_f64(w, it.tag, it.num);
    return 0;
  case KNIT_T_I32:
    knit_put_number(w, it.num); /* an int32, never -0: stays I32 */
    return 0;
  case KNIT_T_BIGINT: {
    uint64_t *words = malloc(it.len ? it.len : 8);
    if (!words) return -1;
    memcpy(words, it.data, it.len);
    knit_put_bigint(w, it.sign, words, it.count);
    free(words);
    return 0;
  }
  case KNIT_T_STR8:
    knit_put_str8(w, it.data, it.len);
    return 0;
  case KNIT_T_STR16: {
    uint16_t *units = malloc(it.len ? it.len : 2);
    if (!units) return -1;
    memcpy(units, it.data, it.len);
    knit_put_str16(w, units, it.count);
    free(units);
    return 0;
  }
  case KNIT_T_SYMBOL: knit_put_tag(w, it.tag); children = 1; break;
  case KNIT_T_ENVELOPE: knit_put_tag(w, it.tag); children = 2; break;
  case KNIT_T_ERROR:
    knit_put_error_head(w, it.flags);
    children = 2 + !!(it.flags & KNIT_ERR_STACK) + !!(it.flags & KNIT_ERR_CAUSE) +
               !!(it.flags & KNIT_ERR_PROPS);
    break;
  case KNIT_T_ARRAY: case KNIT_T_SET:
    knit_put_container(w, it.tag, it.count);
    children = it.count;
    break;
  case KNIT_T_OBJECT: case KNIT_T_MAP:
    knit_put_container(w, it.tag, it.count);
    children = (size_t)it.count * 2;
    break;
  default:
    if (!knit_tag_elem_size(it.tag)) __builtin_trap(); /* knit_read accepted an unknown tag */
    knit_put_binary(w, it.tag, it.data, it.len);
    return 0;
  }
  for (size_t i = 0; i < children; i++)
    if (copy(r, w)) return -1;
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int valid = knit_validate(data, size);

  /* Item by item, as the JS decoder and native tasks read. */
  knit_reader r;
  knit_item it;
  knit_reader_init(&r, data, size);
  for (int n = 0; n < 100000 && !knit_reader_done(&r); n++) {
    const uint8_t *before = r.p;
    if (knit_read(&r, &it)) {
      if (r.p < before || r.p > r.end) __builtin_trap();
      break;
    }
    if (r.p <= before || r.p > r.end) __builtin_trap(); /* progress, within bounds */
    if (it.data) {
      if ((const uint8_t *)it.data < data || (const uint8_t *)it.data + it.len > data + size)
        __builtin_trap();
      touch(it.data, it.len);
    }
    if (knit_tag_elem_size(it.tag) && it.len % knit_tag_elem_size(it.tag)) __builtin_trap();
    if (knit_tag_elem_size(it.tag) && ((const uint8_t *)it.data - data) % 8) __builtin_trap();
    if (it.tag == KNIT_T_STR16) utf16(&it);
  }

  /* Value by value. */
  knit_reader_init(&r, data, size);
  for (int n = 0; n < 100000 && !knit_reader_done(&r); n++)
    if (knit_skip(&r)) break;

  if (valid != 0) {
    if (valid != -EBADMSG) __builtin_trap();
    return 0;
  }
  knit_reader_init(&r, data, size);
  if (knit_skip(&r) || !knit_reader_done(&r)) __builtin_trap();

  /* Through the writer and back: the copy validates, and is a fixed point. */
  knit_writer w1, w2;
  knit_writer_init(&w1, SIZE_MAX / 2);
  knit_writer_init(&w2, SIZE_MAX / 2);
  knit_reader_init(&r, data, size);
  if (copy(&r, &w1) || knit_writer_error(&w1)) __builtin_trap();
  if (knit_validate(w1.buf, w1.len)) __builtin_trap();
  knit_reader_init(&r, w1.buf, w1.len);
  if (copy(&r, &w2) || knit_writer_error(&w2)) __builtin_trap();
  if (w2.len != w1.len || memcmp(w1.buf, w2.buf, w1.len)) __builtin_trap();
  knit_writer_clear(&w1);
  knit_writer_clear(&w2);
  return 0;
}

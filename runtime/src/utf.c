/* UTF-16 <-> UTF-8 (codec.h): native tasks get STR16 strings as UTF-8 and
 * may answer with WTF-8 (a lone surrogate, as an argument carries one). */
#include "knit/knit.h"

size_t knit_utf16_to_utf8(const uint16_t *in, size_t n, char *out, size_t cap) {
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t c = in[i];
    if (c >= 0xD800 && c <= 0xDBFF && i + 1 < n && in[i + 1] >= 0xDC00 && in[i + 1] <= 0xDFFF) {
      c = 0x10000 + ((c - 0xD800) << 10) + (in[i + 1] - 0xDC00);
      i++;
    }
    /* Lone surrogates fall through as 3-byte sequences (WTF-8). */
    uint8_t b[4];
    size_t k;
    if (c < 0x80) { b[0] = (uint8_t)c; k = 1; }
    else if (c < 0x800) { b[0] = (uint8_t)(0xC0 | c >> 6); b[1] = (uint8_t)(0x80 | (c & 0x3F)); k = 2; }
    else if (c < 0x10000) {
      b[0] = (uint8_t)(0xE0 | c >> 12); b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
      b[2] = (uint8_t)(0x80 | (c & 0x3F)); k = 3;
    } else {
      b[0] = (uint8_t)(0xF0 | c >> 18); b[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
      b[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F)); b[3] = (uint8_t)(0x80 | (c & 0x3F)); k = 4;
    }
    if (o + k <= cap)
      for (size_t j = 0; j < k; j++) out[o + j] = (char)b[j];
    o += k;
  }
  return o;
}

size_t knit_wtf8_to_utf16(const char *in, size_t n, uint16_t *out, size_t cap) {
  const uint8_t *s = (const uint8_t *)in;
  size_t o = 0;
  for (size_t i = 0; i < n;) {
    uint32_t c = s[i++];
    unsigned need = 0;
    uint8_t lo = 0x80, hi = 0xBF; /* the bounds of the next byte */
    if (c >= 0xC2 && c <= 0xDF) need = 1, c &= 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) need = 2, c &= 0x0F, lo = c == 0 ? 0xA0 : 0x80;
    else if (c >= 0xF0 && c <= 0xF4) need = 3, c &= 0x07, lo = c == 0 ? 0x90 : 0x80, hi = c == 4 ? 0x8F : 0xBF;
    else if (c >= 0x80) c = 0xFFFD;
    /* A byte out of bounds ends the sequence: one U+FFFD for what came
     * before it (WHATWG's maximal subpart), and it starts the next. Unlike
     * UTF-8, ED A0..BF is allowed: a surrogate. */
    for (; need && i < n && s[i] >= lo && s[i] <= hi; need--, lo = 0x80, hi = 0xBF) c = c << 6 | (s[i++] & 0x3F);
    if (need) c = 0xFFFD;
    if (c >= 0x10000) {
      if (o + 2 <= cap) {
        out[o] = (uint16_t)(0xD800 + ((c - 0x10000) >> 10));
        out[o + 1] = (uint16_t)(0xDC00 + ((c - 0x10000) & 0x3FF));
      }
      o += 2;
    } else {
      if (o + 1 <= cap) out[o] = (uint16_t)c;
      o++;
    }
  }
  return o;
}

/* UTF-16 to UTF-8 (knit_utf16_to_utf8, codec.h): native tasks get STR16 strings as UTF-8. */
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

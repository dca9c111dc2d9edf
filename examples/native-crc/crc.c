/* CRC-32 (IEEE 802.3, reflected, as zlib's crc32) as a native task. The
 * prototype comes from crc.knit.h, which knitgen --c-stubs wrote from
 * crc.ts: change the signature in one place and the other stops compiling. */
#include <stddef.h>
#include <stdint.h>

#include "crc.knit.h"

static uint32_t table[8][256];

__attribute__((constructor)) static void init_table(void)
{
  for (uint32_t n = 0; n < 256; n++) {
    uint32_t c = n;
    for (int k = 0; k < 8; k++)
      c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    table[0][n] = c;
  }
  for (uint32_t n = 0; n < 256; n++)
    for (int t = 1; t < 8; t++)
      table[t][n] = (table[t - 1][n] >> 8) ^ table[0][table[t - 1][n] & 0xff];
}

/* slicing-by-8: eight table lookups per 8 bytes */
KNIT_STUB_EXPORT double crc32(knit_bytes arg)
{
  const uint8_t *p = arg.data;
  size_t n = arg.len;
  uint32_t c = 0xFFFFFFFFu;
  for (; n >= 8; n -= 8, p += 8) {
    uint32_t lo = c ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    c = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
        table[4][lo >> 24] ^ table[3][p[4]] ^ table[2][p[5]] ^ table[1][p[6]] ^ table[0][p[7]];
  }
  while (n--)
    c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
  return (double)(uint32_t)~c;
}

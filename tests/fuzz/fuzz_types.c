/* fuzz_types.c: libFuzzer target for knit_type_parse() and everything that
 * walks a tree: print, normalize, carryable (with a resolver that maps every
 * name to the tree itself, to exercise the cycle guard), codecs, C types. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "knit/types.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static knit_ref resolve(void *ctx, const char *name, size_t len, const knit_type **out)
{
  if (len && (name[0] & 3) == 0) {
    *out = ctx;
    return KNIT_REF_ALIAS;
  }
  return len && (name[0] & 3) == 1 ? KNIT_REF_CLASS : len && (name[0] & 3) == 2 ? KNIT_REF_PARAM
                                                                                  : KNIT_REF_UNKNOWN;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data;
  char small[8], big[4096];
  knit_type_normalize(s, size, small, sizeof small);
  knit_type_normalize(s, size, big, sizeof big);
  knit_type *t = NULL;
  knit_type_error e;
  if (knit_type_parse(s, size, &t, &e) == 0) {
    knit_type_print(t, small, sizeof small);
    int n = knit_type_print(t, big, sizeof big);
    if (n >= 0 && (size_t)n < sizeof big) {
      /* what we print must parse again */
      knit_type *u = NULL;
      if (knit_type_parse(big, (size_t)n, &u, &e) == 0)
        knit_type_destroy(u);
      else if (big[0] && !memchr(big, '`', (size_t)n))
        __builtin_trap();
    }
    char why[128];
    const knit_type *where;
    knit_type_carryable(t, 0, resolve, t, &where, why, sizeof why);
    knit_type_carryable(t, KNIT_CARRY_RESULT, NULL, NULL, NULL, NULL, 0);
    knit_codec_name(knit_type_codec(t));
    knit_ctype_name(knit_type_ctype(t));
    knit_ctype ct[8];
    const knit_type *el[8];
    knit_type_c_params(t, ct, el, 8);
    knit_type_destroy(t);
  }
  return 0;
}

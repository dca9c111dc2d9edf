/* Encoded arguments of calls that wait for a free request slot. A call is
 * encoded when it is made (so later changes to the argument do not leak
 * into it) and copied into a mailbox when a slot frees up. Entries are
 * numbered so JS can hold them as plain integers; small payloads live in
 * the entry itself, so a queued call usually costs no allocation at all.
 * Host thread only. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define STASH_INLINE 48

typedef struct stash_entry {
  uint32_t len;
  int32_t next_free; /* free list link; -2 while the entry is in use */
  union {
    uint8_t small[STASH_INLINE];
    uint8_t *big;
  } u;
} stash_entry;

struct knit_stash {
  stash_entry *entries;
  int32_t cap;
  int32_t free_head; /* -1: none */
};

#define IN_USE (-2)

knit_stash *knit__stash_new(void) {
  knit_stash *s = calloc(1, sizeof *s);
  if (s) s->free_head = -1;
  return s;
}

void knit__stash_free(knit_stash *s) {
  if (!s) return;
  for (int32_t i = 0; i < s->cap; i++) {
    stash_entry *e = &s->entries[i];
    if (e->next_free == IN_USE && e->len > STASH_INLINE) free(e->u.big);
  }
  free(s->entries);
  free(s);
}

static int grow(knit_stash *s) {
  if (s->cap > INT32_MAX / 2) return -ENOMEM;
  int32_t cap = s->cap ? s->cap * 2 : 256;
  stash_entry *e = realloc(s->entries, (size_t)cap * sizeof *e);
  if (!e) return -ENOMEM;
  for (int32_t i = cap - 1; i >= s->cap; i--) {
    e[i].next_free = s->free_head;
    s->free_head = i;
  }
  s->entries = e;
  s->cap = cap;
  return 0;
}

int32_t knit__stash_put(knit_stash *s, const uint8_t *data, size_t len) {
  if (len > UINT32_MAX) return -E2BIG;
  if (s->free_head < 0 && grow(s)) return -ENOMEM;
  int32_t token = s->free_head;
  stash_entry *e = &s->entries[token];
  uint8_t *to = e->u.small;
  if (len > STASH_INLINE) {
    if (!(to = malloc(len))) return -ENOMEM;
    e->u.big = to;
  }
  memcpy(to, data, len);
  s->free_head = e->next_free;
  e->next_free = IN_USE;
  e->len = (uint32_t)len;
  return token;
}

static stash_entry *entry(knit_stash *s, int32_t token) {
  if (token < 0 || token >= s->cap || s->entries[token].next_free != IN_USE) return NULL;
  return &s->entries[token];
}

const uint8_t *knit__stash_get(knit_stash *s, int32_t token, size_t *len) {
  stash_entry *e = entry(s, token);
  if (!e) return NULL;
  *len = e->len;
  return e->len > STASH_INLINE ? e->u.big : e->u.small;
}

void knit__stash_drop(knit_stash *s, int32_t token) {
  stash_entry *e = entry(s, token);
  if (!e) return;
  if (e->len > STASH_INLINE) free(e->u.big);
  e->next_free = s->free_head;
  s->free_head = token;
}

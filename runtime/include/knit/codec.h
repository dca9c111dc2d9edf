/* codec.h: the one payload encoding of Knitting, shared by the JS host, JS
 * workers and native workers. A payload is one value; containers nest.
 *
 * Every value starts with a one-byte tag. Integers are little-endian and
 * unaligned, except that the bytes of binary values (typed arrays, buffers)
 * start at a multiple of 8 from the payload start, so a native task can read
 * a Float64Array in place. docs/protocol.md has the full grammar.
 */
#ifndef KNIT_CODEC_H
#define KNIT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum knit_tag {
  KNIT_T_UNDEFINED = 0x00,
  KNIT_T_NULL = 0x01,
  KNIT_T_FALSE = 0x02,
  KNIT_T_TRUE = 0x03,
  KNIT_T_F64 = 0x04,    /* 8 bytes IEEE-754 */
  KNIT_T_I32 = 0x05,    /* 4 bytes; a number that is an int32 and not -0 */
  KNIT_T_BIGINT = 0x06, /* u8 sign, u32 word count, u64 words (low first) */
  KNIT_T_STR8 = 0x07,   /* u32 byte length, UTF-8 (well-formed) */
  KNIT_T_STR16 = 0x08,  /* u32 unit count, UTF-16LE code units (any) */
  KNIT_T_DATE = 0x09,   /* f64 ms since the epoch */
  KNIT_T_SYMBOL = 0x0a, /* a registered symbol: its key, one string value */
  KNIT_T_ERROR = 0x0b,  /* u8 flags, then name, message, [stack], [cause], [props] */
  KNIT_T_ARRAY = 0x10,  /* u32 count, then values */
  KNIT_T_OBJECT = 0x11, /* u32 count, then (string key, value) pairs */
  KNIT_T_MAP = 0x12,    /* u32 count, then (key, value) pairs */
  KNIT_T_SET = 0x13,    /* u32 count, then values */
  KNIT_T_ENVELOPE = 0x14, /* header value, then one ArrayBuffer value */
  /* binary: u32 byte length, zero padding to 8, bytes */
  KNIT_T_ARRAYBUFFER = 0x20,
  KNIT_T_DATAVIEW = 0x21,
  KNIT_T_BUFFER = 0x22, /* a Node Buffer */
  KNIT_T_INT8 = 0x23,
  KNIT_T_UINT8 = 0x24,
  KNIT_T_UINT8C = 0x25,
  KNIT_T_INT16 = 0x26,
  KNIT_T_UINT16 = 0x27,
  KNIT_T_INT32 = 0x28,
  KNIT_T_UINT32 = 0x29,
  KNIT_T_FLOAT32 = 0x2a,
  KNIT_T_FLOAT64 = 0x2b,
  KNIT_T_BIGINT64 = 0x2c,
  KNIT_T_BIGUINT64 = 0x2d,
};

/* Flags after KNIT_T_ERROR: which optional parts follow. */
enum {
  KNIT_ERR_STACK = 1,
  KNIT_ERR_CAUSE = 2,
  KNIT_ERR_PROPS = 4, /* an object of other own enumerable properties */
  KNIT_ERR_DOM = 8,   /* a DOMException: the name is its DOM name; no part follows */
  KNIT_ERR_ALL = 15,
};

/* Deepest nesting of containers either side accepts. */
#define KNIT_MAX_DEPTH 128

/* Element size of a binary tag (1 for byte-like ones), 0 if not binary. */
KNIT_EXPORT unsigned knit_tag_elem_size(unsigned tag);
/* True for tags that are followed by a u32 count of nested values. */
KNIT_EXPORT bool knit_tag_is_container(unsigned tag);

/* ---- writer ----------------------------------------------------------------
 * Appends to a growable buffer it owns. Errors stick: after the first
 * failure every call is a no-op, and knit_writer_error() reports it. */

typedef struct knit_writer {
  uint8_t *buf;
  size_t len;
  size_t cap;
  size_t max; /* longest payload allowed; longer sets -EMSGSIZE */
  int err;    /* 0, -ENOMEM or -EMSGSIZE */
} knit_writer;

/* Initialises an empty writer limited to @max bytes. Never fails. */
KNIT_EXPORT void knit_writer_init(knit_writer *w, size_t max);
/* Frees the buffer. The writer may be initialised again. */
KNIT_EXPORT void knit_writer_clear(knit_writer *w);
/* Empties the writer, keeping its buffer and limit. */
KNIT_EXPORT void knit_writer_reset(knit_writer *w);
/* Drops what was written after @mark (a length read earlier), and any error
 * since: the bytes before it are intact, as errors never write. */
KNIT_EXPORT void knit_writer_rewind(knit_writer *w, size_t mark);
static inline int knit_writer_error(const knit_writer *w) { return w->err; }

KNIT_EXPORT void knit_put_tag(knit_writer *w, unsigned tag);
KNIT_EXPORT void knit_put_number(knit_writer *w, double v); /* I32 or F64 */
KNIT_EXPORT void knit_put_f64(knit_writer *w, unsigned tag, double v); /* F64, DATE */
/* @sign is 0 or 1; @words low word first. */
KNIT_EXPORT void knit_put_bigint(knit_writer *w, int sign, const uint64_t *words, size_t n);
KNIT_EXPORT void knit_put_str8(knit_writer *w, const char *utf8, size_t len);
/* Writes STR8 when every unit is ASCII, else STR16. */
KNIT_EXPORT void knit_put_str16(knit_writer *w, const uint16_t *units, size_t n);
/* Tag plus u32 count, for ARRAY, OBJECT, MAP and SET. */
KNIT_EXPORT void knit_put_container(knit_writer *w, unsigned tag, size_t count);
/* Binary value: tag, length, padding, bytes. */
KNIT_EXPORT void knit_put_binary(knit_writer *w, unsigned tag, const void *data, size_t len);
/* Like knit_put_binary but leaves the bytes for the caller to fill in
 * through the returned pointer (NULL on error). */
KNIT_EXPORT uint8_t *knit_put_binary_space(knit_writer *w, unsigned tag, size_t len);
KNIT_EXPORT void knit_put_error_head(knit_writer *w, unsigned flags);
/* Rewrites the flags of the error head written at @at (its length before
 * knit_put_error_head), for a part that is dropped after all. */
KNIT_EXPORT void knit_patch_error_flags(knit_writer *w, size_t at, unsigned flags);
/* Raw u32, for counts that are only known after the items were written. */
KNIT_EXPORT void knit_patch_u32(knit_writer *w, size_t at, uint32_t v);

/* ---- reader ----------------------------------------------------------------
 * Pulls one item at a time from a payload, checking every length against the
 * payload's end. A container item gives its count; its children follow. */

typedef struct knit_reader {
  const uint8_t *start;
  const uint8_t *p;
  const uint8_t *end;
} knit_reader;

typedef struct knit_item {
  unsigned tag;
  uint32_t count;     /* containers: children; STR16: code units */
  double num;         /* F64, I32, DATE */
  int sign;           /* BIGINT */
  unsigned flags;     /* ERROR */
  const void *data;   /* STR8, STR16, BIGINT words, binary bytes */
  size_t len;         /* bytes at data */
} knit_item;

KNIT_EXPORT void knit_reader_init(knit_reader *r, const void *data, size_t len);
/* Reads the next item. Returns 0, or -EBADMSG when the bytes are malformed
 * or a length runs past the end. */
KNIT_EXPORT int knit_read(knit_reader *r, knit_item *out);
/* Skips one whole value, children included. Returns 0 or -EBADMSG. */
KNIT_EXPORT int knit_skip(knit_reader *r);
/* Checks a whole payload: exactly one well-formed value, nesting within
 * KNIT_MAX_DEPTH. Returns 0 or -EBADMSG. */
KNIT_EXPORT int knit_validate(const void *data, size_t len);
static inline bool knit_reader_done(const knit_reader *r) { return r->p == r->end; }

/* ---- text ------------------------------------------------------------------ */

/* Converts UTF-16 to UTF-8, writing lone surrogates as WTF-8 so nothing is
 * lost. Returns the bytes needed; writes only if @cap suffices. */
KNIT_EXPORT size_t knit_utf16_to_utf8(const uint16_t *in, size_t n, char *out, size_t cap);
/* The reverse, for WTF-8: a surrogate's 3-byte sequence becomes that unit;
 * any other ill-formed sequence becomes U+FFFD, one per maximal subpart, as
 * JS engines decode UTF-8. Returns the units needed; writes only if @cap
 * suffices. */
KNIT_EXPORT size_t knit_wtf8_to_utf16(const char *in, size_t n, uint16_t *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif

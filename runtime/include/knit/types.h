/* types.h: the one parser of TypeScript type texts in Knitting.
 *
 * knitgen reads task signatures from source; the addon reads the `arg` and
 * `result` strings of a nativeTask declared without knitgen. Both go through
 * knit_type_parse(), so the two can never disagree about what a type means.
 *
 * The parser understands the types a task can carry (primitives, Date, Error,
 * binary types, arrays, tuples, object literal types, Map, Set, Record,
 * unions, literals, Promise as a result) plus the rest of the TypeScript type
 * syntax well enough to skip it: function types, named references with type
 * arguments, keyof/typeof, indexed access, conditional, mapped and template
 * literal types. What it cannot describe precisely becomes KNIT_TYPE_OPAQUE.
 *
 * Conventions as in knit.h: 0 or a negative errno, nothing prints, trees are
 * created by knit_type_parse() and released by knit_type_destroy(), which
 * accepts NULL.
 */
#ifndef KNIT_TYPES_H
#define KNIT_TYPES_H

#include <stdbool.h>
#include <stddef.h>

#include "knit/knit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum knit_type_kind {
  KNIT_TYPE_NUMBER = 1,
  KNIT_TYPE_BOOLEAN,
  KNIT_TYPE_BIGINT,
  KNIT_TYPE_STRING,
  KNIT_TYPE_VOID,      /* void or undefined */
  KNIT_TYPE_NULL,
  KNIT_TYPE_UNKNOWN,   /* unknown or any */
  KNIT_TYPE_NEVER,
  KNIT_TYPE_OBJECT_KW, /* the keyword object, or Object */
  KNIT_TYPE_SYMBOL,    /* symbol, unique symbol, Symbol */
  KNIT_TYPE_DATE,
  KNIT_TYPE_ERROR,     /* Error and its standard subclasses */
  KNIT_TYPE_BINARY,    /* ArrayBuffer, DataView, Buffer, typed arrays: see tag */
  KNIT_TYPE_ARRAY,     /* items[0] = element; Array<T>, ReadonlyArray<T>, T[] */
  KNIT_TYPE_TUPLE,     /* items = elements (label, OPTIONAL, REST on each) */
  KNIT_TYPE_OBJECT,    /* object literal type: items = members, label = key */
  KNIT_TYPE_MAP,       /* items[0] = key, items[1] = value */
  KNIT_TYPE_SET,       /* items[0] = element */
  KNIT_TYPE_RECORD,    /* items[0] = key, items[1] = value */
  KNIT_TYPE_UNION,     /* items = members, in source order */
  KNIT_TYPE_INTERSECTION,
  KNIT_TYPE_LITERAL,   /* "x", 1, -1, 1n, true, false: name is the literal text */
  KNIT_TYPE_PROMISE,   /* items[0] = the awaited type */
  KNIT_TYPE_FUNCTION,  /* items = parameters (label = name), then the result last */
  KNIT_TYPE_NAME,      /* a named reference: name (dots allowed), items = type args */
  KNIT_TYPE_OPAQUE,    /* well-formed syntax the model does not describe */
} knit_type_kind;

/* knit_type.flags */
enum {
  KNIT_TYPE_OPTIONAL = 1u << 0, /* tuple element `A?`, member `a?: A`, param `a?` */
  KNIT_TYPE_READONLY = 1u << 1, /* readonly array/tuple, readonly member */
  KNIT_TYPE_REST = 1u << 2,     /* `...A[]` tuple element or rest parameter */
  KNIT_TYPE_INDEX = 1u << 3,    /* object member that is an index signature */
  KNIT_TYPE_METHOD = 1u << 4,   /* object member written as a method */
};

/* One node. Every pointer points into memory owned by the tree, which holds
 * its own copy of the parsed text: the tree stays valid after the caller
 * frees the text. Nodes are read-only for users. */
typedef struct knit_type knit_type;
struct knit_type {
  knit_type_kind kind;
  unsigned flags;
  unsigned tag;            /* KNIT_TYPE_BINARY: its enum knit_tag (KNIT_T_UINT8 ...) */
  const char *text;        /* this node's source text, as written */
  size_t len;
  size_t offset;           /* where text starts in the parsed string */
  const char *name;        /* NAME: referenced name; LITERAL: literal text */
  size_t name_len;
  const char *label;       /* tuple label, member key or parameter name, or NULL */
  size_t label_len;
  knit_type **items;
  size_t n_items;
};

/* Where and why a parse failed. */
typedef struct knit_type_error {
  size_t offset;     /* byte offset in the parsed text */
  char message[96];  /* e.g. "expected ']'" */
} knit_type_error;

/* Nesting deeper than this is rejected (bounded recursion on any input). */
#define KNIT_TYPE_MAX_DEPTH 100

/* Parses @len bytes of @text (need not be NUL-terminated) as one type.
 * Comments and any whitespace, newlines included, are skipped; inside an
 * object type a newline separates members like `;`.
 * On success *@out is a tree the caller owns (release with
 * knit_type_destroy()) and 0 is returned. Otherwise *@out is NULL and the
 * result is -EINVAL (syntax error, or nesting beyond KNIT_TYPE_MAX_DEPTH;
 * @err, if not NULL, says where and why) or -ENOMEM. */
KNIT_EXPORT int knit_type_parse(const char *text, size_t len, knit_type **out,
                                knit_type_error *err);

/* Releases a tree returned by knit_type_parse(). Accepts NULL. Passing any
 * other node than the root is undefined. */
KNIT_EXPORT void knit_type_destroy(knit_type *root);

/* Writes @t back as canonical type text into @buf (at most @size bytes,
 * always NUL-terminated when @size > 0), like snprintf. Returns the length
 * the full text needs, excluding the NUL, or -EINVAL if @t is NULL.
 * Canonical form: `[A, B]`, `A[]`, `{ a: A; b?: B }`, `A | B`, `Map<K, V>`;
 * Array<T> prints as T[], literals and opaque parts as written. */
KNIT_EXPORT int knit_type_print(const knit_type *t, char *buf, size_t size);

/* Normalises the whitespace of the type text @text[0..@len) into @buf, like
 * snprintf (returns the full length needed, excluding the NUL). Comments are
 * dropped; runs of whitespace become one space where the original had any;
 * no space after `(`, `[`, `<` or before `)`, `]`, `>`, `,`, `;`; one space
 * after `,`; a newline between two members of an object type becomes `; `.
 * Text inside string and template literals is kept byte for byte. Works on
 * any input, parsable or not. Returns -EINVAL if @text is NULL and @len > 0. */
KNIT_EXPORT int knit_type_normalize(const char *text, size_t len, char *buf, size_t size);

/* ---- can values of a type travel between threads? ---------------------- */

/* What a named reference means to the caller's resolver. */
typedef enum knit_ref {
  KNIT_REF_UNKNOWN = 0, /* not declared where the resolver looks */
  KNIT_REF_ALIAS,       /* a type alias or interface: *out is its type */
  KNIT_REF_OPAQUE,      /* declared elsewhere (e.g. imported): carried
                           structurally, not checked */
  KNIT_REF_PARAM,       /* a generic type parameter */
  KNIT_REF_CLASS,       /* a class: its instances lose their prototype */
} knit_ref;

/* Resolves @name[0..@len). For KNIT_REF_ALIAS it sets *@out to a tree that
 * stays valid for the duration of the knit_type_carryable() call. */
typedef knit_ref (*knit_type_resolver)(void *ctx, const char *name, size_t len,
                                       const knit_type **out);

/* flags for knit_type_carryable() */
enum {
  KNIT_CARRY_RESULT = 1u << 0, /* @t is a result: a top-level Promise<T> is unwrapped */
};

/* Reports whether values of type @t can be sent as a task argument or
 * result. Functions, symbols (only registered symbols travel, and a type
 * cannot say which), classes, Promise (except as a result), WeakMap, RegExp
 * and names nobody declares cannot. Names go first to @resolve (may be NULL),
 * then to the built-in table (Partial, Pick, ... are accepted unchecked).
 * Aliases are followed, cycle-safe.
 * Returns 1 if carryable, 0 if not, -EINVAL if @t is NULL. When 0, @why (if
 * @why_size > 0) receives a one-line reason and *@where (if @where is not
 * NULL) the offending node, which may belong to a resolved alias tree. */
KNIT_EXPORT int knit_type_carryable(const knit_type *t, unsigned flags,
                                    knit_type_resolver resolve, void *ctx,
                                    const knit_type **where, char *why, size_t why_size);

/* ---- specialised codecs ---------------------------------------------------- */

typedef enum knit_codec {
  KNIT_CODEC_ANY = 0, /* the generic tagged encoding */
  KNIT_CODEC_F64,     /* number */
  KNIT_CODEC_STR,     /* string */
  KNIT_CODEC_BOOL,    /* boolean */
  KNIT_CODEC_BIGINT,  /* bigint */
  KNIT_CODEC_BYTES,   /* Uint8Array */
  KNIT_CODEC_F64S,    /* Float64Array */
} knit_codec;

/* The specialised codec for values of exactly type @t (NULL gives ANY).
 * Promise<T> gives the codec of T. Named references are not resolved. */
KNIT_EXPORT knit_codec knit_type_codec(const knit_type *t);

/* "any", "f64", "str", "bool", "bigint", "bytes" or "f64s"; never NULL. */
KNIT_EXPORT const char *knit_codec_name(knit_codec codec);

/* ---- C types for native tasks (docs/native-tasks.md) ---------------------- */

typedef enum knit_ctype {
  KNIT_C_NONE = 0, /* no C mapping */
  KNIT_C_VOID,     /* void / undefined: no parameter, no result */
  KNIT_C_DOUBLE,   /* number */
  KNIT_C_BOOL,     /* boolean */
  KNIT_C_INT64,    /* bigint */
  KNIT_C_STR,      /* string -> knit_str */
  KNIT_C_BYTES,    /* Uint8Array, ArrayBuffer -> knit_bytes */
  KNIT_C_F64S,     /* Float64Array -> knit_f64s */
  KNIT_C_I32S,     /* Int32Array -> knit_i32s */
  KNIT_C_STRUCT,   /* a plain object type: a struct the generator declares */
  KNIT_C_TUPLE,    /* a tuple: one parameter per element (arguments only) */
} knit_ctype;

/* The C mapping of @t (NULL gives KNIT_C_NONE). Promise<T> maps as T. */
KNIT_EXPORT knit_ctype knit_type_ctype(const knit_type *t);

/* The C spelling: "double", "bool", "int64_t", "knit_str", "knit_bytes",
 * "knit_f64s", "knit_i32s", "void"; NULL for NONE, STRUCT and TUPLE. */
KNIT_EXPORT const char *knit_ctype_name(knit_ctype c);

/* Flattens an argument type into C parameters: void gives none, a tuple one
 * per element, anything else one. Writes up to @max kinds to @out and, if
 * @types is not NULL, the element nodes to @types. Returns the parameter
 * count, -ENOTSUP if some element has no C mapping (a nested tuple, a
 * union, ...), -E2BIG if there are more than @max, -EINVAL if @arg is NULL. */
KNIT_EXPORT int knit_type_c_params(const knit_type *arg, knit_ctype *out,
                                   const knit_type **types, size_t max);

#ifdef __cplusplus
}
#endif

#endif

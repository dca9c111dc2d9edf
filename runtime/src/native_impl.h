/* native_impl.h: the internals of native tasks (native.c), shared with the
 * unit tests that check the C layout against libffi's. */
#ifndef KNIT_NATIVE_IMPL_H
#define KNIT_NATIVE_IMPL_H

#include <ffi.h>

#include "knit/knit.h"
#include "knit/types.h"

typedef struct knit__cnode knit__cnode;

typedef struct knit__cmember {
  const char *name; /* the member's key in the type text (an identifier) */
  size_t name_len;
  size_t off;       /* byte offset in the C struct */
  knit__cnode *type;
} knit__cmember;

/* One C type: its kind, C size and alignment, and its libffi description. */
struct knit__cnode {
  knit_ctype c;
  unsigned tag;         /* binary kinds: the codec tag a result is sent as */
  size_t size, align;
  knit__cmember *members; /* KNIT_C_STRUCT */
  size_t n_members;
  ffi_type *ffi;        /* &ffi_own for aggregates, else a libffi builtin */
  ffi_type ffi_own;
  ffi_type **elems;     /* NULL-terminated, for ffi_own */
  knit__cnode *next;    /* every node of a signature, for freeing */
};

/* A task's signature in C: parameters laid out in one argument block, the
 * result, and (with libffi) the cif prepared once. */
typedef struct knit__csig {
  knit_type *arg_tree, *result_tree; /* parsed types (member names point here) */
  unsigned nparams;
  bool tuple;           /* the argument is a tuple: a call passes an array, even of one */
  knit__cnode *params[KNIT_NATIVE_MAX_PARAMS];
  size_t param_off[KNIT_NATIVE_MAX_PARAMS];
  size_t args_size;     /* bytes of the argument block */
  knit__cnode *result;  /* c == KNIT_C_VOID for none */
  knit__cnode *nodes;   /* owned */
  ffi_type *ffi_args[KNIT_NATIVE_MAX_PARAMS];
  ffi_cif cif;
  bool cif_ready;
} knit__csig;

/* Builds @sig from TypeScript type texts. With @prep_ffi it also prepares
 * the cif. Returns 0 or -EINVAL/-E2BIG/-ENOMEM with @why filled in. */
int knit__csig_init(knit__csig *sig, const char *arg, const char *result, bool prep_ffi,
                    char *why, size_t why_size);
void knit__csig_clear(knit__csig *sig);

#endif

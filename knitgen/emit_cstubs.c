/* emit_cstubs.c: `knitgen --c-stubs FILE.ts -o DIR`: typed C for the
 * native tasks of a module (docs/native-tasks.md).
 *
 *   DIR/<stem>.knit.h   struct types and one prototype per task; the
 *                       implementation includes it, so a definition whose
 *                       signature drifts no longer compiles
 *   DIR/<stem>.knit.c   direct-call dispatch: per task a dispatcher and a
 *                       `<symbol>__knit` knit_native_entry with the declared
 *                       types. Compiled into the task library, it lets the
 *                       runtime call the task without libffi and lets
 *                       nativeTask() leave out arg and result
 *   DIR/<stem>.stubs.c  the functions with empty bodies, to fill in; written
 *                       only if missing, so it never overwrites your code
 *
 * The type mapping is knit_type_ctype() (runtime/src/types.c), the same the
 * runtime uses. Object types become structs: a named alias or interface
 * declared in the module keeps its name, an inline object type is named
 * after the task (`<symbol>_arg`, `<symbol>_result`, `<symbol>_arg1`, and
 * `<parent>_<member>` inside another struct).
 */
#include "kg.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct cs_ctx {
  const kg_project *p;
  kg_diags *d;
  const kg_task *task;  /* the task being emitted, for diagnostics */
  FILE *structs;        /* struct definitions, dependencies first */
  char **names;         /* struct names emitted so far */
  size_t nnames;
  knit_type *owned[64]; /* alias trees parsed while resolving */
  int nowned;
  int depth;
  const char *string; /* "arg" or "result" while that half came as a string */
  bool failed;
} cs_ctx;

/* Byte offset of a task's name token, for diagnostics (line/col known). */
static size_t task_off(const kg_task *t)
{
  const kg_file *f = t->module->file;
  size_t off = 0;
  for (uint32_t line = 1; line < t->line && off < f->size; off++)
    if (f->data[off] == '\n')
      line++;
  for (uint32_t col = 1; col < t->col && off < f->size; off++)
    if (((unsigned char)f->data[off + 1] & 0xc0) != 0x80)
      col++;
  return off;
}

static void fail(cs_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(cs_ctx *c, const char *fmt, ...)
{
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  kg_diag(c->d, KG_ERROR, c->task->module->file, task_off(c->task), "native task '%s': %s",
          c->task->name, msg);
  c->failed = true;
}

/* Follows a named reference to a non-generic type alias or interface
 * declared in the task's module. Returns NULL (and reports) otherwise. */
static const knit_type *resolve(cs_ctx *c, const knit_type *t)
{
  const kg_module *m = c->task->module;
  if (c->string) {
    /* nativeTask() hands the string to the runtime, which has no names */
    fail(c, "'%.*s' in the %s string names a type, which the runtime cannot look up: write "
         "the type out there, or declare nativeTask<Arg, Result>(...)", (int)t->name_len, t->name,
         c->string);
    return NULL;
  }
  const kg_decl *d = kg_module_find(m, t->name, t->name_len, true);
  if (d && d->kind == KG_D_INTERFACE && d->extends) {
    fail(c, "interface '%.*s' extends another: a C struct needs its members written out in one "
         "type alias or interface", (int)t->name_len, t->name);
    return NULL;
  }
  if (!d || (d->kind != KG_D_TYPE && d->kind != KG_D_INTERFACE) || d->generic || !d->body.len) {
    fail(c, "type '%.*s' must be a non-generic type alias or interface declared in this module "
         "to get a C struct", (int)t->name_len, t->name);
    return NULL;
  }
  if (c->nowned == (int)(sizeof c->owned / sizeof c->owned[0]) || c->depth > 32) {
    fail(c, "types nest too deeply at '%.*s'", (int)t->name_len, t->name);
    return NULL;
  }
  knit_type *r = NULL;
  if (knit_type_parse(m->file->data + d->body.off, d->body.len, &r, NULL) < 0) {
    fail(c, "cannot parse the declaration of '%.*s'", (int)t->name_len, t->name);
    return NULL;
  }
  c->owned[c->nowned++] = r;
  return r;
}

/* Whether @s (@n bytes) cannot name a struct member, a parameter or a struct
 * in the header: a C keyword, a <stdbool.h> macro, or a type that knit.h's
 * includes declare. TypeScript allows all of them ({ lat; long }). */
static bool c_reserved(const char *s, size_t n)
{
  static const char *const words[] = {
    "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
    "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
    "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch",
    "typedef", "union", "unsigned", "void", "volatile", "while", "bool", "true", "false",
    "size_t", "ptrdiff_t", "wchar_t", "max_align_t", "intptr_t", "uintptr_t", "intmax_t",
    "uintmax_t", "int8_t", "int16_t", "int32_t", "int64_t", "uint8_t", "uint16_t",
    "uint32_t", "uint64_t",
  };
  if (n && s[0] == '_' && ((s[1] >= 'A' && s[1] <= 'Z') || s[1] == '_'))
    return true; /* _Bool, _Alignas, __x: the implementation's */
  if (n >= 5 && !memcmp(s, "knit_", 5))
    return true; /* knit.h's own */
  for (size_t k = 0; k < sizeof words / sizeof words[0]; k++)
    if (strlen(words[k]) == n && !memcmp(words[k], s, n))
      return true;
  return false;
}

static const char *binary_name(unsigned tag)
{
  switch (tag) {
  case KNIT_T_ARRAYBUFFER: return "ArrayBuffer";
  case KNIT_T_FLOAT64: return "Float64Array";
  case KNIT_T_INT32: return "Int32Array";
  default: return "Uint8Array";
  }
}

static bool emitted(cs_ctx *c, const char *name)
{
  for (size_t k = 0; k < c->nnames; k++)
    if (!strcmp(c->names[k], name))
      return true;
  return false;
}

/* Returns the C type of @t as a malloc'd string, writing the expanded
 * TypeScript text (aliases inlined, as the runtime reads it) to @ts and any
 * struct it needs to c->structs. @hint names an inline object type. */
static char *ctype(cs_ctx *c, const knit_type *t, const char *hint, FILE *ts, bool top)
{
  const char *alias = NULL;
  size_t alias_len = 0;
  if (t->kind == KNIT_TYPE_NAME) {
    alias = t->name;
    alias_len = t->name_len;
    c->depth++;
    t = resolve(c, t);
    c->depth--;
    if (!t)
      return NULL;
  }
  if (t->kind == KNIT_TYPE_PROMISE) {
    fail(c, "a native task is synchronous: '%.*s' cannot be its result", (int)t->len, t->text);
    return NULL;
  }
  /* an object's members may name aliases, which knit_type_ctype() cannot
   * follow: those are checked member by member below */
  knit_ctype k = knit_type_ctype(t);
  if (t->kind == KNIT_TYPE_OBJECT && t->n_items) {
    k = KNIT_C_STRUCT;
    for (size_t m = 0; m < t->n_items; m++)
      if (t->items[m]->flags & (KNIT_TYPE_METHOD | KNIT_TYPE_INDEX | KNIT_TYPE_OPTIONAL) || !t->items[m]->label)
        k = KNIT_C_NONE;
  }
  if (k == KNIT_C_NONE || k == KNIT_C_TUPLE || (k == KNIT_C_VOID && !top)) {
    fail(c, "type '%.*s' has no C mapping (use number, boolean, bigint, string, Uint8Array, "
         "ArrayBuffer, Float64Array, Int32Array or a plain object of those)",
         (int)(alias ? alias_len : t->len), alias ? alias : t->text);
    return NULL;
  }
  if (k != KNIT_C_STRUCT) {
    switch (k) {
    case KNIT_C_VOID: fputs("void", ts); break;
    case KNIT_C_DOUBLE: fputs("number", ts); break;
    case KNIT_C_BOOL: fputs("boolean", ts); break;
    case KNIT_C_INT64: fputs("bigint", ts); break;
    case KNIT_C_STR: fputs("string", ts); break;
    default: fputs(k == KNIT_C_BYTES ? binary_name(t->tag) : k == KNIT_C_F64S ? "Float64Array" : "Int32Array", ts);
    }
    return strdup(knit_ctype_name(k));
  }
  char *name = NULL;
  if (alias && c_reserved(alias, alias_len)) {
    fail(c, "type '%.*s' cannot name a C struct: C or knit.h reserves the name; rename it",
         (int)alias_len, alias);
    return NULL;
  }
  if (alias) {
    name = strndup(alias, alias_len);
  } else {
    name = strdup(hint);
  }
  if (!name)
    return NULL;
  /* members first: nested structs must be defined before this one */
  char *body = NULL;
  size_t blen = 0;
  FILE *b = open_memstream(&body, &blen);
  if (!b) {
    free(name);
    return NULL;
  }
  fputs("{ ", ts);
  for (size_t m = 0; m < t->n_items && !c->failed; m++) {
    const knit_type *mt = t->items[m];
    bool ident = mt->label_len && !(mt->label[0] >= '0' && mt->label[0] <= '9');
    for (size_t j = 0; j < mt->label_len && ident; j++) {
      char ch = mt->label[j];
      ident = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
    }
    if (!ident) {
      fail(c, "property key '%.*s' is not a C identifier", (int)mt->label_len, mt->label);
      break;
    }
    if (c_reserved(mt->label, mt->label_len)) {
      fail(c, "property key '%.*s' cannot be a C struct member: C or knit.h reserves the name",
           (int)mt->label_len, mt->label);
      break;
    }
    char *sub = NULL;
    if (asprintf(&sub, "%s_%.*s", name, (int)mt->label_len, mt->label) < 0)
      break;
    fprintf(ts, "%s%.*s: ", m ? "; " : "", (int)mt->label_len, mt->label);
    char *ct = ctype(c, mt, sub, ts, false);
    free(sub);
    if (!ct)
      break;
    fprintf(b, "  %s %.*s;\n", ct, (int)mt->label_len, mt->label);
    free(ct);
  }
  fputs(" }", ts);
  fclose(b);
  if (!c->failed && !emitted(c, name)) {
    char **v = realloc(c->names, (c->nnames + 1) * sizeof *v);
    char *copy = strdup(name);
    if (v && copy) {
      c->names = v;
      c->names[c->nnames++] = copy;
      fprintf(c->structs, "typedef struct %s {\n%s} %s;\n\n", name, body, name);
    } else {
      if (v)
        c->names = v;
      free(copy);
      c->failed = true;
    }
  }
  free(body);
  if (c->failed) {
    free(name);
    return NULL;
  }
  return name;
}

/* One task's C pieces. */
typedef struct cs_task {
  char *result;           /* C result type */
  char *params[KNIT_NATIVE_MAX_PARAMS];
  char *pnames[KNIT_NATIVE_MAX_PARAMS];
  unsigned n;
  char *arg_ts, *result_ts; /* expanded TypeScript texts */
} cs_task;

static void cs_task_clear(cs_task *ct)
{
  free(ct->result);
  for (unsigned k = 0; k < ct->n; k++) {
    free(ct->params[k]);
    free(ct->pnames[k]);
  }
  free(ct->arg_ts);
  free(ct->result_ts);
  memset(ct, 0, sizeof *ct);
}

static bool c_ident(const char *s)
{
  if (!s || !*s || (*s >= '0' && *s <= '9'))
    return false;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
      return false;
  return true;
}

static int build_task(cs_ctx *c, const kg_task *t, cs_task *ct)
{
  c->task = t;
  c->failed = false;
  memset(ct, 0, sizeof *ct);
  if (!c_ident(t->symbol)) {
    fail(c, "symbol '%s' is not a C identifier", t->symbol ? t->symbol : "");
    return -EINVAL;
  }
  if (!strcmp(t->arg, "unknown") || !strcmp(t->result, "unknown")) {
    fail(c, "give its types as nativeTask<Arg, Result>(...) or as arg and result strings");
    return -EINVAL;
  }
  knit_type *arg = NULL, *res = NULL;
  if (knit_type_parse(t->arg, strlen(t->arg), &arg, NULL) < 0 ||
      knit_type_parse(t->result, strlen(t->result), &res, NULL) < 0) {
    knit_type_destroy(arg);
    fail(c, "cannot parse its types");
    return -EINVAL;
  }
  size_t al = 0, rl = 0;
  FILE *ats = open_memstream(&ct->arg_ts, &al), *rts = open_memstream(&ct->result_ts, &rl);
  if (!ats || !rts) {
    if (ats)
      fclose(ats);
    if (rts)
      fclose(rts);
    knit_type_destroy(arg);
    knit_type_destroy(res);
    return -ENOMEM;
  }
  /* the argument: a tuple spreads into parameters (a named tuple alias too) */
  c->string = t->arg_in_string ? "arg" : NULL;
  const knit_type *a = arg;
  if (a->kind == KNIT_TYPE_NAME) {
    const knit_type *r = resolve(c, a);
    if (r && r->kind == KNIT_TYPE_TUPLE)
      a = r;
  }
  if (!c->failed && a->kind == KNIT_TYPE_TUPLE) {
    if (a->n_items > KNIT_NATIVE_MAX_PARAMS)
      fail(c, "more than %d parameters", KNIT_NATIVE_MAX_PARAMS);
    fputc('[', ats);
    for (size_t k = 0; k < a->n_items && !c->failed; k++) {
      const knit_type *e = a->items[k];
      if (e->flags & (KNIT_TYPE_OPTIONAL | KNIT_TYPE_REST)) {
        fail(c, "optional and rest tuple elements have no C mapping");
        break;
      }
      char hint[300];
      snprintf(hint, sizeof hint, "%s_arg%zu", t->symbol, k);
      fputs(k ? ", " : "", ats);
      ct->params[ct->n] = ctype(c, e, hint, ats, false);
      if (!ct->params[ct->n])
        break;
      if (e->label && c_ident(strndupa(e->label, e->label_len)) && !c_reserved(e->label, e->label_len))
        ct->pnames[ct->n] = strndup(e->label, e->label_len);
      else
        asprintf(&ct->pnames[ct->n], "a%zu", k);
      ct->n++;
    }
    fputc(']', ats);
  } else if (!c->failed) {
    char hint[300];
    snprintf(hint, sizeof hint, "%s_arg", t->symbol);
    char *p0 = ctype(c, a, hint, ats, true);
    if (p0 && strcmp(p0, "void")) {
      ct->params[0] = p0;
      ct->pnames[0] = strdup("arg");
      ct->n = 1;
    } else {
      free(p0);
    }
  }
  c->string = t->result_in_string ? "result" : NULL;
  if (!c->failed) {
    char hint[300];
    snprintf(hint, sizeof hint, "%s_result", t->symbol);
    ct->result = ctype(c, res, hint, rts, true);
  }
  fclose(ats);
  fclose(rts);
  knit_type_destroy(arg);
  knit_type_destroy(res);
  for (int k = 0; k < c->nowned; k++)
    knit_type_destroy(c->owned[k]);
  c->nowned = 0;
  return c->failed || !ct->result ? -EINVAL : 0;
}

int kg_native_types(const kg_project *p, const kg_task *t, char **arg, char **result)
{
  *arg = *result = NULL;
  kg_diags quiet; /* the table reports nothing: createPool will, naming the task */
  kg_diags_init(&quiet);
  char *structs = NULL;
  size_t sl = 0;
  cs_ctx c = {.p = p, .d = &quiet, .structs = open_memstream(&structs, &sl)};
  cs_task ct;
  int rc = c.structs ? build_task(&c, t, &ct) : -ENOMEM;
  if (!rc) {
    *arg = ct.arg_ts;
    *result = ct.result_ts;
    ct.arg_ts = ct.result_ts = NULL;
  }
  if (c.structs) {
    cs_task_clear(&ct);
    fclose(c.structs);
  }
  free(structs);
  for (size_t k = 0; k < c.nnames; k++)
    free(c.names[k]);
  free(c.names);
  kg_diags_clear(&quiet);
  return rc;
}

/* `double crc(knit_bytes arg)` */
static void prototype(FILE *out, const kg_task *t, const cs_task *ct)
{
  fprintf(out, "%s %s(", ct->result, t->symbol);
  if (!ct->n)
    fputs("void", out);
  for (unsigned k = 0; k < ct->n; k++)
    fprintf(out, "%s%s %s", k ? ", " : "", ct->params[k], ct->pnames[k]);
  fputc(')', out);
}

static void c_string(FILE *out, const char *s)
{
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fputc('\\', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

int kg_emit_cstubs(const kg_project *p, const char *dir, const char *stem, kg_diags *d)
{
  cs_ctx c = {.p = p, .d = d};
  char *structs = NULL, *protos = NULL, *dispatch = NULL, *stubs = NULL;
  size_t sl = 0, pl = 0, dl = 0, tl = 0;
  c.structs = open_memstream(&structs, &sl);
  FILE *fp = open_memstream(&protos, &pl), *fd = open_memstream(&dispatch, &dl);
  FILE *fs = open_memstream(&stubs, &tl);
  int rc = 0;
  if (!c.structs || !fp || !fd || !fs)
    rc = -ENOMEM;
  size_t count = 0;
  for (size_t k = 0; k < p->ntasks && !rc; k++) {
    const kg_task *t = &p->tasks[k];
    if (t->kind != KG_K_NATIVE)
      continue;
    /* the same symbol twice (two exports of one task) is emitted once; a C
     * function has one signature, so the types must agree */
    const kg_task *first = NULL;
    for (size_t j = 0; j < k && !first; j++)
      if (p->tasks[j].kind == KG_K_NATIVE && p->tasks[j].symbol && t->symbol &&
          !strcmp(p->tasks[j].symbol, t->symbol))
        first = &p->tasks[j];
    if (first) {
      char *a1 = NULL, *r1 = NULL, *a2 = NULL, *r2 = NULL;
      if (!kg_native_types(p, first, &a1, &r1) && !kg_native_types(p, t, &a2, &r2) &&
          (strcmp(a1, a2) || strcmp(r1, r2))) {
        c.task = t;
        fail(&c, "symbol '%s' is declared as (%s) => %s here but as (%s) => %s at line %u",
             t->symbol, a2, r2, a1, r1, (unsigned)first->line);
      }
      free(a1);
      free(r1);
      free(a2);
      free(r2);
      continue;
    }
    cs_task ct;
    if (build_task(&c, t, &ct) < 0) {
      cs_task_clear(&ct);
      continue;
    }
    count++;
    fprintf(fp, "/* %s: (%s) => %s */\n", t->name, ct.arg_ts, ct.result_ts);
    prototype(fp, t, &ct);
    fputs(";\n", fp);
    fprintf(fp, "extern const knit_native_entry %s__knit;\n\n", t->symbol);

    fprintf(fd, "static void %s__dispatch(void *result, void **args)\n{\n", t->symbol);
    if (!ct.n)
      fputs("  (void)args;\n", fd);
    if (!strcmp(ct.result, "void"))
      fputs("  (void)result;\n  ", fd);
    else
      fprintf(fd, "  *(%s *)result = ", ct.result);
    fprintf(fd, "%s(", t->symbol);
    for (unsigned j = 0; j < ct.n; j++)
      fprintf(fd, "%s*(const %s *)args[%u]", j ? ", " : "", ct.params[j], j);
    fputs(");\n}\n\n", fd);
    fprintf(fd, "KNIT_STUB_EXPORT const knit_native_entry %s__knit = {\n  KNIT_NATIVE_ABI, ", t->symbol);
    c_string(fd, ct.arg_ts);
    fputs(", ", fd);
    c_string(fd, ct.result_ts);
    fprintf(fd, ", %s__dispatch,\n};\n\n", t->symbol);

    fputs("KNIT_STUB_EXPORT ", fs);
    prototype(fs, t, &ct);
    fputs("\n{\n", fs);
    for (unsigned j = 0; j < ct.n; j++)
      fprintf(fs, "  (void)%s;\n", ct.pnames[j]);
    fprintf(fs, "  knit_native_throw(\"%s is not implemented yet\");\n", t->symbol);
    if (strcmp(ct.result, "void")) {
      fprintf(fs, "  %s r;\n  memset(&r, 0, sizeof r);\n  return r;\n", ct.result);
    }
    fputs("}\n\n", fs);
    cs_task_clear(&ct);
  }
  if (c.structs)
    fclose(c.structs);
  if (fp)
    fclose(fp);
  if (fd)
    fclose(fd);
  if (fs)
    fclose(fs);
  for (size_t k = 0; k < c.nnames; k++)
    free(c.names[k]);
  free(c.names);
  if (!rc && !count && d->errors == 0) {
    kg_diag_path(d, KG_ERROR, p->nroots ? p->roots[0]->file->path : NULL,
                 "no native tasks to write C stubs for (declare them with nativeTask)");
    rc = -ENOENT;
  }
  if (!rc && d->errors)
    rc = -EINVAL;
  /* trim the final blank lines: the templates put their own */
  for (char *s = structs; s && sl && s[sl - 1] == '\n'; sl--)
    s[sl - 1] = 0;
  for (char *s = protos; s && pl && s[pl - 1] == '\n'; pl--)
    s[pl - 1] = 0;
  for (char *s = dispatch; s && dl && s[dl - 1] == '\n'; dl--)
    s[dl - 1] = 0;
  for (char *s = stubs; s && tl && s[tl - 1] == '\n'; tl--)
    s[tl - 1] = 0;

  char guard[256];
  size_t g = 0;
  for (const char *s = stem; *s && g + 16 < sizeof guard; s++)
    guard[g++] = (char)((*s >= 'a' && *s <= 'z') ? *s - 32
                        : ((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')) ? *s : '_');
  snprintf(guard + g, sizeof guard - g, "_KNIT_H");
  char header[512];
  snprintf(header, sizeof header, "%s.knit.h", stem);
  const char *source = p->nroots ? p->roots[0]->file->path : "";
  const kg_subst subs[] = {
    {"BANNER", "/* generated by knitgen " KG_VERSION " \xe2\x80\x94 do not edit */"},
    {"STUB_BANNER", "/* generated by knitgen " KG_VERSION " \xe2\x80\x94 a stub to fill in; "
                    "knitgen never overwrites it */"},
    {"SOURCE", source},
    {"GUARD", guard},
    {"HEADER", header},
    {"STRUCTS", structs ? structs : ""},
    {"PROTOTYPES", protos ? protos : ""},
    {"DISPATCH", dispatch ? dispatch : ""},
    {"STUBS", stubs ? stubs : ""},
  };
  static const char *const tpl[] = {"cstubs.h.in", "cstubs.c.in", "cstubs.stubs.c.in"};
  static const char *const ext[] = {"knit.h", "knit.c", "stubs.c"};
  for (int k = 0; k < 3 && !rc; k++) {
    char *path = NULL;
    if (asprintf(&path, "%s/%s.%s", dir, stem, ext[k]) < 0) {
      rc = -ENOMEM;
      break;
    }
    if (k < 2 || access(path, F_OK) != 0)
      rc = kg_template_fill(tpl[k], path, subs, sizeof subs / sizeof subs[0], d);
    free(path);
  }
  free(structs);
  free(protos);
  free(dispatch);
  free(stubs);
  return rc;
}

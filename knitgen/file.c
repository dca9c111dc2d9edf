/* file.c: source files for knitgen: loading, tokens, positions. */
#include "kg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define KG_MAX_FILE (1u << 30)

static bool ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int file_new(const char *path, kg_file **out)
{
  kg_file *f = calloc(1, sizeof *f);
  if (!f)
    return -ENOMEM;
  f->path = strdup(path);
  if (!f->path) {
    free(f);
    return -ENOMEM;
  }
  f->tsx = ends_with(path, ".tsx") || ends_with(path, ".jsx");
  *out = f;
  return 0;
}

int kg_file_from_memory(const char *path, const char *data, size_t len, kg_file **out)
{
  *out = NULL;
  if (len >= KG_MAX_FILE)
    return -EFBIG;
  kg_file *f;
  int rc = file_new(path, &f);
  if (rc < 0)
    return rc;
  f->data = malloc(len + 1);
  if (!f->data) {
    kg_file_free(f);
    return -ENOMEM;
  }
  if (len)
    memcpy(f->data, data, len);
  f->data[len] = 0;
  f->size = len;
  *out = f;
  return 0;
}

int kg_file_load(const char *path, kg_file **out)
{
  *out = NULL;
  FILE *fp = fopen(path, "rb");
  if (!fp)
    return -errno;
  struct stat st;
  if (fstat(fileno(fp), &st) < 0) {
    int e = -errno;
    fclose(fp);
    return e;
  }
  if (S_ISDIR(st.st_mode)) {
    fclose(fp);
    return -EISDIR;
  }
  kg_file *f;
  int rc = file_new(path, &f);
  if (rc < 0) {
    fclose(fp);
    return rc;
  }
  size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
  if (cap > KG_MAX_FILE)
    cap = KG_MAX_FILE;
  size_t len = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t got = fread(buf + len, 1, cap - len - 1, fp);
    len += got;
    if (got == 0 || len + 1 < cap)
      break;
    if (cap >= KG_MAX_FILE) {
      free(buf);
      fclose(fp);
      kg_file_free(f);
      return -EFBIG;
    }
    char *nb = realloc(buf, cap * 2);
    if (!nb) {
      free(buf);
      buf = NULL;
      break;
    }
    buf = nb;
    cap *= 2;
  }
  int err = ferror(fp) ? -EIO : 0;
  fclose(fp);
  if (!buf || err) {
    free(buf);
    kg_file_free(f);
    return buf ? err : -ENOMEM;
  }
  buf[len] = 0;
  f->data = buf;
  f->size = len;
  *out = f;
  return 0;
}

void kg_file_free(kg_file *f)
{
  if (!f)
    return;
  free(f->path);
  free(f->data);
  free(f->toks);
  free(f);
}

bool kg_tok_is(const kg_file *f, const kg_token *t, const char *word)
{
  size_t n = strlen(word);
  return t->kind == KG_T_IDENT && t->len == n && memcmp(f->data + t->off, word, n) == 0;
}

size_t kg_file_bom(const kg_file *f)
{
  return f->size >= 3 && memcmp(f->data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
}

size_t kg_file_line_begin(const kg_file *f, size_t off)
{
  if (off > f->size)
    off = f->size;
  while (off > 0 && f->data[off - 1] != '\n')
    off--;
  size_t bom = kg_file_bom(f);
  return off == 0 && bom ? bom : off;
}

uint32_t kg_file_col(const kg_file *f, size_t off)
{
  off = kg_file_src(f, off);
  uint32_t col = 1;
  for (size_t k = kg_file_line_begin(f, off); k < off; k++)
    if (((unsigned char)f->data[k] & 0xc0) != 0x80)
      col++;
  return col;
}

uint32_t kg_file_line(const kg_file *f, size_t off)
{
  /* tokens know their line; this is for offsets between tokens */
  off = kg_file_src(f, off);
  uint32_t line = 1;
  const char *p = f->data, *end = f->data + off;
  while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
    line++;
    p++;
  }
  return line;
}

size_t kg_file_src(const kg_file *f, size_t off)
{
  if (off <= f->size || off < f->size + 1 + 4 || off > f->size + 1 + f->pool)
    return off > f->size ? f->size : off;
  uint32_t src;
  memcpy(&src, f->data + off - 4, 4);
  return src;
}

int64_t kg_file_add_name(kg_file *f, uint32_t src, const char *raw, size_t len,
                         uint32_t *out_len)
{
  size_t at = f->size + 1 + f->pool;
  if (at + 4 + len + 1 >= KG_MAX_FILE * 2ull)
    return -ENOMEM;
  char *tmp = malloc(len + 1);
  if (!tmp)
    return -ENOMEM;
  size_t n = kg_unescape(raw, len, tmp);
  char *d = realloc(f->data, at + 4 + n + 1);
  if (!d) {
    free(tmp);
    return -ENOMEM;
  }
  f->data = d;
  memcpy(d + at, &src, 4);
  memcpy(d + at + 4, tmp, n + 1);
  free(tmp);
  f->pool += 4 + n + 1;
  *out_len = (uint32_t)n;
  return (int64_t)(at + 4);
}

static int hex_val(char h)
{
  return h >= '0' && h <= '9' ? h - '0' : (h | 32) >= 'a' && (h | 32) <= 'f' ? (h | 32) - 'a' + 10 : -1;
}

/* Reads @digits hex digits (0: `{...}`, up to 0x10ffff + 1) after in[*k];
 * returns the value or -1 (then *k is unchanged). */
static long read_hex(const char *in, size_t n, size_t *k, int digits)
{
  size_t j = *k;
  long v = 0;
  if (!digits) {
    if (j >= n || in[j] != '{')
      return -1;
    size_t s = ++j;
    for (; j < n && hex_val(in[j]) >= 0; j++)
      if (v <= 0x10ffff)
        v = v * 16 + hex_val(in[j]);
    if (j == s || j >= n || in[j] != '}')
      return -1;
    *k = j + 1;
    return v;
  }
  for (int q = 0; q < digits; q++, j++) {
    if (j >= n || hex_val(in[j]) < 0)
      return -1;
    v = v * 16 + hex_val(in[j]);
  }
  *k = j;
  return v;
}

static char *put_utf8(char *o, unsigned long cp)
{
  if (cp >= 0xd800 && cp <= 0xdfff)
    cp = 0xfffd;
  if (cp > 0x10ffff)
    cp = 0xfffd;
  if (cp < 0x80) {
    *o++ = (char)cp;
  } else if (cp < 0x800) {
    *o++ = (char)(0xc0 | (cp >> 6));
    *o++ = (char)(0x80 | (cp & 0x3f));
  } else if (cp < 0x10000) {
    *o++ = (char)(0xe0 | (cp >> 12));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
    *o++ = (char)(0x80 | (cp & 0x3f));
  } else {
    *o++ = (char)(0xf0 | (cp >> 18));
    *o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
    *o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
    *o++ = (char)(0x80 | (cp & 0x3f));
  }
  return o;
}

/* \u escape after "\u" at in[*k]: the code point, a following low surrogate
 * escape combined with a high one; -1 when malformed. */
static long read_u(const char *in, size_t n, size_t *k)
{
  long cp = read_hex(in, n, k, in[*k] == '{' ? 0 : 4);
  if (cp >= 0xd800 && cp <= 0xdbff && *k + 1 < n && in[*k] == '\\' && in[*k + 1] == 'u') {
    size_t j = *k + 2;
    long lo = j < n ? read_hex(in, n, &j, in[j] == '{' ? 0 : 4) : -1;
    if (lo >= 0xdc00 && lo <= 0xdfff) {
      *k = j;
      return 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
  }
  return cp;
}

size_t kg_unescape(const char *in, size_t n, char *out)
{
  static const char simple[] = "n\nt\tr\rb\bf\fv\v0";
  char *o = out;
  size_t k = 0;
  while (k < n) {
    char c = in[k++];
    if (c != '\\' || k >= n) {
      *o++ = c;
      continue;
    }
    c = in[k++];
    const char *s = c ? strchr(simple, c) : NULL;
    long cp;
    if (s && (s - simple) % 2 == 0) {
      *o++ = s[1]; /* "0" pairs with the NUL that ends the table */
    } else if (c == '\n') {
      /* line continuation */
    } else if (c == '\r') {
      if (k < n && in[k] == '\n')
        k++;
    } else if (c == 'x' && (cp = read_hex(in, n, &k, 2)) >= 0) {
      o = put_utf8(o, (unsigned long)cp);
    } else if (c == 'u' && k < n && (cp = read_u(in, n, &k)) >= 0) {
      o = put_utf8(o, (unsigned long)cp);
    } else {
      *o++ = c;
    }
  }
  *o = 0;
  return (size_t)(o - out);
}

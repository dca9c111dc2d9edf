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

static size_t line_begin(const kg_file *f, size_t off)
{
  if (off > f->size)
    off = f->size;
  while (off > 0 && f->data[off - 1] != '\n')
    off--;
  return off;
}

uint32_t kg_file_col(const kg_file *f, size_t off)
{
  if (off > f->size)
    off = f->size;
  uint32_t col = 1;
  for (size_t k = line_begin(f, off); k < off; k++)
    if (((unsigned char)f->data[k] & 0xc0) != 0x80)
      col++;
  return col;
}

uint32_t kg_file_line(const kg_file *f, size_t off)
{
  /* tokens know their line; this is for offsets between tokens */
  if (off > f->size)
    off = f->size;
  uint32_t line = 1;
  const char *p = f->data, *end = f->data + off;
  while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
    line++;
    p++;
  }
  return line;
}

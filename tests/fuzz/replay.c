/* replay.c: runs a fuzz target over files and directories of inputs, so the
 * corpus is replayed by ordinary `meson test` without libFuzzer (as libvips'
 * fuzz/ and ninja's misc/ do). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return -1;
  }
  size_t cap = 1 << 16, len = 0;
  uint8_t *buf = malloc(cap);
  size_t got;
  while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
    len += got;
    if (len == cap) {
      uint8_t *nb = realloc(buf, cap * 2);
      if (!nb)
        break;
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (!buf)
    return -1;
  LLVMFuzzerTestOneInput(buf, len);
  free(buf);
  return 0;
}

static int cmp(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
  int files = 0, failed = 0;
  for (int k = 1; k < argc; k++) {
    struct stat st;
    if (stat(argv[k], &st) < 0) {
      perror(argv[k]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      failed += run_file(argv[k]) < 0;
      files++;
      continue;
    }
    DIR *d = opendir(argv[k]);
    if (!d) {
      perror(argv[k]);
      return 1;
    }
    char **names = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.')
        continue;
      char **nn = realloc(names, (n + 1) * sizeof *nn);
      if (!nn)
        break;
      names = nn;
      names[n] = malloc(strlen(argv[k]) + strlen(e->d_name) + 2);
      if (names[n])
        sprintf(names[n++], "%s/%s", argv[k], e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp); /* a stable order for reproducible runs */
    for (size_t j = 0; j < n; j++) {
      failed += run_file(names[j]) < 0;
      files++;
      free(names[j]);
    }
    free(names);
  }
  printf("replayed %d input%s\n", files, files == 1 ? "" : "s");
  return failed ? 1 : 0;
}

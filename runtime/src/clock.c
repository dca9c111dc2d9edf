/* The monotonic clock every thread of the process shares (knit_now_ns). */
#include <time.h>

#include "knit/knit.h"

uint64_t knit_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* atomic.h: every atomic operation in libknit goes through here, so the
 * memory orderings can be read in one place (after liburing's barrier.h).
 * Each call site names the operation it pairs with on the other thread. */
#ifndef KNIT_ATOMIC_H
#define KNIT_ATOMIC_H

#include <stdint.h>

#include "knit/knit.h" /* KNIT_CACHELINE */

#define knit_load_relaxed(p) __atomic_load_n((p), __ATOMIC_RELAXED)
#define knit_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define knit_load_seq(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define knit_store_relaxed(p, v) __atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define knit_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define knit_store_seq(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define knit_fetch_add_seq(p, v) __atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define knit_fetch_sub_seq(p, v) __atomic_fetch_sub((p), (v), __ATOMIC_SEQ_CST)
#define knit_exchange_seq(p, v) __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#if defined(__SANITIZE_THREAD__)
#define KNIT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) /* clang */
#define KNIT_TSAN 1
#endif
#endif
#ifdef KNIT_TSAN
/* TSan does not model fences (gcc -Wtsan); a seq-cst read-modify-write of a
 * word of the caller's is the same barrier in a form it understands. */
#define knit_fence_seq_on(p) ((void)__atomic_fetch_add((p), 0, __ATOMIC_SEQ_CST))
#else
#define knit_fence_seq_on(p) __atomic_thread_fence(__ATOMIC_SEQ_CST)
#endif

static inline void knit_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield" ::: "memory");
#endif
}

#endif

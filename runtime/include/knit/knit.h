/* knit.h: the public C API of libknit, the Knitting runtime.
 *
 * libknit moves calls between threads through shared memory. A lane joins one
 * host to one worker with two 32-slot mailboxes: requests (host -> worker) and
 * responses (worker -> host). docs/protocol.md gives the byte layout.
 *
 * Conventions: functions return 0 (or a count) on success and a negative errno
 * on failure. Nothing prints and nothing exits. Objects are created by
 * knit_*_create and released by knit_*_destroy, which accepts NULL. Every
 * mailbox has exactly one producer thread and one consumer thread.
 */
#ifndef KNIT_KNIT_H
#define KNIT_KNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(KNIT_BUILDING) && defined(__GNUC__)
#define KNIT_EXPORT __attribute__((visibility("default")))
#else
#define KNIT_EXPORT
#endif

#define KNIT_VERSION "0.1.0"

/* ---- clock ------------------------------------------------------------- */

/* Nanoseconds on CLOCK_MONOTONIC. Every timestamp and deadline in Knitting
 * uses this one clock, on every thread and in every runtime. */
KNIT_EXPORT uint64_t knit_now_ns(void);

/* ---- limits ------------------------------------------------------------ */

#define KNIT_SLOTS 32u
#define KNIT_INLINE_BYTES 448u /* payload bytes stored in the slot itself */

typedef struct knit_limits {
  size_t arena_initial; /* bytes committed at first (default 4 MiB) */
  size_t arena_max;     /* bytes the arena may grow to (default 64 MiB) */
  size_t payload_max;   /* largest single payload (default 8 MiB) */
} knit_limits;

/* Fills @limits with the defaults above. */
KNIT_EXPORT void knit_limits_default(knit_limits *limits);

/* Checks @limits: 0 <= initial <= max, payload_max <= max, max <= 1 GiB.
 * Returns 0 or -EINVAL. */
KNIT_EXPORT int knit_limits_check(const knit_limits *limits);

/* ---- signals: spin, then park --------------------------------------------
 * A signal is a futex word plus a waiter count. The waker skips the syscall
 * when nobody is parked, and repeated wakes before the waiter runs coalesce
 * into one. */

typedef struct knit_signal knit_signal;

/* Returns true when the awaited condition holds. Must not block. */
typedef bool (*knit_ready_fn)(void *arg);

/* Allocates a signal. Returns 0 or -ENOMEM; the caller owns *@out. */
KNIT_EXPORT int knit_signal_create(knit_signal **out);
KNIT_EXPORT void knit_signal_destroy(knit_signal *sig);

/* Wakes every thread parked on @sig. Cheap when nobody is parked. */
KNIT_EXPORT void knit_signal_wake(knit_signal *sig);

/* Parks until @ready(@arg) holds, knit_signal_wake() is called, or
 * @timeout_ns passes (0 = no timeout). Rechecks @ready after registering as
 * a waiter, so a wake between the caller's check and the park is never lost.
 * Returns 1 if @ready held, 0 on wake or timeout (spurious returns allowed). */
KNIT_EXPORT int knit_signal_park(knit_signal *sig, knit_ready_fn ready, void *arg,
                                 uint64_t timeout_ns);

/* Spins up to @spin_ns polling @ready. Returns 1 as soon as it holds, else 0. */
KNIT_EXPORT int knit_spin(knit_ready_fn ready, void *arg, uint64_t spin_ns);

typedef struct knit_wait_opts {
  uint64_t spin_ns;        /* busy-poll window before parking */
  uint64_t park_ns;        /* longest single park, 0 = until woken */
  void (*idle)(void *arg); /* run once between spinning and parking, may be NULL */
  void *idle_arg;
} knit_wait_opts;

/* Spin, then idle hook, then park: the whole wait of a worker thread.
 * Returns 1 if @ready held, 0 if the park ended without it. */
KNIT_EXPORT int knit_wait(knit_signal *sig, knit_ready_fn ready, void *arg,
                          const knit_wait_opts *opts);

/* ---- mailboxes ------------------------------------------------------------ */

typedef struct knit_mailbox knit_mailbox;

/* Slot status, carried in the header next to the payload. */
enum knit_status {
  KNIT_OK = 0,      /* payload is the value */
  KNIT_THROWN = 1,  /* payload is the thrown value */
  KNIT_CORRUPT = 2, /* set by the reader: the header failed its bounds check */
};

/* One message as the consumer sees it. @data stays valid until the slot is
 * acknowledged with knit_mailbox_ack(). */
typedef struct knit_msg {
  uint32_t slot;
  uint32_t task;
  uint32_t call;
  uint32_t status;
  uint32_t aux; /* a word for the application: knitting's abort-flag index */
  uint64_t enqueued_ns;
  const uint8_t *data;
  size_t len;
} knit_msg;

/* Creates a mailbox whose arena follows @limits (NULL = defaults); @peer is
 * the signal woken when a batch is published (the consumer parks on it).
 * The mailbox does not own @peer. Returns 0, -EINVAL or -ENOMEM. */
KNIT_EXPORT int knit_mailbox_create(const knit_limits *limits, knit_signal *peer,
                                    knit_mailbox **out);
KNIT_EXPORT void knit_mailbox_destroy(knit_mailbox *mb);

/* Producer: claims a free slot with room for @len payload bytes, inline or
 * in the arena, and returns a pointer to write them to in *@buf. The slot
 * stays private until published. Returns the slot index, or
 *   -EAGAIN   every slot is in use, or the arena is full for now: retry after
 *             the consumer acknowledges;
 *   -EMSGSIZE @len exceeds payload_max or arena_max: it can never fit. */
KNIT_EXPORT int knit_mailbox_reserve(knit_mailbox *mb, size_t len, uint8_t **buf);

/* Producer: fills the header of a reserved slot and stages it for the next
 * publish. @len may be smaller than the reserved length. */
KNIT_EXPORT void knit_mailbox_stage(knit_mailbox *mb, unsigned slot, uint32_t task,
                                    uint32_t call, uint32_t status, size_t len,
                                    uint64_t enqueued_ns);

/* Producer: sets the application word of a reserved slot (0 unless set). */
KNIT_EXPORT void knit_mailbox_set_aux(knit_mailbox *mb, unsigned slot, uint32_t aux);

/* Producer: releases a reserved slot without sending it. */
KNIT_EXPORT void knit_mailbox_unreserve(knit_mailbox *mb, unsigned slot);

/* Producer: makes every staged slot visible with one store, then wakes the
 * consumer once. Returns the number of slots published. */
KNIT_EXPORT unsigned knit_mailbox_publish(knit_mailbox *mb);

/* Producer: convenience for reserve + copy + stage. Returns the slot or the
 * errors of knit_mailbox_reserve(). */
KNIT_EXPORT int knit_mailbox_put(knit_mailbox *mb, uint32_t task, uint32_t call,
                                 uint32_t status, const void *data, size_t len,
                                 uint64_t enqueued_ns);

/* Producer: number of slots published and not yet acknowledged, plus staged. */
KNIT_EXPORT unsigned knit_mailbox_in_use(const knit_mailbox *mb);

/* Consumer: true when at least one published slot awaits taking. Usable as a
 * knit_ready_fn with the mailbox as argument. */
KNIT_EXPORT bool knit_mailbox_pending(void *mb);

/* Consumer: takes every pending slot, up to 32, in one pass. Fills @out and
 * returns how many. Each header is bounds-checked: a corrupt one is returned
 * with status KNIT_CORRUPT and no data, so its call can be failed. */
KNIT_EXPORT unsigned knit_mailbox_take(knit_mailbox *mb, knit_msg out[KNIT_SLOTS]);

/* Consumer: acknowledges every slot returned by the last take with one store.
 * Their payload memory is then the producer's again. */
KNIT_EXPORT void knit_mailbox_ack(knit_mailbox *mb);

/* Arena statistics, for tests and debugging. */
typedef struct knit_arena_stats {
  size_t committed;  /* bytes usable now */
  size_t reserved;   /* arena_max */
  size_t used;       /* bytes held by unacknowledged payloads */
  unsigned regions;  /* payloads held */
} knit_arena_stats;
KNIT_EXPORT void knit_mailbox_arena_stats(const knit_mailbox *mb, knit_arena_stats *out);

/* ---- lanes ---------------------------------------------------------------- */

/* A lane: requests host -> worker, responses worker -> host. The worker parks
 * on the lane's own signal; the host parks on @host_signal, which several
 * lanes may share (one doorbell per pool). */
typedef struct knit_lane {
  knit_mailbox *requests;
  knit_mailbox *responses;
  knit_signal *worker_signal; /* owned by the lane */
  knit_signal *host_signal;   /* not owned */
} knit_lane;

/* Creates a lane. Returns 0, -EINVAL or -ENOMEM; the caller owns *@out. */
KNIT_EXPORT int knit_lane_create(const knit_limits *limits, knit_signal *host_signal,
                                 knit_lane **out);
KNIT_EXPORT void knit_lane_destroy(knit_lane *lane);

/* ---- watcher: a thread that turns a park into a callback -----------------
 * Lets an event loop learn of new messages without polling: the watcher
 * parks on @sig while armed and calls @notify (on its own thread) when
 * @ready holds. It then disarms itself until knit_watcher_arm() again. */

typedef struct knit_watcher knit_watcher;

/* Starts the watcher thread, disarmed. @notify must be thread-safe. */
KNIT_EXPORT int knit_watcher_start(knit_signal *sig, knit_ready_fn ready, void *ready_arg,
                                   void (*notify)(void *arg), void *notify_arg,
                                   knit_watcher **out);
/* Arms it: the next time @ready holds, @notify is called once. */
KNIT_EXPORT void knit_watcher_arm(knit_watcher *w);
/* Disarms it; a notify already under way may still arrive. */
KNIT_EXPORT void knit_watcher_disarm(knit_watcher *w);
/* Stops and joins the thread. Accepts NULL. */
KNIT_EXPORT void knit_watcher_stop(knit_watcher *w);

#ifdef __cplusplus
}
#endif

#include "knit/codec.h"

#endif

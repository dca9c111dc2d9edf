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
#define KNIT_CANCEL_WORDS 4096u /* per lane: see knit_lane_cancel */
#define KNIT_INLINE_BYTES 448u /* payload bytes stored in the slot itself */
#define KNIT_CACHELINE 64u     /* structs two threads touch are aligned to it */

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

/* ---- crowding (crowd.c) ----------------------------------------------------
 * A consumer thread (JS worker, native task thread) is awake while it spins
 * or runs tasks, asleep while parked. While the awake consumers of the
 * process and one host thread outnumber the cores, spinners yield between
 * spin rounds and hosts publish calls in whole batches. A lane holds its
 * consumer's state, so each transition counts once. */
typedef struct knit_awake {
  int32_t state; /* asleep, awake, or gone (left: further changes ignored) */
} knit_awake;

KNIT_EXPORT void knit_awake_set(knit_awake *a, bool awake);
/* The consumer left (or died): it no longer counts, whatever it does next.
 * Final: a lane whose consumer left is not counted again. */
KNIT_EXPORT void knit_awake_leave(knit_awake *a);
KNIT_EXPORT unsigned knit_awake_count(void);
KNIT_EXPORT bool knit_crowded(void);

typedef struct knit_wait_opts {
  uint64_t spin_ns;        /* busy-poll window before parking */
  uint64_t park_ns;        /* longest single park, 0 = until woken */
  void (*idle)(void *arg); /* run once between spinning and parking, may be NULL */
  void *idle_arg;
  uint64_t idle_after_ns;  /* ... once the wait has lasted this long, parked until then */
  bool yield_cpu;          /* give the core away between spin rounds while knit_crowded() */
  knit_awake *awake;       /* the waiting consumer's state, asleep while parked (may be NULL) */
} knit_wait_opts;

/* Spin, then idle hook, then park: the whole wait of a worker thread. With
 * idle_after_ns past the spin window, the thread parks until then before
 * the idle hook: a pause that short (the host's own GC) is not idleness.
 * Returns 1 if @ready held, 0 if the last park ended without it. */
KNIT_EXPORT int knit_wait(knit_signal *sig, knit_ready_fn ready, void *arg,
                          const knit_wait_opts *opts);

/* ---- mailboxes ------------------------------------------------------------ */

typedef struct knit_mailbox knit_mailbox;

/* Slot status, carried in the header next to the payload. */
enum knit_status {
  KNIT_OK = 0,      /* payload is the value */
  KNIT_THROWN = 1,  /* payload is the thrown value */
  KNIT_CORRUPT = 2, /* set by the reader: the header failed its bounds check */
  KNIT_CANCELLED = 3, /* set by the reader: the host gave the call up (knit_lane_cancel) */
};

/* One message as the consumer sees it. @data stays valid until the slot is
 * acknowledged with knit_mailbox_ack(). */
typedef struct knit_msg {
  uint32_t slot;
  uint32_t task;
  uint32_t call;
  uint32_t status;
  uint32_t aux; /* a word for the application: knitting's call token (knit_lane_cancel) */
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

/* Consumer thread only: true when at least one published slot awaits
 * taking. Usable as a knit_ready_fn with the mailbox as argument. */
KNIT_EXPORT bool knit_mailbox_pending(void *mb);

/* Any thread: true when at least one published slot is not yet
 * acknowledged (taken-but-unacked slots count). Reads only shared words, so
 * a watcher thread may poll it while the consumer works. */
KNIT_EXPORT bool knit_mailbox_unacked(void *mb);

/* Consumer: takes every pending slot, up to 32, in one pass, highest index
 * first (reserve hands out the highest free slot first, so a burst comes out
 * in send order). Fills @out and returns how many. Each header is
 * bounds-checked: a corrupt one is returned with status KNIT_CORRUPT and no
 * data, so its call can be failed. */
KNIT_EXPORT unsigned knit_mailbox_take(knit_mailbox *mb, knit_msg out[KNIT_SLOTS]);

/* Consumer: acknowledges every slot returned by the last take with one store.
 * Their payload memory is then the producer's again. */
KNIT_EXPORT void knit_mailbox_ack(knit_mailbox *mb);

/* Producer, once the consumer has exited for good: the messages it never
 * took (published and not taken, or staged), which it never saw and so
 * never ran, highest slot first. Corrupt headers are left out. Their data
 * stays valid until the producer reserves again or destroys the mailbox. */
KNIT_EXPORT unsigned knit_mailbox_untaken(const knit_mailbox *mb, knit_msg out[KNIT_SLOTS]);

/* Room. An ack wakes nobody: a consumer that acks eagerly and then runs its
 * calls for long (async tasks) would leave a producer with more to send
 * asleep until answers come. Producer, before it sleeps:
 * knit_mailbox_want_room(mb, its signal), then one more try to send (it
 * sees every ack made before the consumer could see the request); NULL
 * withdraws. Consumer, as it goes idle: knit_mailbox_ring_room(), which, if
 * asked, marks the mailbox rung and wakes the signal. knit_mailbox_rung()
 * (any thread) is the sleeper's ready test; the next want_room clears it. */
KNIT_EXPORT void knit_mailbox_want_room(knit_mailbox *mb, knit_signal *ring);
KNIT_EXPORT void knit_mailbox_ring_room(knit_mailbox *mb);
KNIT_EXPORT bool knit_mailbox_rung(void *mb);

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
 * lanes may share (one doorbell per pool). A cache line of its own: both
 * threads read it on every call. */
typedef struct __attribute__((aligned(KNIT_CACHELINE))) knit_lane {
  knit_mailbox *requests;
  knit_mailbox *responses;
  knit_signal *worker_signal; /* owned by the lane */
  knit_signal *host_signal;   /* not owned */
  knit_awake consumer;        /* of the thread serving the requests */
  /* Calls the host gave up on, by call token (see knit_lane_cancel): lines
   * of their own, written only when a call is cancelled. */
  uint32_t cancelled[KNIT_CANCEL_WORDS] __attribute__((aligned(KNIT_CACHELINE)));
} knit_lane;

/* Creates a lane. Returns 0, -EINVAL or -ENOMEM; the caller owns *@out. */
KNIT_EXPORT int knit_lane_create(const knit_limits *limits, knit_signal *host_signal,
                                 knit_lane **out);
KNIT_EXPORT void knit_lane_destroy(knit_lane *lane);

/* Cooperative cancellation. A host that numbers a lane's calls with tokens
 * (a request's aux word: 1, 2, 3, ..., wrapping past 0, one per call
 * staged) can tell the consumer it gave up on one: a timeout, an abort, a
 * shutdown. Nothing is interrupted; the consumer asks. A token's word is
 * token % KNIT_CANCEL_WORDS: while fewer calls than that are live on the
 * lane (a C thread holds at most KNIT_SLOTS; a JS worker more, with async
 * tasks) no two share a word. Past that a cancellation may be missed (the
 * call runs to its end), never reported for another call. */
KNIT_EXPORT void knit_lane_cancel(knit_lane *lane, uint32_t token);
/* Whether the host cancelled the call with @token (0: never). */
KNIT_EXPORT bool knit_lane_cancelled(const knit_lane *lane, uint32_t token);
/* The consumer, as it starts the call with @token: clears what an earlier
 * call left in its word and says whether this one is already cancelled. */
KNIT_EXPORT bool knit_lane_begin_call(knit_lane *lane, uint32_t token);

/* Consumer: knit_mailbox_take of the lane's requests, in token order
 * (wrapping; untokened calls keep the take's order). Slot order follows
 * send order only while slots are not reused out of order: a slot acked
 * mid-burst is handed out again before lower ones. */
KNIT_EXPORT unsigned knit_lane_take(knit_lane *lane, knit_msg out[KNIT_SLOTS]);

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

#ifdef __cplusplus
extern "C" {
#endif

/* ==== native tasks ==========================================================
 * A native task is a C function that runs on a plain C thread of the pool
 * (docs/native-tasks.md). The thread takes requests from a lane's request
 * mailbox, decodes each argument per the task's declared TypeScript type,
 * calls the function (through a prepared libffi cif, or through a direct
 * dispatch function that `knitgen --c-stubs` generates), encodes the result
 * and answers through the response mailbox: the same mailboxes and the same
 * spin-then-park wait as a JS worker.
 *
 * Type mapping (fixed; knit_type_ctype() in knit/types.h implements it):
 *   number -> double      boolean -> bool        bigint -> int64_t
 *   string -> knit_str    Uint8Array, ArrayBuffer -> knit_bytes
 *   Float64Array -> knit_f64s                    Int32Array -> knit_i32s
 *   a plain object type -> a struct of its members, in declaration order
 *   a tuple argument [A, B] -> one parameter per element
 *   void / undefined -> no parameter, or a void result
 *
 * Argument lifetime: the data of a knit_str, knit_bytes, knit_f64s or
 * knit_i32s argument points into the request slot (binary payloads are
 * 8-aligned there) or into per-call scratch memory. It is valid only during
 * the call: copy what you want to keep. Never write through it.
 *
 * Results: number, boolean and bigint are returned directly. A string or
 * binary result is returned by value as a knit_str / knit_bytes / knit_f64s /
 * knit_i32s whose data may point to
 *   - memory from knit_result_alloc() (or knit_result_str/_bytes), which the
 *     runtime owns and frees after it has copied the result: never free it;
 *   - memory the task owns and keeps valid until the call returns (static
 *     data, or the task's own arguments): the runtime only copies it.
 * The runtime never frees memory it did not allocate, so memory from malloc()
 * returned as a result leaks: use knit_result_alloc() instead.
 */

typedef struct knit_str {
  const char *data; /* UTF-8, not NUL-terminated */
  size_t len;       /* bytes */
} knit_str;

typedef struct knit_bytes {
  const uint8_t *data;
  size_t len; /* bytes */
} knit_bytes;

typedef struct knit_f64s {
  const double *data;
  size_t len; /* elements */
} knit_f64s;

typedef struct knit_i32s {
  const int32_t *data;
  size_t len; /* elements */
} knit_i32s;

/* Allocates @size bytes (8-aligned) for the result of the native task that
 * is running on this thread. The runtime frees it after the call's result is
 * encoded; it is invalid afterwards. Returns NULL when called outside a
 * native task or out of memory (the task should then return an empty value
 * or call knit_native_throw()). */
KNIT_EXPORT void *knit_result_alloc(size_t size);

/* Copies @len bytes of @data into result memory (see knit_result_alloc).
 * On failure the returned value has data NULL and len 0. */
KNIT_EXPORT knit_str knit_result_str(const char *data, size_t len);
KNIT_EXPORT knit_bytes knit_result_bytes(const void *data, size_t len);

/* Makes the running native task's call reject with an Error whose message is
 * a copy of @message (truncated to 1 KiB); the function's return value is
 * then ignored. The function must still return normally. Returns 0, or
 * -EPERM when no native task runs on this thread. */
KNIT_EXPORT int knit_native_throw(const char *message);

/* Whether the call of the native task running on this thread was given up
 * on: its timeout passed, its AbortSignal fired, or its pool is shutting
 * down. A long task should poll it and return early; its result is then
 * dropped. False outside a native task. */
KNIT_EXPORT bool knit_native_aborted(void);

/* A generated direct-call dispatcher: calls the task's function with the
 * arguments at @args[i] (one pointer per C parameter, pointing to a value of
 * that parameter's C type) and stores its result at @result (a value of the
 * result's C type; nothing for void). Same convention as ffi_call(). */
typedef void (*knit_dispatch_fn)(void *result, void **args);

/* What `knitgen --c-stubs` emits per task as `<symbol>__knit`: the declared
 * signature and the dispatcher. When a library exports it, the runtime calls
 * through @dispatch, not libffi, and checks the declared types against it. */
#define KNIT_NATIVE_ABI 1u
typedef struct knit_native_entry {
  uint32_t abi;        /* KNIT_NATIVE_ABI */
  const char *arg;     /* TypeScript type text of the argument */
  const char *result;  /* TypeScript type text of the result */
  knit_dispatch_fn dispatch;
} knit_native_entry;

/* Suffix of the dispatch entry's symbol name. */
#define KNIT_NATIVE_ENTRY_SUFFIX "__knit"

/* Most C parameters of one native task. */
#define KNIT_NATIVE_MAX_PARAMS 16

/* A table of native tasks, indexed by task id (the pool's task index).
 * Reference-counted: every worker started on it holds a reference, so the
 * creator may drop its own at any time. It also owns the dlopen() handles of
 * the libraries it loaded. */
typedef struct knit_native_tasks knit_native_tasks;

/* Creates an empty table with one reference. Returns 0 or -ENOMEM. */
KNIT_EXPORT int knit_native_tasks_create(knit_native_tasks **out);
/* Adds a reference. */
KNIT_EXPORT void knit_native_tasks_ref(knit_native_tasks *t);
/* Drops a reference; the last one frees the table and dlclose()s its
 * libraries. Accepts NULL. */
KNIT_EXPORT void knit_native_tasks_unref(knit_native_tasks *t);

/* Adds task @id: function @fn with the signature given as TypeScript type
 * texts @arg and @result (NUL-terminated). If @dispatch is not NULL it is
 * called instead of @fn through libffi; @fn may then be NULL. Otherwise one
 * ffi_cif is prepared now, once, for every later call.
 * Returns 0, or
 *   -EINVAL   a type does not parse, or has no C mapping (a union, a nested
 *             tuple, a tuple result, ...), @fn and @dispatch are both NULL,
 *             or libffi refused the signature;
 *   -E2BIG    more than KNIT_NATIVE_MAX_PARAMS parameters;
 *   -EEXIST   @id is taken;
 *   -ENOMEM.
 * On error @why (if @why_size > 0) receives a one-line reason. Must not be
 * called while a worker runs on the table. */
KNIT_EXPORT int knit_native_tasks_add(knit_native_tasks *t, uint32_t id, void *fn,
                                      knit_dispatch_fn dispatch, const char *arg,
                                      const char *result, char *why, size_t why_size);

/* Adds task @id from shared library @library (a path for dlopen(), which the
 * table keeps open): if the library exports `<symbol>__knit` (a
 * knit_native_entry) its dispatcher is used and its types are the task's;
 * @arg and @result may then be NULL, and if given must mean the same types.
 * Otherwise @symbol is called through libffi and @arg and @result are
 * required. Returns the errors of knit_native_tasks_add() and
 *   -ENOENT   the library cannot be loaded, or lacks @symbol;
 *   -EINVAL   no signature given and no `<symbol>__knit`, the entry has an
 *             unknown ABI, or the declared types differ from the entry's.
 * @why says which, naming the library and symbol. */
KNIT_EXPORT int knit_native_tasks_add_symbol(knit_native_tasks *t, uint32_t id,
                                             const char *library, const char *symbol,
                                             const char *arg, const char *result,
                                             char *why, size_t why_size);

/* Runs task @id once on the calling thread: decodes the codec payload
 * @req[0..@len), calls the function and appends the encoded result (or the
 * thrown Error) to @w, which the caller initialised. Returns KNIT_OK or
 * KNIT_THROWN (the payload in @w says what), or -ENOENT (no task @id),
 * or a writer error (-ENOMEM, -EMSGSIZE) with @w holding nothing useful.
 * Workers use this; it is public for tests and for C hosts. */
KNIT_EXPORT int knit_native_invoke(const knit_native_tasks *t, uint32_t id, const uint8_t *req,
                                   size_t len, knit_writer *w);

typedef struct knit_native_opts {
  uint64_t spin_ns; /* busy-poll window before parking (default 50 us if 0) */
  uint64_t park_ns; /* longest single park, 0 = until woken */
  size_t payload_max; /* largest result payload (0 = the knit_limits default) */
  /* An extra stop word, read with seq-cst loads (may be NULL): the worker
   * leaves its loop once it is non-zero. Its owner wakes lane->worker_signal
   * after setting it. */
  const uint32_t *stop;
  /* Called on the worker thread as its very last use of the lane and the
   * table (may be NULL): lets the owner release the lane. */
  void (*on_exit)(void *arg);
  void *exit_arg;
  bool yield_cpu; /* yield the core while spinning and crowded (see knit_wait_opts) */
} knit_native_opts;

typedef struct knit_native_worker knit_native_worker;

/* Starts a native worker thread consuming @lane's requests and producing its
 * responses; it takes a reference on @tasks. Requests for a task id the
 * table lacks are answered with a thrown Error. With @out NULL the thread is
 * detached: it ends by itself once opts->stop is set (required then) and
 * frees its own state. Otherwise stop it with knit_native_worker_stop().
 * Returns 0, -EINVAL, -ENOMEM or the pthread_create error (negated). */
KNIT_EXPORT int knit_native_worker_start(knit_lane *lane, knit_native_tasks *tasks,
                                         const knit_native_opts *opts,
                                         knit_native_worker **out);

/* Stops a worker started with @out: it finishes the batch under way, leaves
 * its loop, and the thread is joined (so this waits for a running task).
 * Accepts NULL. */
KNIT_EXPORT void knit_native_worker_stop(knit_native_worker *w);

#ifdef __cplusplus
}
#endif


#endif

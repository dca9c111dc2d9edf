/* knit.pml: the slot ownership words of one mailbox (runtime/src/mailbox.c)
 * and the spin-then-park wake protocol (runtime/src/signal.c), as
 * implemented. Spin explores every interleaving under sequential
 * consistency, which is what the code relies on: every operation modelled
 * here is seq-cst in the C code, or is a store followed by a seq-cst fence
 * and a load (wake and park each fence between the two), or is an
 * acquire/release pair whose synchronisation the interleaving already
 * implies (see docs/protocol.md).
 *
 * Configurations (tests/model/check.sh runs them all):
 *   default   one mailbox, one producer, one consumer parking on the peer
 *             signal: the mailbox's own use (a lane's worker signal).
 *   -DTWO     two mailboxes whose consumers park on one shared signal, each
 *             for its own mailbox: a shared doorbell with two waiters.
 *   -DOLD_PARK the first signal.c, which cleared wake_pending after the wait
 *             instead of before the recheck. The check expects spin to find
 *             its lost wakeup, proving the model can see one: a waker that
 *             read the old park's waiter count sets wake_pending after that
 *             park ended, and the stale flag swallows the next real wake.
 *
 * Properties:
 *   - assertions: a slot is never written by the producer while the consumer
 *     owns it or reads it (no slot owned by both sides), every message
 *     arrives exactly once and intact;
 *   - no invalid end state (pan's deadlock check): a consumer parked in
 *     FUTEX_WAIT while its message is published, with nobody left to wake
 *     it, is a deadlock: the lost wakeup; a producer or consumer stuck
 *     between spin and park is one too;
 *   - LTL no_lost_wakeup: whenever a consumer is parked with a published,
 *     untaken slot, it eventually unparks.
 */

#ifdef TWO
#define NMB 2             /* mailboxes, each with its producer and consumer */
#define SLOTS 1           /* slots modelled per mailbox (the code has 32) */
#define ALL 1             /* (1 << SLOTS) - 1 */
#ifndef NMSG
#define NMSG 2            /* messages per producer */
#endif
#else
#define NMB 1
#define SLOTS 2
#define ALL 3
#ifndef NMSG
#define NMSG 3
#endif
#endif

/* ---- shared memory -------------------------------------------------------- */
byte pbits[NMB];          /* producer_bits: written by the producer only */
byte cbits[NMB];          /* consumer_bits: written by the consumer only */
byte data[NMB * SLOTS];   /* slot payloads: message number + 1, 0 = none */

/* the one knit_signal every consumer parks on */
byte seq;                 /* the futex word */
byte waiters;             /* threads between register and deregister */
bit wake_pending;         /* a wake not yet consumed */

/* the kernel's futex queue */
bool infutex[NMB];        /* consumer i is queued in FUTEX_WAIT */

/* ghosts, for the properties */
bool pwriting[NMB * SLOTS];
bool creading[NMB * SLOTS];
byte clocal[NMB];         /* consumer-private cons_local, made global for LTL */
byte ctaken[NMB];         /* consumer-private taken */
byte received[NMB];

#define pending(i) ((((pbits[i] ^ clocal[i]) & ~ctaken[i]) & ALL) != 0)

/* knit_signal_wake */
inline signal_wake() {
  if
  :: waiters == 0 -> skip                         /* nobody parked: no syscall */
  :: else ->
    atomic { old = wake_pending; wake_pending = 1 }  /* exchange */
    if
    :: old == 1 -> skip                           /* coalesced */
    :: else ->
      seq++;                                      /* fetch_add */
      atomic {                                    /* FUTEX_WAKE, INT_MAX */
        w = 0;
        do
        :: w < NMB -> infutex[w] = false; w++
        :: else -> break
        od
      }
    fi
  fi
}

/* knit_signal_park(sig, knit_mailbox_pending, mb i, timeout 0) */
inline signal_park(i) {
  s = seq;                                        /* load seq */
  waiters++;                                      /* fetch_add waiters */
#ifndef OLD_PARK
  wake_pending = 0;                               /* re-enable wakes before the recheck */
#endif
  if
  :: pending(i) -> skip                           /* ready(): recheck */
  :: else ->
    atomic {                                      /* FUTEX_WAIT(seq, s): compare and queue */
      if
      :: seq == s -> infutex[i] = true
      :: else -> skip                             /* EAGAIN */
      fi
    }
    !infutex[i];                                  /* sleep until FUTEX_WAKE */
  fi;
  waiters--;                                      /* fetch_sub waiters */
#ifdef OLD_PARK
  wake_pending = 0;                               /* the first version cleared it here */
#endif
}

proctype Producer(byte i) {
  byte prod_local = 0, in_flight = 0, staged = 0, sent = 0, busy, k, old, w;
  do
  :: sent == NMSG -> break
  :: else ->
    /* reclaim(): acquire load of consumer_bits */
    atomic { busy = prod_local ^ cbits[i]; in_flight = in_flight & busy };
    if
    :: (in_flight == ALL) ->
      /* every slot busy: reserve returns -EAGAIN; the producer retries
       * later (an ack wakes nobody). Block until the consumer acks. */
      ((prod_local ^ cbits[i]) & in_flight) != in_flight
    :: else ->
      /* reserve: highest free bit first, then write the payload; stage.
       * Nondeterministically stage one or several before publishing. */
      do
      :: (in_flight | staged) != ALL && sent < NMSG ->
        atomic {
          k = SLOTS - 1;
          do
          :: ((in_flight | staged) >> k) & 1 -> k--
          :: else -> break
          od
        };
        pwriting[i * SLOTS + k] = true;
        assert((((prod_local ^ cbits[i]) >> k) & 1) == 0);  /* the producer's */
        assert(!creading[i * SLOTS + k]);
        data[i * SLOTS + k] = sent + 1;
        pwriting[i * SLOTS + k] = false;
        staged = staged | (1 << k);
        sent++
      :: staged != 0 -> break
      od;
      /* knit_mailbox_publish: one release store, then wake once (which fences first) */
      atomic { in_flight = in_flight | staged; prod_local = prod_local ^ staged; staged = 0 };
      pbits[i] = prod_local;
      signal_wake()
    fi
  od
}

proctype Consumer(byte i) {
  byte ready, k, s, got = 0;
  do
  :: received[i] == NMSG -> break
  :: else ->
    /* knit_wait: knit_spin polls pending a bounded time; the window may
     * end before or after a publish (nondeterminism covers both), then
     * the idle hook (a no-op here) and its recheck, then park. */
    if
    :: pending(i) -> skip
    :: true -> signal_park(i)
    fi;
    /* knit_mailbox_take */
    atomic { ready = ((pbits[i] ^ clocal[i]) & ~ctaken[i]) & ALL; ctaken[i] = ctaken[i] | ready };
    k = 0;
    do
    :: k == SLOTS -> break
    :: k < SLOTS && ((ready >> k) & 1) ->
      creading[i * SLOTS + k] = true;
      atomic {
        assert(!pwriting[i * SLOTS + k]);
        assert(data[i * SLOTS + k] != 0);
        assert(((got >> (data[i * SLOTS + k] - 1)) & 1) == 0);  /* exactly once */
        got = got | (1 << (data[i * SLOTS + k] - 1));
        data[i * SLOTS + k] = 0;
        received[i]++
      };
      creading[i * SLOTS + k] = false;
      k++
    :: k < SLOTS && !((ready >> k) & 1) -> k++
    od;
    /* knit_mailbox_ack: one release store */
    if
    :: ctaken[i] != 0 ->
      atomic { clocal[i] = clocal[i] ^ ctaken[i]; ctaken[i] = 0 };
      cbits[i] = clocal[i]
    :: else -> skip
    fi
  od;
  assert(got == (1 << NMSG) - 1)
}

init {
  atomic {
    byte n = 0;
    do
    :: n < NMB -> run Producer(n); run Consumer(n); n++
    :: else -> break
    od
  }
}

ltl no_lost_wakeup0 { [] ((infutex[0] && pending(0)) -> <> !infutex[0]) }
#ifdef TWO
ltl no_lost_wakeup1 { [] ((infutex[1] && pending(1)) -> <> !infutex[1]) }
#endif

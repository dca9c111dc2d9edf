// The hot route's work, run on the pool's worker threads.
import { threadId } from "node:worker_threads";

export interface PrimeReport {
  limit: number;
  count: number;
  thread: number;
}

/** Counts the primes below `limit` (a sieve): CPU-bound, so off the event loop. */
export function countPrimes(limit: number): PrimeReport {
  const sieve = new Uint8Array(limit);
  let count = 0;
  for (let i = 2; i < limit; i++) {
    if (sieve[i]) continue;
    count++;
    for (let j = i * i; j < limit; j += i) sieve[j] = 1;
  }
  return { limit, count, thread: threadId };
}

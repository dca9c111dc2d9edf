// A CPU-bound scan split into chunks: counts primes below a limit on 1 and
// on 2 worker threads, and prints the speed-up.
import { createPool, isMain, task } from "knitting";

export const countPrimes = task({
  f: ([from, to]) => {
    let count = 0;
    for (let n = Math.max(from, 2); n < to; n++) {
      let prime = true;
      for (let d = 2; d * d <= n; d++) {
        if (n % d === 0) {
          prime = false;
          break;
        }
      }
      if (prime) count++;
    }
    return count;
  },
});

async function scan(threads, limit, chunks) {
  const pool = createPool({ threads })({ countPrimes });
  await pool.call.countPrimes([0, 1000]); // start-up is not part of the scan
  const step = Math.ceil(limit / chunks);
  const t0 = performance.now();
  const counts = await Promise.all(Array.from({ length: chunks }, (_, i) => pool.call.countPrimes([i * step, Math.min(limit, (i + 1) * step)])));
  const ms = performance.now() - t0;
  await pool.shutdown();
  return { total: counts.reduce((a, b) => a + b, 0), ms };
}

if (isMain) {
  const limit = Number(process.argv[2] ?? 3_000_000);
  const one = await scan(1, limit, 32);
  const two = await scan(2, limit, 32);
  if (one.total !== two.total) throw new Error(`disagreement: ${one.total} vs ${two.total}`);
  console.log(`primes below ${limit}: ${one.total}`);
  console.log(`1 thread:  ${one.ms.toFixed(0)} ms`);
  console.log(`2 threads: ${two.ms.toFixed(0)} ms (speed-up ${(one.ms / two.ms).toFixed(2)}x on this machine)`);
}

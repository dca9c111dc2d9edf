// The task bodies every system under test runs. Keep them identical across
// knitting, raw postMessage, WebSocket, HTTP and the pools.
export const echo = (s) => s + " world";
export const echoObj = (o) => ({ msg: o.msg + " world", id: o.id });
export const same = (x) => x;
// Size-preserving echo for the payload sweep (returns what it got).
export const size = (x) => x;

function isPrime(n) {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}
// Count primes in [lo, hi): the CPU-bound scaling case.
export const primes = (range) => {
  const lo = range[0], hi = range[1];
  let c = 0;
  for (let n = lo; n < hi; n++) if (isPrime(n)) c++;
  return c;
};

export const fns = { echo, echoObj, same, primes };

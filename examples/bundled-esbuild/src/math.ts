// Task module 1: numbers, and where a call ran.
import { task } from "knitting";
import { threadId } from "node:worker_threads";

export const fib = task<number, number>({
  f: (n) => {
    let [a, b] = [0, 1];
    for (let i = 0; i < n; i++) [a, b] = [b, a + b];
    return a;
  },
});

/** The thread a call runs on: 0 is the main thread. */
export const whereAmI = (): number => threadId;

// A generator object cannot be sent back from a worker.
export function* g1(x: number) { yield x }
export const g2 = function* (x: number) { yield x };
export async function* g3(x: number) { yield x }
export const g4 = task({ *f(x: number) { yield x } });
declare function task<T>(spec: T): T;

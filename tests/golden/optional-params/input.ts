// An optional or defaulted first parameter: the call may leave the argument
// out, so its type admits undefined and it travels with the generic codec.
export const opt = (x?: number): string => String(x);
export const dflt = (x: number = 5): number => x;
export function already(x?: number | undefined): number { return x ?? 0 }
export function untyped(x = 3): number { return x }
const DEF = { a: 1 };
export function typed(v: typeof DEF = DEF): number { return v.a }
export function viaTask(x?: string): string { return x ?? "" }
export const t = task({ f: viaTask });
// The second parameter receives the task's signal object, never its default.
export function f3(a: number, b = 1): number { return a + b }
export function f4(a: number, b?: number): number { return a }
declare function task<T>(spec: T): T;

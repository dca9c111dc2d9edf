// A parenthesised initializer is what it holds.
export const s2 = ((x: number): number => x);
export const s1 = ((x: number): number => x) satisfies (x: number) => number;
export const s4 = ((x: number): number => x) as (x: number) => number;
export const s5 = (task({ f: (x: number): number => x }));
export const s6 = (((x: string): string => x))
export const s7 = (async function (x: number): Promise<number> { return x });
// not callables: a call of a parenthesised function, a sequence
export const notCall = ((x: number) => x)(1);
export const notSeq = (0, (x: number) => x);
declare function task<T>(spec: T): T;

import { task } from "knitting";

// task<A, R>({ ... }) with the types in the generics
export const add = task<[number, number], number>({
  f: ([a, b]) => a + b,
});

// types on the function, Promise unwrapped, options recorded
export const greet = task({
  f: async (name: string): Promise<string> => `hello ${name}`,
  timeout: 1_000,
  abortSignal: true,
});

// method shorthand, function expressions, destructured parameters
export const stamp = task({ async f(d: Date): Promise<number> { return +d } });
export const neg = task({ f: function (x: bigint): bigint { return -x } });
export const area = task({
  f: ({ w, h }: { w: number; h: number }): number => w * h,
  timeout: 50,
});

// untyped: unknown
export const echo = task({ f: (x) => x });

// f declared elsewhere
export const bytes = task({ f: checksum, abortSignal: false });
function checksum(b: Uint8Array): Float64Array { return new Float64Array(b.length) }

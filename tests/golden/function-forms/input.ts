export function square(x: number): number {
  return x * x;
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

export const half = (x: number): number => x / 2;
export const upper = async (s: string): Promise<string> => s.toUpperCase();
export const ident = <T,>(x: T): T => x;
export function first<T extends unknown[]>(xs: T): T[0] { return xs[0] }

// no parameters: void; no return type: unknown
export function now() { return Date.now() }

// overloads: one task, typed by the first signature
export function parse(s: string): number;
export function parse(s: string, radix: number): number;
export function parse(s: string, radix = 10): number { return parseInt(s, radix) }

export const shape = function (o: { r: number }): { area: number } {
  return { area: Math.PI * o.r * o.r };
};

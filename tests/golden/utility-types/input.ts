// Utility types whose arguments do not travel are carried unchecked (generic
// codec); Awaited<X> unwraps a Promise as a result does. Type text normalises
// with one space after `,`, `;` and `:`, and `{}` stays tight.
function area(s: { w: number; h: number }): number { return s.w * s.h }
export const r = (x: ReturnType<typeof area>): ReturnType<() => string> => String(x);
export const p = (a: Parameters<typeof area>): number => a[0].w;
export const w = (x: Awaited<Promise<number>>): Awaited<Promise<string>> => String(x);
export const tight = (o: {a:number;b:string}): {a:number; b:string} => o;
export const empty = (o: { }): Record<string, {}> => ({ o });

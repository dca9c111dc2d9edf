import { task } from "knitting";

class Point { constructor(public x: number) {} }
type Handler = { id: number; run: (x: number) => void };
interface Plain { id: number; tags: string[] }

export const cb = task<(x: number) => void, number>({ f: () => 1 });
export function sym(x: number): symbol { return Symbol() }
export function cls(p: Point): number { return p.x }
export function nested(h: Handler): Plain { return { id: 1, tags: [] } }
export function prom(p: Promise<number>): number { return 1 }
export function unknownName(x: Missing): number { return 1 }
export function ok(x: Plain): Promise<Plain> { return Promise.resolve(x) }

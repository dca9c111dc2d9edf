import { nativeTask } from "knitting";
import type { Imported } from "./elsewhere";

type Gen<T> = { v: T };

export const u = nativeTask<number | string, number>({ symbol: "u", library: "./l.so" });
export const m = nativeTask<Map<string, number>, number>({ symbol: "m", library: "./l.so" });
export const p = nativeTask<number, Promise<number>>({ symbol: "p", library: "./l.so" });
export const t = nativeTask<number, [number, number]>({ symbol: "t", library: "./l.so" });
export const o = nativeTask<[number, number?], number>({ symbol: "o", library: "./l.so" });
export const i = nativeTask<Imported, number>({ symbol: "i", library: "./l.so" });
export const g = nativeTask<Gen<number>, number>({ symbol: "g", library: "./l.so" });
export const k = nativeTask<{ "a-b": number }, number>({ symbol: "k", library: "./l.so" });
export const n = nativeTask({ symbol: "n", library: "./l.so" });
export const ok = nativeTask<number, number>({ symbol: "ok", library: "./l.so" });
// names C reserves: a member or a struct cannot take them, a parameter is renamed
export const kw = nativeTask<{ lat: number; long: number }, number>({ symbol: "kw", library: "./l.so" });
type size_t = { n: number };
export const st = nativeTask<size_t, number>({ symbol: "st", library: "./l.so" });
export const lbl = nativeTask<[char: number, default: string], number>({ symbol: "lbl", library: "./l.so" });
interface Base { x: number }
interface Derived extends Base { y: number }
export const ext = nativeTask<Derived, number>({ symbol: "ext", library: "./l.so" });
// an arg/result string goes to the runtime as it is: it cannot name a type
type Pt = { x: number; y: number };
export const str = nativeTask({ symbol: "str", library: "./l.so", arg: "[Pt, number]", result: "number" });
// one C function, one signature: the same symbol with other types is an error
export const same1 = nativeTask<[a: number], number>({ symbol: "same", library: "./l.so" });
export const same2 = nativeTask<[b: number], number>({ symbol: "same", library: "./l.so" });
export const same3 = nativeTask<string, number>({ symbol: "same", library: "./l.so" });

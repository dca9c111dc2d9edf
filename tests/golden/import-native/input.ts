import { importTask, nativeTask } from "knitting";

export const len = importTask<string, number>({ href: "./strings.ts", name: "len" });
export const crc = nativeTask<Uint8Array, number>({
  symbol: "crc32_bytes",
  library: "./libtasks.so",
  timeout: 2_000, // a literal travels in the table: its host never imports this module
});
// any other timeout cannot: a warning says so
export const slow = nativeTask<number, number>({ symbol: "slow", library: "./libtasks.so", timeout: { time: 5, default: 0 } });
// without generics the signature is data, in the same type syntax
export const dot = nativeTask({
  symbol: "dot",
  library: "./libtasks.so",
  arg: "[Float64Array,Float64Array]",
  result: "number",
});
// a local alias is spelled out in the table: the runtime parses the text
type Pt = { x: number; y: number };
export const mid = nativeTask<[a: Pt, b: Pt], Pt>({ symbol: "mid", library: "./libtasks.so" });

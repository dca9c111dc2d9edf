import { nativeTask, task } from "knitting";
import type { Imported } from "./elsewhere";

type Point = { x: number; y: number };
interface Labelled { name: string; at: Point; visible: boolean; id: bigint }
type Pair = [left: Float64Array, right: Float64Array];

export const crc = nativeTask<Uint8Array, number>({ symbol: "crc32_bytes", library: "./libtasks.so" });
export const dot = nativeTask<Pair, number>({ symbol: "dot", library: "./libtasks.so" });
export const mid = nativeTask<[Point, Point], Point>({ symbol: "mid", library: "./libtasks.so" });
export const relabel = nativeTask<[Labelled, string], Labelled>({ symbol: "relabel", library: "./libtasks.so" });
export const box = nativeTask<{ w: number; inner: { d: Int32Array } }, ArrayBuffer>({
  symbol: "box",
  library: "./libtasks.so",
});
// without generics: the signature as data
export const shout = nativeTask({ symbol: "shout", library: "./libtasks.so", arg: "string", result: "string" });
export const tick = nativeTask<void, void>({ symbol: "tick", library: "./libtasks.so" });
export const flags = nativeTask<[boolean, bigint], boolean>({ symbol: "flags", library: "./libtasks.so" });
// the same task under another name is emitted once
export { crc as crcAgain };
// JS tasks are not part of the C output
export const js = task<number, number>({ f: (x) => x });
// a tuple label C reserves names its parameter a<index>
export const geo = nativeTask<[lat: number, long: number], number>({ symbol: "geo", library: "./libtasks.so" });

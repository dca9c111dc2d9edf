import { importTask, nativeTask } from "knitting";

export const len = importTask<string, number>({ href: "./strings.ts", name: "len" });
export const crc = nativeTask<Uint8Array, number>({
  symbol: "crc32_bytes",
  library: "./libtasks.so",
});
// without generics the signature is data, in the same type syntax
export const dot = nativeTask({
  symbol: "dot",
  library: "./libtasks.so",
  arg: "[Float64Array,Float64Array]",
  result: "number",
});

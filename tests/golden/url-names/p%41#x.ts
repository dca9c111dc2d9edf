// File names with ", #, % and ?: the generated URLs (worker entries, task
// modules, libraries) percent-encode %, # and ?, and escape the string; the
// .d.ts import() paths stay file paths.
import { nativeTask } from "knitting";
export { sq } from './it"s.ts';
export { cube } from "./q?x.ts";
export { len } from "./t#1.ts";
export const crc = nativeTask<Uint8Array, number>({ symbol: "crc", library: "./lib%41#1.so" });

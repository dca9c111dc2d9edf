// The C task's signature, for `knitgen --c-stubs crc.ts -o DIR`: it writes
// DIR/crc.knit.h (the prototype crc.c includes) and DIR/crc.knit.c (the
// direct-call dispatch compiled into libcrc.so, so no libffi is involved).
import { nativeTask } from "knitting";

export const crcC = nativeTask<Uint8Array, number>({ symbol: "crc32", library: "./libcrc.so" });

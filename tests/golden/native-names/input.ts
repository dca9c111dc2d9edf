// Decoded export names of native tasks: the worker entry's placeholder
// message escapes them as a whole (a `"` or `\` must not end the string).
import { nativeTask } from "knitting";
const n = nativeTask<number, number>({ symbol: "sq", library: "./libsq.so" });
export { n as "q\"uote", n as "back\\slash" };

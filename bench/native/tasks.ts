// The native case's C task, for knitgen --c-stubs (bench/native/meson.build).
import { nativeTask } from "knitting";

export const echo = nativeTask<string, string>({ symbol: "echo", library: "./libecho_gen.so" });

import { nativeTask } from "knitting";
export const sq = nativeTask<number, number>({ symbol: "sq", library: "./libsq.so", timeout: -1 });
export const cube = nativeTask<number, number>({ symbol: "cube", library: "./libsq.so", timeout: - 0x10 });
export const ok = nativeTask<number, number>({ symbol: "ok", library: "./libsq.so", timeout: 100 });

import { task } from "knitting";

export const a = task({ f: (x: number): number => x });
const s = "never closed;
export const b = task({ f: (x: number): number => x });

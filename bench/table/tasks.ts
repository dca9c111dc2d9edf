// The tasks of bench/cases/table.mjs: knitgen makes table/gen/ from this
// file, and the same exports run through the run-time path.
import { task } from "knitting";

export const inc = task<number, number>({ f: (n: number): number => n + 1 });
export const hello = task<string, string>({ f: (s: string): string => s + " world" });

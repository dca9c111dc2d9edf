// Task module for the generated-table test: one of each task form.
import { importTask, nativeTask, task } from "knitting";
import { threadId } from "node:worker_threads";

export const add = task<[number, number], number>({ f: ([a, b]) => a + b });
export const inc = (x: number): number => x + 1;
export function greet(name: string): string {
  return `hello ${name}`;
}
export const shout = task({ f: async (s: string): Promise<string> => s.toUpperCase() });
export const where = (): number => threadId;
// Its timeout is known only to the worker: the table's host learns it there.
export const sleepy = task({
  timeout: { time: 30, default: "fallback" },
  f: async (ms: number): Promise<string> => {
    await new Promise((r) => setTimeout(r, ms));
    return "late";
  },
});
export const twice = importTask<number, number>({ href: "./imported.ts", name: "twice" });
export { add as plus } from "./more.ts";
// Types come from the generics; the library is relative to this module.
export const dot = nativeTask<[Float64Array, Float64Array], number>({ symbol: "dot", library: "./libffi_tasks.so" });
// A local alias reaches the table spelled out, as the runtime's parser reads it.
type Pt = { x: number; y: number };
export const mid = nativeTask<[a: Pt, b: Pt], Pt>({ symbol: "mid", library: "./libffi_tasks.so" });
// A literal timeout travels in the table; the C task stops when it passes.
export const nap = nativeTask<number, number>({ symbol: "work_ms", library: "./libffi_tasks.so", timeout: 50 });

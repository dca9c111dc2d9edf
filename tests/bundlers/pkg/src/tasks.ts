// The task module packed by tests/bundlers/package.sh: types knitgen spells
// out, types it leaves to the compiled .d.ts, a helper it does not follow,
// a re-export and an importTask.
import { importTask, task } from "knitting";
import { threadId } from "node:worker_threads";
import { normalize, type Point } from "./geometry.ts";

export const add = task<[number, number], number>({ f: ([a, b]) => a + b });

/** Point is an interface: the table's types come from lib/tasks.d.ts. */
export const unit = (p: Point): Point => normalize(p);

export function where(): number {
  return threadId;
}

export const twice = importTask<number, number>({ href: "./imported.ts", name: "twice" });
export { shout } from "./text.ts";

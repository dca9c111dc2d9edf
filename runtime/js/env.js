// Which side of a pool this thread is on.
import { workerData } from "node:worker_threads";

export const WORKER_FLAG = "__knitting";
export const TABLE = Symbol.for("knitting.table");

// False only inside a knitting worker: a user's own worker thread can still
// create pools of its own.
export const isMain = !(workerData && typeof workerData === "object" && workerData[WORKER_FLAG]);
export const workerConfig = isMain ? null : workerData[WORKER_FLAG];

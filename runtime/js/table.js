// The dispatch table that knitgen generates: task ids, names and types, and
// one worker entry per runtime that imports the task modules statically.
import { TABLE } from "./env.js";

export function defineTable(spec) {
  if (!spec || !Array.isArray(spec.tasks) || !spec.workers || typeof spec.workers !== "object") {
    throw new TypeError("defineTable({ tasks, workers }): malformed table (regenerate it with knitgen)");
  }
  return { [TABLE]: { tasks: spec.tasks.map((t) => ({ ...t })), workers: { ...spec.workers } } };
}

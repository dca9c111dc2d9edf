// knitting: shared-memory worker pools for Node.js, Deno and Bun.
export { task, importTask } from "./task.js";
export { nativeTask } from "./native.js";
export { createPool } from "./create-pool.js";
export { isMain } from "./env.js";
export { Envelope } from "./envelope.js";
export { defineTable } from "./table.js";

// Worker entry for pools built without knitgen: import each task's module
// and find the same export the host was given, then serve.
import { workerConfig } from "./env.js";
import { bootstrap, serveWorker } from "./serve.js";
import { IMPORT, POOL, TASK } from "./task.js";

function definitionOf(value) {
  if (value && value[TASK]) return value;
  if (value && value[POOL] && value.task && value.task[TASK]) return value.task;
  return null;
}

async function resolve(spec) {
  // Native tasks run on the pool's C threads; keep the index, never the call.
  if (spec.kind === "native") return () => { throw new Error(`knitting: native task "${spec.name}" reached a JS worker`); };
  const mod = await import(spec.href);
  const where = `${spec.href}`;
  switch (spec.kind) {
    case "import": {
      const value = mod[spec.exportName];
      if (value === undefined) throw new Error(`knitting: ${where} has no export "${spec.exportName}" (importTask "${spec.name}")`);
      if (value && value[IMPORT]) throw new Error(`knitting: importTask "${spec.name}" points at another importTask`);
      return value;
    }
    case "task": {
      for (const value of Object.values(mod)) {
        const def = definitionOf(value);
        if (def && def.site && def.site.href === spec.href && def.site.line === spec.line) return def;
      }
      throw new Error(`knitting: task "${spec.name}" (defined at ${where} line ${spec.line}) is not exported from its module; export it so workers can find it`);
    }
    case "function": {
      const named = mod[spec.fnName];
      if (typeof named === "function" && String(named) === spec.source) return named;
      const same = Object.values(mod).filter((v) => typeof v === "function" && String(v) === spec.source);
      if (same.length === 1) return same[0];
      throw new Error(`knitting: function task "${spec.name}" is not exported from ${where}; export it, or wrap it in task()`);
    }
    default:
      throw new Error(`knitting: unknown task kind ${spec.kind}`);
  }
}

await bootstrap(); // before the task modules: they may use what it sets up
const tasks = await Promise.all(workerConfig.tasks.map(resolve));
await serveWorker(tasks);

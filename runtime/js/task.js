// Task definitions. A definition is inert data: it records the function and
// where it was defined, so a worker can find the same export.
import { callerSite, siteBase } from "./site.js";
import { checkTimeout } from "./options.js";

export const TASK = Symbol.for("knitting.task");
export const IMPORT = Symbol.for("knitting.importTask");
export const POOL = Symbol.for("knitting.pool");

export function task(spec) {
  if (spec === null || typeof spec !== "object" || typeof spec.f !== "function") {
    throw new TypeError("task({ f }): f must be a function");
  }
  const definition = {
    [TASK]: true,
    f: spec.f,
    timeout: checkTimeout(spec.timeout, "task({ timeout })"),
    abortSignal: checkAbortSignal(spec.abortSignal),
    site: callerSite(),
    createPool(options) {
      return createSinglePool(definition, options);
    },
  };
  return definition;
}

function checkAbortSignal(value) {
  if (value === undefined) return undefined;
  if (value === true) return { hasAborted: true };
  if (value !== null && typeof value === "object" && typeof value.hasAborted === "boolean") return value;
  throw new TypeError("task({ abortSignal }): expected { hasAborted: true }");
}

export function importTask(spec) {
  if (spec === null || typeof spec !== "object") throw new TypeError("importTask({ href, name }) needs an object");
  const { href, name } = spec;
  if (typeof href !== "string" && !(href instanceof URL)) throw new TypeError("importTask({ href }): href must be a string or URL");
  if (typeof name !== "string" || !name) throw new TypeError("importTask({ name }): name must be a non-empty string");
  const site = callerSite();
  let resolved;
  try {
    resolved = new URL(String(href), siteBase(site)).href;
  } catch {
    throw new TypeError(`importTask({ href }): cannot resolve ${JSON.stringify(String(href))}`);
  }
  return {
    [IMPORT]: true,
    href: resolved,
    name,
    timeout: checkTimeout(spec.timeout, "importTask({ timeout })"),
    createPool(options) {
      return createSinglePool(this, options);
    },
  };
}

// Set by create-pool.js, which imports this module (avoids an import cycle).
let createSinglePool = () => {
  throw new Error("knitting: pool module not loaded");
};
export function setSinglePoolFactory(factory) {
  createSinglePool = factory;
}
export const createSinglePoolOf = (definition, options) => createSinglePool(definition, options);

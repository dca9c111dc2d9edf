// nativeTask(): a task whose body is a C function in a shared library. The
// definition is inert data, like task(): createPool() loads the library,
// finds the symbol and prepares the call (docs/native-tasks.md).
import { fileURLToPath } from "node:url";
import { callerSite, siteBase } from "./site.js";
import { checkTimeout } from "./options.js";
import { createSinglePoolOf } from "./task.js";

export const NATIVE = Symbol.for("knitting.nativeTask");

// A relative library path ("./x.so", "../lib/x.so") is relative to the
// module that declared the task; an absolute path or file: URL is taken as
// is; a bare name ("libz.so.1") goes to the dynamic loader's search path.
function resolveLibrary(library, site) {
  if (library instanceof URL) {
    if (library.protocol !== "file:") throw new TypeError(`nativeTask({ library }): ${library.href} is not a file: URL`);
    return fileURLToPath(library);
  }
  if (library.startsWith("file:")) return fileURLToPath(library);
  if (library.startsWith("./") || library.startsWith("../")) {
    return fileURLToPath(new URL(library, siteBase(site)));
  }
  return library;
}

function typeText(value, key) {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !value.trim()) throw new TypeError(`nativeTask({ ${key} }): ${key} must be a TypeScript type as a string, like "[Float64Array, Float64Array]"`);
  return value;
}

export function nativeTask(spec) {
  if (spec === null || typeof spec !== "object") throw new TypeError("nativeTask({ symbol, library }) needs an object");
  const { symbol, library } = spec;
  if (typeof symbol !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(symbol)) {
    throw new TypeError(`nativeTask({ symbol }): symbol must be a C identifier, got ${JSON.stringify(symbol)}`);
  }
  if (!(library instanceof URL) && (typeof library !== "string" || !library)) {
    throw new TypeError("nativeTask({ library }): library must be a path string or a file: URL");
  }
  const site = callerSite();
  const definition = {
    [NATIVE]: true,
    symbol,
    library: resolveLibrary(library, site),
    arg: typeText(spec.arg, "arg"),
    result: typeText(spec.result, "result"),
    timeout: checkTimeout(spec.timeout, "nativeTask({ timeout })"),
    site,
    createPool(options) {
      return createSinglePoolOf(definition, options);
    },
  };
  return definition;
}

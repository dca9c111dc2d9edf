// Where a task was defined: the one stack frame that called task() or
// createPool(). Host and worker evaluate the same module in the same
// runtime, so the line and column identify the definition on both sides.
import { pathToFileURL } from "node:url";

const ownDir = new URL(".", import.meta.url).href;
const framePattern = /((?:file:\/\/|\/)[^\s()]*?):(\d+):(\d+)\)?\s*$/;

function toHref(location) {
  return location.startsWith("file://") ? location : pathToFileURL(location).href;
}

// What a relative href is resolved against: the module at @site, else (no
// module on the stack, e.g. eval) the working directory.
export function siteBase(site) {
  return site?.href ?? pathToFileURL(`${process.cwd()}/`).href;
}

export function callerSite() {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 32;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  for (const line of stack.split("\n").slice(1)) {
    const m = framePattern.exec(line);
    if (!m) continue;
    const href = toHref(m[1]);
    if (href.startsWith(ownDir)) continue;
    return { href, line: Number(m[2]), col: Number(m[3]) };
  }
  return null;
}


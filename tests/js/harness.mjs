// A tiny test harness that runs the same way under node, deno and bun.
// Each test file registers tests with test() and calls run() once.
import assert from "node:assert/strict";

const tests = [];
export function test(name, fn, { timeoutMs = 30000 } = {}) {
  tests.push({ name, fn, timeoutMs });
}

export async function run(file) {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${t.timeoutMs} ms`)), t.timeoutMs);
    });
    try {
      await Promise.race([t.fn(), timeout]);
      passed++;
      console.log(`ok - ${t.name}`);
    } catch (err) {
      failed++;
      console.log(`not ok - ${t.name}\n  ${String(err?.stack ?? err).split("\n").join("\n  ")}`);
    } finally {
      clearTimeout(timer);
    }
  }
  console.log(`# ${file}: ${passed} passed, ${failed} failed`);
  if (failed) process.exitCode = 1;
}

// Settles with { ok, value } instead of throwing, for checking rejections.
export async function settle(promise) {
  try {
    return { ok: true, value: await promise };
  } catch (value) {
    return { ok: false, value };
  }
}

export async function rejectsWith(promise, Kind, pattern) {
  const r = await settle(promise);
  assert.equal(r.ok, false, `expected a rejection, got ${String(r.value)}`);
  assert.ok(r.value instanceof Kind, `expected ${Kind.name}, got ${r.value?.constructor?.name}: ${r.value?.message ?? r.value}`);
  if (pattern) assert.match(r.value.message, pattern);
  return r.value;
}

export { assert };

// A task that throws: the caller gets a real Error with the same name,
// message, stack and cause; a non-Error throw arrives as its value.
import { createPool, isMain, task } from "knitting";
import { assert, run, settle, test } from "./harness.mjs";

class DomainError extends Error {
  constructor(msg) {
    super(msg);
    this.name = "DomainError";
    this.code = "E_DOMAIN";
  }
}
export const fail = task({
  f: (kind) => {
    if (kind === "plain") throw new Error("plain failure");
    if (kind === "type") throw new TypeError("bad type");
    if (kind === "range") throw new RangeError("out of range");
    if (kind === "cause") throw new Error("outer", { cause: new Error("inner", { cause: 7 }) });
    if (kind === "custom") throw new DomainError("custom failure");
    if (kind === "string") throw "a string";
    if (kind === "object") throw { code: 42 };
    if (kind === "unsendable") throw { f() {} };
    return "no throw";
  },
});
export const failAsync = task({ f: async () => { await null; throw new Error("async failure"); } });

if (isMain) {
  const pool = createPool({ threads: 1 })({ fail, failAsync });

  test("an Error keeps its class, message and the worker's stack", async () => {
    const r = await settle(pool.call.fail("plain"));
    assert.ok(r.value instanceof Error);
    assert.equal(r.value.message, "plain failure");
    assert.match(r.value.stack, /plain failure/);
    assert.match(r.value.stack, /errors\.test\.mjs/, "the stack points into the task's module");
  });

  test("built-in error classes stay themselves", async () => {
    assert.ok((await settle(pool.call.fail("type"))).value instanceof TypeError);
    assert.ok((await settle(pool.call.fail("range"))).value instanceof RangeError);
  });

  test("cause chains and custom names and properties survive", async () => {
    const e = (await settle(pool.call.fail("cause"))).value;
    assert.equal(e.cause.message, "inner");
    assert.equal(e.cause.cause, 7);
    const c = (await settle(pool.call.fail("custom"))).value;
    assert.ok(c instanceof Error);
    assert.equal(c.name, "DomainError");
    assert.equal(c.code, "E_DOMAIN");
  });

  test("a non-Error throw arrives as its value", async () => {
    assert.equal((await settle(pool.call.fail("string"))).value, "a string");
    assert.deepEqual((await settle(pool.call.fail("object"))).value, { code: 42 });
  });

  test("an unsendable throw becomes an Error that says so", async () => {
    const e = (await settle(pool.call.fail("unsendable"))).value;
    assert.ok(e instanceof Error);
  });

  test("async rejections arrive as Errors", async () => {
    const e = (await settle(pool.call.failAsync())).value;
    assert.ok(e instanceof Error);
    assert.equal(e.message, "async failure");
    assert.equal(await pool.call.fail("none"), "no throw");
  });

  await run("errors");
  await pool.shutdown();
}

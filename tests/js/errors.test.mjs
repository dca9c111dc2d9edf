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
    if (kind === "self-cause") {
      const e = new Error("loops", { cause: null });
      e.cause = e;
      throw e;
    }
    if (kind === "bad-parts") {
      const e = new DomainError("keeps its message");
      e.socket = new (class Socket {})();
      e.handler = () => 1;
      Object.defineProperty(e, "late", { enumerable: true, get() { throw new Error("no"); } });
      e.status = 503;
      throw e;
    }
    if (kind === "throwing-stack") {
      const e = new Error("no stack to read");
      Object.defineProperty(e, "stack", { get() { throw new Error("stack getter"); } });
      throw e;
    }
    if (kind === "deep-cause") {
      let e = new Error("0");
      for (let i = 1; i < 300; i++) e = new Error(String(i), { cause: e });
      throw e;
    }
    if (kind === "big-parts") {
      const e = new TypeError("upstream returned 502", { cause: { body: "c".repeat(10_000) } });
      e.code = "E_UPSTREAM";
      e.body = "x".repeat(10_000); // an HTTP client's response body, say
      throw e;
    }
    if (kind === "dom") return atob("***"); // a DOMException: not an Error to Node-API on node 20 and bun
    if (kind === "aggregate") throw new AggregateError([new Error("a"), new TypeError("b")], "both failed");
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

  // The same on a worker and on the host's inliner lane, which clones what
  // a worker would send.
  const host = createPool({ threads: 0, inliner: { position: "first" }, payload: { maxPayloadBytes: 4096 } })({ fail });
  for (const [where, on] of [["a worker", pool], ["the inliner", host]]) test(`an Error with parts that cannot be sent keeps its name, message and stack (${where})`, async () => {
    // The parts that cannot travel are dropped, not the error: a cause that
    // cannot is replaced by a string that says why.
    const self = (await settle(on.call.fail("self-cause"))).value;
    assert.equal(self.message, "loops");
    assert.match(self.stack, /loops/);
    assert.equal(self.cause, "cause not sent: a cyclic value cannot be sent");
    const parts = (await settle(on.call.fail("bad-parts"))).value;
    assert.equal(parts.name, "DomainError");
    assert.equal(parts.message, "keeps its message");
    assert.equal(parts.code, "E_DOMAIN");
    assert.equal(parts.status, 503);
    assert.deepEqual(["socket", "handler", "late"].filter((k) => k in parts), []);
    const stackless = (await settle(on.call.fail("throwing-stack"))).value;
    assert.equal(stackless.message, "no stack to read");
    let deep = (await settle(on.call.fail("deep-cause"))).value;
    let depth = 0;
    for (; deep instanceof Error; deep = deep.cause) assert.equal(deep.message, String(299 - depth++));
    // The chain ends where it stopped fitting: at the depth limit, or at the
    // inliner pool's 4 KiB limit (without a reason if even that would not fit).
    if (deep !== undefined) assert.match(deep, /^cause not sent: payload (nests deeper than 128 levels|exceeds the limit of 4096 bytes)/);
    else assert.equal(where, "the inliner");
    assert.ok(depth > 2, `${depth} causes arrived`);
    assert.equal(await on.call.fail("none"), "no throw");
  });

  const small = createPool({ threads: 1, payload: { maxPayloadBytes: 4096 } })({ fail });
  for (const [where, on] of [["a worker", small], ["the inliner", host]]) test(`an Error whose parts exceed the payload limit loses those parts only (${where})`, async () => {
    const big = (await settle(on.call.fail("big-parts"))).value;
    assert.ok(big instanceof TypeError, String(big));
    assert.equal(big.message, "upstream returned 502");
    assert.equal(big.code, "E_UPSTREAM");
    assert.equal("body" in big, false, "a part over the payload limit is left out");
    assert.match(big.cause, /^cause not sent: payload exceeds the limit of 4096 bytes/);
  });

  test("a thrown DOMException arrives as a DOMException with its name, code, message and stack", async () => {
    const e = (await settle(pool.call.fail("dom"))).value;
    assert.ok(e instanceof DOMException, String(e));
    assert.equal(e.name, "InvalidCharacterError");
    assert.equal(e.code, DOMException.INVALID_CHARACTER_ERR);
    assert.ok(e.message.length > 0);
    assert.equal(typeof e.stack, "string");
  });

  test("the inliner holds arguments to the pool's payload limit", async () => {
    const r = await settle(host.call.fail("x".repeat(5000)));
    assert.ok(r.value instanceof RangeError, String(r.value));
    assert.equal(await host.call.fail("none"), "no throw");
  });

  test("an AggregateError keeps its errors", async () => {
    const e = (await settle(pool.call.fail("aggregate"))).value;
    assert.ok(e instanceof AggregateError);
    assert.equal(e.message, "both failed");
    assert.equal(e.errors.length, 2);
    assert.ok(e.errors[1] instanceof TypeError);
    assert.equal(e.errors[1].message, "b");
  });

  test("async rejections arrive as Errors", async () => {
    const e = (await settle(pool.call.failAsync())).value;
    assert.ok(e instanceof Error);
    assert.equal(e.message, "async failure");
    assert.equal(await pool.call.fail("none"), "no throw");
  });

  await run("errors");
  await pool.shutdown();
  await host.shutdown();
  await small.shutdown();
}

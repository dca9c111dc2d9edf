// Issue 9 (found by tests/js/props.test.mjs): the JS decoder
// (runtime/napi/convert.c) built objects by assignment and looked Error
// names up through the prototype chain. So
//   - an object key "__proto__" (JSON.parse makes such keys from untrusted
//     text) set the decoded object's prototype instead of a key: the task saw
//     inherited attacker data, and the value could not be sent back;
//   - an Error named "constructor" arrived as a String object, and one named
//     "toString", "hasOwnProperty" or "__proto__" failed the call (once with
//     `undefined` as the rejection, not an Error).
// Now keys are defined as own properties, and names match own entries only.
import { createPool, isMain, task } from "knitting";
import { assert, run, test } from "../../js/harness.mjs";

export const echo = task({ f: (x) => x });
export const inspect = task({
  f: (x) => ({
    plain: Object.getPrototypeOf(x) === Object.prototype,
    keys: Object.keys(x),
    inherited: x.polluted,
    own: Object.getOwnPropertyDescriptor(x, "__proto__")?.value,
  }),
});

if (isMain) {
  const pool = createPool({ threads: 1 })({ echo, inspect });
  const host = createPool({ threads: 0, inliner: { position: "first" } })({ echo, inspect });

  for (const [label, p] of [["a worker", pool], ["the host codec", host]]) {
    test(`a "__proto__" key stays an own key through ${label}`, async () => {
      const o = JSON.parse('{"__proto__": {"polluted": 1}, "a": 2}');
      const seen = await p.call.inspect(o);
      assert.deepEqual(seen, { plain: true, keys: ["__proto__", "a"], inherited: undefined, own: { polluted: 1 } });
      const back = await p.call.echo(o);
      assert.equal(Object.getPrototypeOf(back), Object.prototype);
      assert.deepEqual(Object.keys(back), ["__proto__", "a"]);
      assert.equal(back.polluted, undefined);
      assert.deepEqual(Object.getOwnPropertyDescriptor(back, "__proto__").value, { polluted: 1 });
    });

    test(`Errors named after Object.prototype members round-trip through ${label}`, async () => {
      for (const name of ["constructor", "toString", "hasOwnProperty", "valueOf", "__proto__", "isPrototypeOf"]) {
        const e = new Error("m");
        e.name = name;
        const back = await p.call.echo(e);
        assert.ok(back instanceof Error, `${name}: got ${Object.prototype.toString.call(back)}`);
        assert.equal(back.constructor, Error, name);
        assert.equal(back.name, name);
        assert.equal(back.message, "m");
      }
    });

    test(`an Error's own "__proto__" property stays a property through ${label}`, async () => {
      const e = new TypeError("m");
      Object.defineProperty(e, "__proto__", { value: { evil: 1 }, enumerable: true, writable: true, configurable: true });
      e.code = "E_X";
      const back = await p.call.echo(e);
      assert.ok(back instanceof TypeError);
      assert.equal(back.evil, undefined);
      assert.equal(back.code, "E_X");
      assert.deepEqual(Object.getOwnPropertyDescriptor(back, "__proto__")?.value, { evil: 1 });
    });
  }

  test("shutdown", async () => {
    await pool.shutdown();
    await host.shutdown();
  });
  await run("issue-9/decode-keys.test.mjs");
}

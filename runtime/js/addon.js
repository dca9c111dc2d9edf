// Loads knit.node once per thread and hands it the built-ins its codec uses.
import { createRequire } from "node:module";
import { Buffer } from "node:buffer";
import { Envelope } from "./envelope.js";

const require = createRequire(import.meta.url);
const ownKeys = Object.keys; // as loaded: later patches do not change what is sent
const apply = Reflect.apply; // as loaded, like ownKeys
const isArray = Array.isArray; // likewise
const Aggregate = AggregateError; // likewise
const Compile = Function; // likewise
const stringLiteral = JSON.stringify; // a string in, a JS string literal out
export const knit = require("./knit.node");
export const runtime =
  typeof globalThis.Bun !== "undefined" ? "bun" : typeof globalThis.Deno !== "undefined" ? "deno" : "node";
const take = knit.takeItems;
// Items per take(), clear of every engine's argument limit. On bun a call
// into the addon costs more than the Node-API reads it saves (obj of 2 keys
// 350 vs 346 ns, 5 keys 500 vs 450), so bun hands over the flat array.
const TAKE_MAX = runtime === "bun" ? 0 : 8192;
const NO_ITEMS = Object.freeze([]);
// The decoder calls an error class with new and the message; an
// AggregateError's errors come after, with the other properties.
function aggregateError(message) {
  return new Aggregate([], message);
}
// The call words (knit_env.args, enum knit_arg in common.h, same order):
// the scalar arguments and results of the per-call functions, written in
// place rather than passed as N-API values, which cost a Node-API call each
// to read. The addon makes them, one set per thread.
const callArgs = knit.callArgs;
const TASK = 0, CALL = 1, AUX = 2, CODEC = 3, PUBLISH = 4, STATUS = 5, RESULT = 6;

function setRequest(task, call, token, publish) {
  callArgs[TASK] = task;
  callArgs[CALL] = call;
  callArgs[AUX] = token;
  callArgs[PUBLISH] = publish ? 1 : 0;
}

// knit.submit: 0 staged, -1 lane full, 1 + a stash token (runtime/napi/host.c).
export function submit(lane, task, call, value, token, codec, publish) {
  setRequest(task, call, token, publish);
  callArgs[CODEC] = codec;
  knit.submit(lane, value);
  return callArgs[RESULT];
}

export function submitStashed(lane, task, call, stashed, token, publish) {
  setRequest(task, call, token, publish);
  knit.submitStashed(lane, stashed);
  return callArgs[RESULT];
}

// knit.respond: 0 staged, -1 lane full.
export function respond(lane, call, status, value) {
  callArgs[CALL] = call;
  callArgs[STATUS] = status;
  knit.respond(lane, value);
  return callArgs[RESULT];
}

knit.init({
  objectProto: Object.prototype,
  Map,
  Set,
  bufferProto: Buffer.prototype,
  Envelope,
  // Not an Error to Node-API on node 20 and bun; a stand-in where missing.
  DOMException: globalThis.DOMException ?? class NoDOMException {},
  symbolFor: Symbol.for,
  symbolKeyFor: Symbol.keyFor,
  mapEntries(map) {
    const flat = [];
    for (const [k, v] of map) flat.push(k, v);
    return flat.length > TAKE_MAX ? flat : apply(take, undefined, flat);
  },
  setValues(set) {
    const values = [...set];
    return values.length > TAKE_MAX ? values : apply(take, undefined, values);
  },
  listItems: (array) => apply(take, undefined, array),
  takeMax: TAKE_MAX,
  // A plain object's own enumerable string keys and their values, handed
  // to the encoder as take()'s arguments (flat, as an array, when too many
  // for one call): the engine reads them far faster than one Node-API call
  // per key could.
  objectEntries(obj) {
    const keys = ownKeys(obj);
    if (keys.length === 0) return NO_ITEMS;
    // One and two keys, the common records, skip the array: {msg,id} 290 -> 248 ns
    // to encode on node 24, 430 -> 380 on deno.
    if (TAKE_MAX && keys.length === 1) return take(keys[0], obj[keys[0]]);
    if (TAKE_MAX && keys.length === 2) return take(keys[0], obj[keys[0]], keys[1], obj[keys[1]]);
    const flat = new Array(keys.length * 2);
    for (let i = 0; i < keys.length; i++) {
      flat[2 * i] = keys[i];
      flat[2 * i + 1] = obj[keys[i]];
    }
    return flat.length > TAKE_MAX ? flat : apply(take, undefined, flat);
  },
  // A function that makes a plain object with these keys from its values,
  // in order: a literal, which defines (never assigns) its properties, with
  // "__proto__" as a computed key so that it stays a key. null where the
  // engine may not compile code (an EvalError; anything else, a stack
  // overflow say, is thrown and the addon tries again later).
  objectShape(...keys) {
    // Loops, not map/join: nothing user code may patch runs here.
    let params = "", props = "";
    for (let i = 0; i < keys.length; i++) {
      const name = keys[i] === "__proto__" ? '["__proto__"]' : stringLiteral(keys[i]);
      params += `${i ? ", " : ""}v${i}`;
      props += `${i ? ", " : ""}${name}: v${i}`;
    }
    try {
      return new Compile(params, `return { ${props} };`);
    } catch (err) {
      if (err instanceof EvalError) return null;
      throw err;
    }
  },
  // An array of its arguments: the addon's way to make an array of many
  // values, which the engine builds far faster than Node-API fills one.
  pack: (...values) => values,
  // Joins the chunks pack() made of a long array. An index loop: patched
  // iterators, concat, species or isConcatSpreadable play no part.
  concat(...chunks) {
    const out = chunks[0];
    for (let c = 1; c < chunks.length; c++) {
      const chunk = chunks[c];
      for (let i = 0; i < chunk.length; i++) out[out.length] = chunk[i];
    }
    return out;
  },
  // An object whose prototype reads as null that is an array all the same (a
  // Proxy over one): a plain copy of what its traps show, else null; its
  // length alone if that is over @room (every item takes a byte at least).
  // An index loop, like concat.
  arrayCopy(value, room) {
    if (!isArray(value)) return null;
    const n = value.length;
    if (!(n <= room)) return n;
    const out = new Array(n);
    for (let i = 0; i < n; i++) out[i] = value[i];
    return out;
  },
  mapFrom(flat) {
    const map = new Map();
    for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
    return map;
  },
  setFrom: (values) => new Set(values),
  errors: { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError: aggregateError },
});

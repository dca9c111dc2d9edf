// Raw worker_threads peer: [id, fn, arg] in, [id, result] out.
import { parentPort } from "node:worker_threads";
import { fns } from "./fns.mjs";
const table = [fns.echo, fns.echoObj, fns.same, fns.primes];
parentPort.on("message", (m) => {
  parentPort.postMessage([m[0], table[m[1]](m[2])]);
});

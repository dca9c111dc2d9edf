// piscina / tinypool worker: named exports, picked with run(arg, { name }).
export { echo, echoObj, same, primes } from "./fns.mjs";
export default (x) => x;

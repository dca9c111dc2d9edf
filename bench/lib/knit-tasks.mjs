// knitting's task module: the worker imports this file and finds the exports.
import { task } from "knitting";
import * as F from "./fns.mjs";

export const echo = task({ f: F.echo });
export const echoObj = task({ f: F.echoObj });
export const same = task({ f: F.same });
export const primes = task({ f: F.primes });
export const all = { echo, echoObj, same, primes };

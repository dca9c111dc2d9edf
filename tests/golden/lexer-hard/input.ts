import { task } from "knitting";

const a = 10, b = 2, g = 1;
const div = a / b / g;
const re = /[/"'`]+\/export const no1 = task\//gi;
const tpl = `x ${ `y ${ { k: "}" }.k } \` ` } export const no2 = task({}) ${a}`;
const inc = a++ / 2;
const nums = [0x1F_FFn, 1_000.5e-3, 0b1010, 0o17, .5, 10n];
function f() { return /re}/.test("x") }
if (a) /foo/.test("y");
const \u0061bc = 1, ünï = 2;
const q = a?.5:1;

export const after = task({ f: (x: string): number => x.length });
export function ünïcode(s: string): string { return s }
export const last = (m: Map<string, Array<number>>): Set<bigint> => new Set();

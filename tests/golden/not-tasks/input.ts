import { task } from "knitting";

export type Fn = (x: number) => number;
export interface Shape { area(): number }
export class Circle { constructor(public r: number) {} }
export abstract class Base {}
export enum Color { Red, Green }
export const enum Flag { A = 1 }
export const LIMIT = 10, NAME = "x", CONFIG = { f: (x: number) => x };
export let counter = 0;
export const { a, b: [c] } = { a: 1, b: [2] };
export declare function ambient(x: number): number;
export namespace NS { export const inner = task({ f: (x: number) => x }); }
export default function main() {}
export const pool = task({ f: (x: number) => x }).map(1);

const local = task({ f: (x: number) => x });
function helper(x: number): number { return x }

// export const c1 = task({ f: (x: number) => x });
/* export const c2 = task({ f: (x: number) => x }); */
const s1 = "export const c3 = task({ f: (x: number) => x })";
const s2 = 'export function c4(x: number) {}';
const t1 = `export const c5 = task({}) ${"}"} export function c6() {}`;
const r1 = /export function c7\(\) {}/g;

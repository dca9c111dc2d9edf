// followed: named re-exports, export *, index files, .js naming .ts, cycles
export { square } from "./math";
export { default as main, helper as help } from "./lib";
export * from "./strings.js";
export * from "./sub/a";
export * from "knitting"; // a package: not followed

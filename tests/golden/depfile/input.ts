export { a } from "./a";
export * from "./b";

export { a } from "./nowhere";
export * from "../../outside/of/everything";
export { nothing } from "./present";
export function ok(x: number): number { return x }

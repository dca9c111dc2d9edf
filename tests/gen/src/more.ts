export { add } from "./tasks.ts";

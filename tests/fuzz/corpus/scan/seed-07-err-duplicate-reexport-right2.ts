export { common } from "./right";

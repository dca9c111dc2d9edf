import { isMain, task } from "knitting";
export const world = task({ f: (args) => args + " world" }).createPool();
if (isMain) {
  world.call("hello").then(console.log).finally(world.shutdown);
}

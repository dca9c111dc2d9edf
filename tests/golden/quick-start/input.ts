import { isMain, task } from "knitting";

export const world = task({
  f: async () => "world",
}).createPool();

export const hello = task({
  f: async (): Promise<string> => "hello",
});

if (isMain) {
  const pool = world;
  console.log(await pool.call.world());
}

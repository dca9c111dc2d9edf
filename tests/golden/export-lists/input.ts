import { task } from "knitting";

const plus = task({ f: (p: [number, number]): number => p[0] + p[1] });
function shout(s: string): string { return s + "!" }
const alias = plus;
const notATask = 42;

export { plus as add, shout };
export { alias };
export { notATask };

import { task } from "knitting";

export const twice = task({ f: (x: number) => x });
export function twice(x: string) {}
const other = task({ f: (x: number) => x });
export { other, other as again, other };

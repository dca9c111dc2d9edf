// A remote importTask href gets no static import in the worker entries (it
// would fail every task at worker start and skip allowRemoteModules): a lazy
// wrapper loads it on first call, and the table carries the href for
// createPool's allowRemoteModules check. file: and relative hrefs stay static.
import { importTask } from "knitting";
export const dbl = importTask<number, number>({ href: "https://example.invalid/x.js", name: "dbl" });
export const dbl2 = importTask<number, number>({ href: "https://example.invalid/x.js", name: "q\"uote" });
export const loose = importTask({ href: "data:text/javascript,export const f = (x) => x", name: "f" });
export const local = importTask<string, number>({ href: "file:///srv/strings.js", name: "len" });
export function inc(x: number): number { return x + 1 }

export function ok(x: number): number { return x }
const t = `a ${ "nested" } and then
  forever

const x = 1;
const r = /abc[/;
export function ok(x: number): number { return x }

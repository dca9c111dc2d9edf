export function ok(x: number): number { return x }

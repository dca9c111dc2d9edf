export function sq(x: number): number { return x * x }

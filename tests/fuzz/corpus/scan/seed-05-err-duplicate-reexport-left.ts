export function shared(x: number): number { return x }

export function dep(x: number): number { return x }

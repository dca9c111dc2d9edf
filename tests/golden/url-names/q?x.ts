export function cube(x: number) { return x * x * x }

export function b(x: string): string { return x }

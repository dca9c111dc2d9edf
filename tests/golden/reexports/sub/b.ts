export * from "./a"; // a cycle
export function fromB(d: Date): string { return d.toISOString() }

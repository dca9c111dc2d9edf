export function bom(x: number): number { return x }
// a byte order mark before line 1 is not part of the first token

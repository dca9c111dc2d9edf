export function shared(x: string): string { return x }
export function common(x: number): number { return x }

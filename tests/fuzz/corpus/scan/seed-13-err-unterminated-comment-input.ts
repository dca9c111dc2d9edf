export function ok(x: number): number { return x }
/* this comment
   never ends
export function lost(x: number): number { return x }

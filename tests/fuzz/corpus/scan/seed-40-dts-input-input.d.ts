// A declaration file: signatures without bodies are not tasks.
export function amb(x: number): number;
export declare function amb2(x: number): number;
export function over(x: number): number;
export function over(x: string): string;
export const c: (x: number) => number;
